"""Job retry (only failed marketplaces run again) and cancel of a running job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from domain.marketplaces import Marketplace
from domain.messages import CancelRequest, RetryRequest, SignedInput
from domain.status import JobStatus, MarketplaceStatus
from tests.factories import job_input
from tests.workflow.harness import (
    has_status,
    running_workers,
    start_job,
    wait_for,
    wait_for_progress,
)
from tests.workflow.stand_ins import Behaviour, StandInMarketplaces
from workflows.job import JobWorkflow


def _signed() -> SignedInput:
    return SignedInput(data={"p": 1}, signature="v1,abc=", received_at=datetime.now(UTC))


def _failing_once(marketplace: Marketplace) -> StandInMarketplaces:
    return StandInMarketplaces(
        behaviours={
            marketplace: Behaviour(
                fail_times=1, error_type="MarketplaceValidationError", non_retryable=True
            )
        }
    )


async def test_retry_skips_completed_marketplaces(time_env: WorkflowEnvironment):
    """Seed 002 test_retry_skips_completed_tasks, adapted: completed marketplaces are skipped,
    the failed one runs again, and the job completes."""
    stand_ins = _failing_once(Marketplace.VINTED)
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, _signed())
        failed = await wait_for(handle, has_status(JobStatus.FAILED))
        assert failed.marketplaces[Marketplace.VINTED].status is MarketplaceStatus.FAILED
        await handle.signal(JobWorkflow.retry, RetryRequest())
        view = await handle.result()
    assert view.status is JobStatus.COMPLETED
    assert view.retry_count == 1
    assert len(stand_ins.calls[Marketplace.EBAY]) == 1, "completed eBay is not called again"
    assert len(stand_ins.calls[Marketplace.ETSY]) == 1
    assert len(stand_ins.calls[Marketplace.VINTED]) == 2
    assert view.marketplaces[Marketplace.EBAY].status is MarketplaceStatus.SKIPPED
    assert view.marketplaces[Marketplace.EBAY].attempts == 1, "skipped keeps its attempts"
    assert view.marketplaces[Marketplace.VINTED].status is MarketplaceStatus.COMPLETED
    assert view.marketplaces[Marketplace.VINTED].attempts == 2
    assert view.result is not None and set(view.result) == set(Marketplace)


async def test_partial_failure_recovery(time_env: WorkflowEnvironment):
    """Seed 002 test_partial_failure_recovery, adapted: one marketplace fails, the others stay
    completed, job failed; after the API recovers a retry finishes only the rest."""
    stand_ins = _failing_once(Marketplace.ETSY)
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, _signed())
        failed = await wait_for(handle, has_status(JobStatus.FAILED))
        assert failed.error is not None and "etsy" in failed.error.message
        for other in (Marketplace.EBAY, Marketplace.VINTED):
            assert failed.marketplaces[other].status is MarketplaceStatus.COMPLETED
        await handle.signal(JobWorkflow.retry, RetryRequest())
        done = await handle.result()
    assert done.status is JobStatus.COMPLETED and done.error is None
    assert sum(len(c) for c in stand_ins.calls.values()) == 4


async def test_max_retries_exhausted(time_env: WorkflowEnvironment):
    """Seed 002 test_max_retries_exhausted, adapted: retry_count increments per retry; after
    max_retries the job is failed for good with the last error recorded."""
    stand_ins = StandInMarketplaces(
        behaviours={
            Marketplace.EBAY: Behaviour(
                fail_times=99, error_type="MarketplaceValidationError", non_retryable=True
            )
        }
    )
    async with running_workers(time_env.client, stand_ins):
        inp = job_input(now=await time_env.get_current_time(), max_retries=2)
        handle = await start_job(time_env.client, inp)
        await handle.signal(JobWorkflow.provide_input, _signed())
        for expected_count in (0, 1):
            view = await wait_for(
                handle,
                lambda v, n=expected_count: v.status is JobStatus.FAILED and v.retry_count == n,
            )
            await handle.signal(JobWorkflow.retry, RetryRequest())
        final = await handle.result()
    assert final.status is JobStatus.FAILED
    assert final.retry_count == 2
    assert final.error is not None and final.error.code == "marketplace_failed"
    assert final.marketplaces[Marketplace.EBAY].error is not None
    assert final.marketplaces[Marketplace.EBAY].attempts == 3
    assert len(stand_ins.calls[Marketplace.EBAY]) == 3
    assert view.retry_count == 1


async def test_failed_job_closes_when_the_retry_window_ends(time_env: WorkflowEnvironment):
    stand_ins = _failing_once(Marketplace.EBAY)
    async with running_workers(time_env.client, stand_ins):
        inp = job_input(now=await time_env.get_current_time(), retry_window=timedelta(days=7))
        handle = await start_job(time_env.client, inp)
        await handle.signal(JobWorkflow.provide_input, _signed())
        final = await handle.result()
    assert final.status is JobStatus.FAILED and final.retry_count == 0


async def test_cancel_of_a_failed_job_ends_it_cancelled(time_env: WorkflowEnvironment):
    stand_ins = _failing_once(Marketplace.EBAY)
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, _signed())
        await wait_for(handle, has_status(JobStatus.FAILED))
        await handle.signal(JobWorkflow.cancel, CancelRequest())
        final = await handle.result()
    assert final.status is JobStatus.CANCELLED


async def test_cancel_of_a_running_job_cancels_its_activities(time_env: WorkflowEnvironment):
    """A running job's marketplace activities are cancelled (they heartbeat); the view reports
    which listings were already published."""
    stand_ins = StandInMarketplaces(
        behaviours={Marketplace.VINTED: Behaviour(block_until_cancelled=True)}
    )
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, _signed())
        await wait_for_progress(
            time_env.client,
            handle,
            lambda v: (
                v.marketplaces[Marketplace.EBAY].status is MarketplaceStatus.COMPLETED
                and v.marketplaces[Marketplace.VINTED].status is MarketplaceStatus.RUNNING
            ),
        )
        await handle.signal(JobWorkflow.cancel, CancelRequest(reason="stop"))
        final = await handle.result()
        events = await handle.query(JobWorkflow.events)
    assert final.status is JobStatus.CANCELLED
    assert stand_ins.cancelled == [Marketplace.VINTED]
    assert final.marketplaces[Marketplace.VINTED].status is MarketplaceStatus.FAILED
    assert final.marketplaces[Marketplace.VINTED].error.code == "cancelled"
    cancelled = next(e for e in events if e.type == "job.cancelled")
    assert set(cancelled.detail["published"]) == {"ebay", "etsy"}


async def test_retry_signal_is_ignored_unless_failed(time_env: WorkflowEnvironment):
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.retry, RetryRequest())
        await handle.signal(JobWorkflow.provide_input, _signed())
        final = await handle.result()
        events = await handle.query(JobWorkflow.events)
    assert final.status is JobStatus.COMPLETED and final.retry_count == 0
    assert "retry.ignored" in [e.type for e in events]


async def test_publish_retry_policy_comes_from_the_job_input(time_env: WorkflowEnvironment):
    """Per-marketplace retry policy (EBAY_MAX_ATTEMPTS, ...): eBay may try twice only."""
    from domain.job import PublishRetry

    stand_ins = StandInMarketplaces(behaviours={Marketplace.EBAY: Behaviour(fail_times=99)})
    async with running_workers(time_env.client, stand_ins):
        inp = job_input(now=await time_env.get_current_time(), max_retries=0)
        inp.publish_retry[Marketplace.EBAY] = PublishRetry(maximum_attempts=2)
        handle = await start_job(time_env.client, inp)
        await handle.signal(JobWorkflow.provide_input, _signed())
        view = await handle.result()
    assert view.status is JobStatus.FAILED
    ebay = view.marketplaces[Marketplace.EBAY]
    assert ebay.attempts == 2 and len(stand_ins.calls[Marketplace.EBAY]) == 2
    assert ebay.error is not None and ebay.error.code == "unavailable" and ebay.error.retryable
