"""BatchWorkflow in the time-skipping test server: one payment, released children, progress."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import build_services
from api.schemas import StartJobRequest
from api.services.batches import BatchService
from config.settings import Settings
from domain.batch import BatchView, child_job_id
from domain.job import JobView
from domain.marketplaces import Marketplace
from domain.messages import CancelRequest, SignedInput
from domain.status import JobStatus
from tests.factories import start_job_body
from tests.workflow.harness import running_workers
from tests.workflow.stand_ins import Behaviour, StandInMarketplaces
from workflows.batch import BatchWorkflow
from workflows.job import JobWorkflow


def _settings(concurrency: int = 50, payment_timeout: timedelta = timedelta(hours=12)) -> Settings:
    return Settings(batch_concurrency=concurrency, payment_timeout=payment_timeout)


def _jobs(count: int, **body: object) -> list[StartJobRequest]:
    return [
        StartJobRequest.model_validate(start_job_body(marketplaces=["ebay"], **body))
        for _ in range(count)
    ]


async def _start(
    client: Client, jobs: list[StartJobRequest], settings: Settings
) -> tuple[str, BatchService]:
    batches = build_services(client, settings).batches
    batch_id, created = await batches.create(jobs, None)
    assert created
    return batch_id, batches


def _pay() -> SignedInput:
    return SignedInput(data={"payment_id": "b1"}, signature="v1,x=", received_at=datetime.now(UTC))


async def _progress(client: Client, batch_id: str) -> BatchView:
    return await client.get_workflow_handle_for(BatchWorkflow.run, batch_id).query(
        BatchWorkflow.progress
    )


async def test_batch_progress_tracking(time_env: WorkflowEnvironment):
    """Seed 002 test_batch_job_progress_tracking, adapted: 3 listings; progress only ever
    reads 0, 33, 66, 100 and the batch ends completed."""
    stand_ins = StandInMarketplaces(behaviours={Marketplace.EBAY: Behaviour(delay=0.3)})
    async with running_workers(time_env.client, stand_ins):
        batch_id, _ = await _start(time_env.client, _jobs(3), _settings(concurrency=1))
        handle = time_env.client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
        seen = [(await handle.query(BatchWorkflow.progress)).progress]
        await handle.signal(BatchWorkflow.provide_input, _pay())
        while seen[-1] < 100:
            await asyncio.sleep(0.05)
            seen.append((await handle.query(BatchWorkflow.progress)).progress)
        final = await handle.result()
    assert set(seen) <= {0, 33, 66, 100}, seen
    assert seen == sorted(seen), "progress never goes back"
    assert {33, 66} & set(seen), "intermediate progress is visible"
    assert final.status is JobStatus.COMPLETED and final.progress == 100
    assert final.counts[JobStatus.COMPLETED] == 3


async def test_children_wait_for_the_batch_payment_then_skip_their_own(
    time_env: WorkflowEnvironment,
):
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins):
        batch_id, _ = await _start(time_env.client, _jobs(2), _settings())
        child = time_env.client.get_workflow_handle_for(JobWorkflow.run, child_job_id(batch_id, 0))
        assert (await child.query(JobWorkflow.status)).status is JobStatus.AWAITING_PAYMENT
        # Input sent to a child itself does not release it: it is paid through its batch.
        await child.signal(JobWorkflow.provide_input, _pay())
        await asyncio.sleep(0.3)
        assert not stand_ins.calls[Marketplace.EBAY]
        await time_env.client.get_workflow_handle_for(BatchWorkflow.run, batch_id).signal(
            BatchWorkflow.provide_input, _pay()
        )
        final = await time_env.client.get_workflow_handle_for(BatchWorkflow.run, batch_id).result()
        child_view: JobView = await child.result()
        events = await child.query(JobWorkflow.events)
    assert final.status is JobStatus.COMPLETED
    assert child_view.status is JobStatus.COMPLETED
    types = [e.type for e in events]
    assert "input.ignored" in types and "batch.released" in types
    running = next(e for e in events if e.type == "job.running")
    assert running.detail["input_source"] == "batch"


async def test_concurrent_batches_without_races(time_env: WorkflowEnvironment):
    """Seed 002 test_concurrent_job_execution, adapted: 3 batches of 4 at once, each
    completes with its own counts; every listing published exactly once."""
    stand_ins = StandInMarketplaces(behaviours={Marketplace.EBAY: Behaviour(delay=0.05)})
    async with running_workers(time_env.client, stand_ins):
        started = await asyncio.gather(
            *(_start(time_env.client, _jobs(4), _settings(concurrency=2)) for _ in range(3))
        )
        handles = [
            time_env.client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
            for batch_id, _ in started
        ]
        await asyncio.gather(*(h.signal(BatchWorkflow.provide_input, _pay()) for h in handles))
        finals = await asyncio.gather(*(h.result() for h in handles))
    assert all(
        f.status is JobStatus.COMPLETED and f.counts[JobStatus.COMPLETED] == 4 for f in finals
    )
    skus = [r.listing.sku for r in stand_ins.calls[Marketplace.EBAY]]
    assert len(skus) == 12 and len(set(skus)) == 12


async def test_concurrency_limit_bounds_running_children(time_env: WorkflowEnvironment):
    stand_ins = StandInMarketplaces(behaviours={Marketplace.EBAY: Behaviour(delay=0.2)})
    async with running_workers(time_env.client, stand_ins):
        batch_id, _ = await _start(time_env.client, _jobs(6), _settings(concurrency=2))
        handle = time_env.client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
        await handle.signal(BatchWorkflow.provide_input, _pay())
        final = await handle.result()
    assert final.counts[JobStatus.COMPLETED] == 6
    assert stand_ins.max_active == 2


async def test_batch_with_one_failing_listing_ends_with_the_right_counts(
    time_env: WorkflowEnvironment,
):
    jobs = _jobs(3)
    bad_sku = jobs[1].input_data.sku
    stand_ins = StandInMarketplaces(
        behaviours={Marketplace.EBAY: Behaviour(fail_skus=frozenset({bad_sku}))}
    )
    async with running_workers(time_env.client, stand_ins):
        batch_id, _ = await _start(time_env.client, jobs, _settings())
        handle = time_env.client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
        await handle.signal(BatchWorkflow.provide_input, _pay())
        final = await handle.result()
    assert final.status is JobStatus.FAILED and final.progress == 100
    assert final.counts[JobStatus.COMPLETED] == 2 and final.counts[JobStatus.FAILED] == 1
    assert final.error is not None and final.error["code"] == "jobs_failed"


async def test_cancelling_the_batch_cancels_its_children(time_env: WorkflowEnvironment):
    stand_ins = StandInMarketplaces(
        behaviours={Marketplace.EBAY: Behaviour(block_until_cancelled=True)}
    )
    async with running_workers(time_env.client, stand_ins):
        batch_id, _ = await _start(time_env.client, _jobs(4), _settings(concurrency=2))
        handle = time_env.client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
        await handle.signal(BatchWorkflow.provide_input, _pay())
        for _ in range(100):  # two children running (blocked), two still waiting
            if stand_ins.active == 2:
                break
            await asyncio.sleep(0.05)
        await handle.signal(BatchWorkflow.cancel, CancelRequest(reason="stop the batch"))
        final = await handle.result()
        children = [
            await time_env.client.get_workflow_handle_for(
                JobWorkflow.run, child_job_id(batch_id, i)
            ).result()
            for i in range(4)
        ]
    assert final.status is JobStatus.CANCELLED
    assert final.counts[JobStatus.CANCELLED] == 4
    assert all(c.status is JobStatus.CANCELLED for c in children)
    assert sorted(stand_ins.cancelled) == [Marketplace.EBAY, Marketplace.EBAY]


async def test_unpaid_batch_fails_with_payment_timeout(time_env: WorkflowEnvironment):
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins):
        batch_id, _ = await _start(
            time_env.client, _jobs(2), _settings(payment_timeout=timedelta(hours=12))
        )
        # The Java test server does not auto-skip to this timer while result() waits (the
        # children are idle with no timers of their own), so time is advanced explicitly.
        await time_env.sleep(timedelta(hours=12, minutes=1))
        final = await time_env.client.get_workflow_handle_for(BatchWorkflow.run, batch_id).result()
    assert final.status is JobStatus.FAILED
    assert final.error == {
        "code": "payment_timeout",
        "message": "no signed input before pay_by_time",
    }
    assert final.counts[JobStatus.CANCELLED] == 2
    assert not stand_ins.calls[Marketplace.EBAY]
