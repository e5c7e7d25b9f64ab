"""Scale-out: WORKER_TASK_QUEUES lets one worker serve the jobs queue and others the
marketplace queues; a job needs both and completes across them."""

from __future__ import annotations

import asyncio

from temporalio.testing import WorkflowEnvironment

from domain.marketplaces import ALL_MARKETPLACES
from domain.status import JobStatus
from tests.factories import job_input
from tests.workflow.harness import running_workers, start_job
from tests.workflow.stand_ins import StandInMarketplaces
from tests.workflow.test_job_workflow import signed
from workflows.job import JobWorkflow

MARKETPLACE_QUEUES = "marketplace-ebay marketplace-etsy marketplace-vinted"


async def test_jobs_and_marketplace_queues_served_by_separate_workers(
    time_env: WorkflowEnvironment,
):
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins, task_queues="jobs"):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, signed())
        await asyncio.sleep(1)  # only the jobs queue is served: no marketplace call can run
        assert not any(stand_ins.calls.values())
        async with running_workers(time_env.client, stand_ins, task_queues=MARKETPLACE_QUEUES):
            view = await handle.result()
    assert view.status is JobStatus.COMPLETED
    assert all(len(stand_ins.published[m]) == 1 for m in ALL_MARKETPLACES)
