"""JobWorkflow in the time-skipping test server, with marketplaces stood in by name."""

from __future__ import annotations

import time
from datetime import UTC, timedelta

from temporalio.testing import WorkflowEnvironment

from domain.marketplaces import ALL_MARKETPLACES, Marketplace, idempotency_key
from domain.messages import CancelRequest, SignedInput
from domain.status import JobStatus, MarketplaceStatus
from tests.factories import job_input
from tests.workflow.harness import has_status, running_workers, start_job, wait_for
from tests.workflow.stand_ins import Behaviour, StandInMarketplaces
from workflows.job import JobWorkflow


def signed(data: dict[str, object] | None = None) -> SignedInput:
    from datetime import datetime

    return SignedInput(
        data=data or {"payment_id": "pay_1"}, signature="v1,abc=", received_at=datetime.now(UTC)
    )


async def test_signal_completes_job_with_one_listing_per_marketplace(time_env: WorkflowEnvironment):
    """Seed 001 TC-4.8 (full lifecycle awaiting_payment -> running -> completed), adapted."""
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins):
        inp = job_input(now=await time_env.get_current_time())
        handle = await start_job(time_env.client, inp)
        assert (await handle.query(JobWorkflow.status)).status is JobStatus.AWAITING_PAYMENT
        await handle.signal(JobWorkflow.provide_input, signed())
        view = await handle.result()
    assert view.status is JobStatus.COMPLETED
    assert view.result is not None and set(view.result) == set(ALL_MARKETPLACES)
    for marketplace in ALL_MARKETPLACES:
        assert view.marketplaces[marketplace].status is MarketplaceStatus.COMPLETED
        assert view.marketplaces[marketplace].attempts == 1
        assert len(stand_ins.published[marketplace]) == 1
        (call,) = stand_ins.calls[marketplace]
        assert call.idempotency_key == idempotency_key(inp.job_id, marketplace)
        assert call.idempotency_key == f"{inp.job_id}:{marketplace.value}"


async def test_payment_timeout_of_12_hours_passes_in_milliseconds(time_env: WorkflowEnvironment):
    """No signed input before pay_by_time -> failed with payment_timeout, tested in ms."""
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins):
        start = await time_env.get_current_time()
        inp = job_input(now=start, payment_timeout=timedelta(hours=12), max_retries=0)
        wall = time.monotonic()
        handle = await start_job(time_env.client, inp)
        view = await handle.result()
        elapsed_wall = time.monotonic() - wall
    assert view.status is JobStatus.FAILED
    assert view.error is not None and view.error.code == "payment_timeout"
    assert await time_env.get_current_time() - start >= timedelta(hours=12)
    assert elapsed_wall < 10, "the 12 h timer must be skipped, not waited"
    assert not any(stand_ins.calls.values()), "nothing is published without payment"


async def test_status_query_answers_at_every_stage(time_env: WorkflowEnvironment):
    """The status query: awaiting_payment, then running (marketplace running), then completed."""
    stand_ins = StandInMarketplaces(behaviours={Marketplace.VINTED: Behaviour(delay=1.0)})
    async with running_workers(time_env.client, stand_ins):
        inp = job_input(now=await time_env.get_current_time())
        handle = await start_job(time_env.client, inp)
        first = await handle.query(JobWorkflow.status)
        assert first.status is JobStatus.AWAITING_PAYMENT
        assert all(s.status is MarketplaceStatus.PENDING for s in first.marketplaces.values())
        assert first.job_id == inp.job_id and first.input_hash == inp.input_hash
        await handle.signal(JobWorkflow.provide_input, signed())
        running = await wait_for(
            handle,
            lambda v: v.marketplaces[Marketplace.VINTED].status is MarketplaceStatus.RUNNING,
        )
        assert running.status is JobStatus.RUNNING
        assert running.result is None
        final = await handle.result()
        after = await handle.query(JobWorkflow.status)
    assert final.status is JobStatus.COMPLETED
    assert after == final, "a closed workflow still answers its status query"


async def test_cancel_signal_ends_awaiting_job_as_cancelled(time_env: WorkflowEnvironment):
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.cancel, CancelRequest(reason="shop withdrew the item"))
        view = await handle.result()
        events = await handle.query(JobWorkflow.events)
    assert view.status is JobStatus.CANCELLED
    assert not any(stand_ins.calls.values())
    cancelled = [e for e in events if e.type == "job.cancelled"]
    assert cancelled and cancelled[0].detail["reason"] == "shop withdrew the item"


async def test_second_input_is_ignored_and_recorded(time_env: WorkflowEnvironment):
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, signed({"payment_id": "first"}))
        await handle.signal(JobWorkflow.provide_input, signed({"payment_id": "second"}))
        view = await handle.result()
        events = await handle.query(JobWorkflow.events)
    assert view.status is JobStatus.COMPLETED
    assert [e.type for e in events].count("input.received") == 1
    assert [e.type for e in events].count("input.ignored") == 1
    assert all(len(calls) == 1 for calls in stand_ins.calls.values()), "published once"


async def test_non_retryable_error_fails_marketplace_after_one_attempt(
    time_env: WorkflowEnvironment,
):
    """Validation errors are not retried: attempts == 1, the others stay published."""
    stand_ins = StandInMarketplaces(
        behaviours={
            Marketplace.ETSY: Behaviour(
                fail_times=99, error_type="MarketplaceValidationError", non_retryable=True
            )
        }
    )
    async with running_workers(time_env.client, stand_ins):
        inp = job_input(now=await time_env.get_current_time(), max_retries=0)
        handle = await start_job(time_env.client, inp)
        await handle.signal(JobWorkflow.provide_input, signed())
        view = await handle.result()
    assert view.status is JobStatus.FAILED
    assert view.error is not None and view.error.code == "marketplace_failed"
    etsy = view.marketplaces[Marketplace.ETSY]
    assert etsy.status is MarketplaceStatus.FAILED and etsy.attempts == 1
    assert etsy.error is not None and etsy.error.code == "validation_error"
    assert len(stand_ins.calls[Marketplace.ETSY]) == 1
    for other in (Marketplace.EBAY, Marketplace.VINTED):
        assert view.marketplaces[other].status is MarketplaceStatus.COMPLETED


async def test_retryable_error_is_retried_until_it_succeeds(time_env: WorkflowEnvironment):
    stand_ins = StandInMarketplaces(behaviours={Marketplace.EBAY: Behaviour(fail_times=2)})
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, signed())
        view = await handle.result()
    assert view.status is JobStatus.COMPLETED
    assert view.marketplaces[Marketplace.EBAY].attempts == 3
    assert len(stand_ins.calls[Marketplace.EBAY]) == 3


async def test_events_are_ordered_with_utc_z_timestamps(time_env: WorkflowEnvironment):
    """Seed 003 hardening: timestamps UTC ISO with Z, stable event ordering."""
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, signed())
        await handle.result()
        events = await handle.query(JobWorkflow.events)
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(events) + 1))
    assert [e.at for e in events] == sorted(e.at for e in events)
    dumped = [e.model_dump(mode="json") for e in events]
    assert all(d["at"].endswith("Z") for d in dumped)
    types = [e.type for e in events]
    assert types[0] == "job.created" and types[-1] == "job.completed"
    assert types.index("input.received") < types.index("job.running")


async def test_memo_follows_every_transition(time_env: WorkflowEnvironment):
    """The memo carries the coarse status, readable with describe() without a worker."""
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await wait_for(handle, has_status(JobStatus.AWAITING_PAYMENT))
        memo = await (await handle.describe()).memo()
        assert memo["status"] == "awaiting_payment"
        await handle.signal(JobWorkflow.provide_input, signed())
        await handle.result()
        memo = await (await handle.describe()).memo()
    assert memo["status"] == "completed"
    assert memo["marketplaces"] == {m.value: "completed" for m in ALL_MARKETPLACES}
