"""Run JobWorkflow on a test server with stand-in marketplaces, and read it back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from config.settings import Settings
from domain.job import JobInput, JobView
from domain.listing_entity import listing_workflow_id, with_listing_progress
from domain.marketplaces import JOB_TASK_QUEUE
from domain.status import JobStatus
from tests.support.callback_receiver import CALLBACK_SECRET
from tests.workflow.stand_ins import StandInMarketplaces
from worker import build_workers, run_workers
from workflows.job import JobWorkflow
from workflows.listing import ListingWorkflow


@asynccontextmanager
async def running_workers(
    client: Client,
    stand_ins: StandInMarketplaces,
    *,
    sandbox: str = "strict",
    task_queues: str = "",
) -> AsyncIterator[None]:
    """The real worker builder, with stand-in activities registered under the real names;
    ``task_queues`` is WORKER_TASK_QUEUES (empty: every queue)."""
    settings = Settings(
        ebay_rate_limit=1000,
        etsy_rate_limit=1000,
        vinted_rate_limit=1000,
        worker_task_queues=task_queues,
        worker_workflow_sandbox=sandbox,
        # Completion callbacks go to local receivers (tests/support/callback_receiver.py).
        callback_signing_secret=CALLBACK_SECRET,
        callback_allow_http=True,
        callback_allow_private=True,
    )
    workers = build_workers(client, settings, stand_ins.activities())
    stop = asyncio.Event()
    task = asyncio.create_task(run_workers(workers, stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def start_job(client: Client, job_input: JobInput) -> WorkflowHandle[JobWorkflow, JobView]:
    return await client.start_workflow(
        JobWorkflow.run, job_input, id=job_input.job_id, task_queue=JOB_TASK_QUEUE
    )


async def wait_for(
    handle: WorkflowHandle[JobWorkflow, JobView],
    predicate: Callable[[JobView], bool],
    within: float = 20.0,
) -> JobView:
    """Poll the status query until ``predicate`` holds (for states where the run stays open)."""
    return await _poll(lambda: handle.query(JobWorkflow.status), predicate, within)


async def _poll(
    view: Callable[[], Awaitable[JobView]], predicate: Callable[[JobView], bool], within: float
) -> JobView:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        current = await view()
        if predicate(current):
            return current
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; last view: {current.model_dump_json()}")
        await asyncio.sleep(0.05)


async def wait_for_progress(
    client: Client,
    handle: WorkflowHandle[JobWorkflow, JobView],
    predicate: Callable[[JobView], bool],
    within: float = 20.0,
) -> JobView:
    """``wait_for`` on the view ``GET /status`` shows: while the job runs, its marketplaces
    as the listing entity already placed them (``with_listing_progress``)."""

    async def view() -> JobView:
        job = await handle.query(JobWorkflow.status)
        if job.sku is None or job.status is not JobStatus.RUNNING:
            return job
        entity = client.get_workflow_handle_for(ListingWorkflow.run, listing_workflow_id(job.sku))
        try:
            listing = await entity.query(ListingWorkflow.view)
        except RPCError:  # no entity yet
            return job
        return with_listing_progress(job, listing)

    return await _poll(view, predicate, within)


def has_status(*statuses: JobStatus) -> Callable[[JobView], bool]:
    return lambda view: view.status in statuses
