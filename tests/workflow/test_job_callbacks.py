"""Completion callbacks from JobWorkflow (issue 16), on the time-skipping server, delivered by the
real ``deliver_callback`` activity to a local receiver that verifies with ``standardwebhooks``."""

from __future__ import annotations

import json
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from domain.callbacks import CallbackPolicy, DeliveryState
from domain.marketplaces import Marketplace
from domain.messages import CancelRequest, RetryRequest
from domain.status import JobStatus
from tests.factories import job_input
from tests.support.callback_receiver import callback_receiver
from tests.workflow.harness import has_status, running_workers, start_job, wait_for
from tests.workflow.stand_ins import Behaviour, StandInMarketplaces
from tests.workflow.test_job_workflow import signed
from workflows.job import JobWorkflow


def policy(url: str, **changes: object) -> CallbackPolicy:
    return CallbackPolicy(url=url, initial_interval=timedelta(seconds=1)).model_copy(update=changes)


async def test_completed_is_delivered_once_after_two_failed_attempts(
    time_env: WorkflowEnvironment,
):
    """Issue 16 "done when": a receiver failing the first two attempts gets the event three
    times under one webhook-id, each verified by the reference library, and it is applied once
    (one 2xx)."""
    with callback_receiver([500, 503, 200]) as receiver:
        async with running_workers(time_env.client, StandInMarketplaces()):
            inp = job_input(now=await time_env.get_current_time(), callback=policy(receiver.url))
            handle = await start_job(time_env.client, inp)
            await handle.signal(JobWorkflow.provide_input, signed())
            view = await handle.result()
    assert view.status is JobStatus.COMPLETED
    assert [d.status for d in receiver.received] == [500, 503, 200]
    assert all(d.error is None for d in receiver.received), [d.error for d in receiver.received]
    assert len(receiver.by_webhook_id()) == 1, "one webhook-id for every attempt of one event"
    (accepted,) = receiver.accepted()
    assert accepted.verified["type"] == "job.completed"
    assert accepted.verified["data"]["job_id"] == inp.job_id
    assert accepted.verified["data"]["status"] == "completed"
    assert "callback" not in accepted.verified["data"]
    assert view.callback is not None
    assert (view.callback.status, view.callback.attempts) == ("delivered", 3)
    (delivery,) = view.callback.deliveries
    assert delivery.state is DeliveryState.DELIVERED and delivery.last_status == 200
    assert delivery.webhook_id == accepted.headers["webhook-id"]


async def test_failed_and_then_completed_are_two_events_with_their_own_ids(
    time_env: WorkflowEnvironment,
):
    """A failed job is announced while it waits for a retry; the retry's completion is a new
    event (new webhook-id)."""
    stand_ins = StandInMarketplaces(
        behaviours={
            Marketplace.ETSY: Behaviour(
                fail_times=1, error_type="MarketplaceValidationError", non_retryable=True
            )
        }
    )
    with callback_receiver([200]) as receiver:
        async with running_workers(time_env.client, stand_ins):
            inp = job_input(now=await time_env.get_current_time(), callback=policy(receiver.url))
            handle = await start_job(time_env.client, inp)
            await handle.signal(JobWorkflow.provide_input, signed())
            failed = await wait_for(
                handle, lambda v: v.callback is not None and v.callback.status == "delivered"
            )
            assert failed.status is JobStatus.FAILED
            await handle.signal(JobWorkflow.retry, RetryRequest())
            view = await handle.result()
    types = [d.verified["type"] for d in receiver.accepted()]
    assert types == ["job.failed", "job.completed"]
    assert len(receiver.by_webhook_id()) == 2
    assert receiver.accepted()[0].verified["data"]["error"]["code"] == "marketplace_failed"
    assert view.callback is not None
    assert [d.state for d in view.callback.deliveries] == [DeliveryState.DELIVERED] * 2


async def test_cancelled_is_delivered(time_env: WorkflowEnvironment):
    with callback_receiver([204]) as receiver:
        async with running_workers(time_env.client, StandInMarketplaces()):
            inp = job_input(now=await time_env.get_current_time(), callback=policy(receiver.url))
            handle = await start_job(time_env.client, inp)
            await handle.signal(JobWorkflow.cancel, CancelRequest(reason="shop closed"))
            view = await handle.result()
    assert view.status is JobStatus.CANCELLED
    (delivery,) = receiver.accepted()
    assert delivery.verified["type"] == "job.cancelled"
    assert view.callback is not None and view.callback.status == "delivered"


async def test_410_stops_the_delivery_after_one_attempt(time_env: WorkflowEnvironment):
    """Issue 16 "done when": a 410 stops retries."""
    with callback_receiver([410, 200]) as receiver:
        async with running_workers(time_env.client, StandInMarketplaces()):
            inp = job_input(now=await time_env.get_current_time(), callback=policy(receiver.url))
            handle = await start_job(time_env.client, inp)
            await handle.signal(JobWorkflow.provide_input, signed())
            view = await handle.result()
    assert len(receiver.received) == 1
    assert view.status is JobStatus.COMPLETED
    assert view.callback is not None
    assert (view.callback.status, view.callback.attempts) == ("failed", 1)
    (delivery,) = view.callback.deliveries
    assert (delivery.state, delivery.last_status) == (DeliveryState.STOPPED, 410)


async def test_delivery_gives_up_when_the_retry_window_has_passed(time_env: WorkflowEnvironment):
    """Backoff 60 s doubling to 10 min within a 1 h window: a handful of attempts, then
    gave_up; the job itself stays completed."""
    start = await time_env.get_current_time()
    callback = policy(
        "",
        retry_window=timedelta(hours=1),
        initial_interval=timedelta(seconds=60),
        maximum_interval=timedelta(minutes=10),
    )
    with callback_receiver([500]) as receiver:
        callback.url = receiver.url
        async with running_workers(time_env.client, StandInMarketplaces()):
            handle = await start_job(time_env.client, job_input(now=start, callback=callback))
            await handle.signal(JobWorkflow.provide_input, signed())
            view = await handle.result()
    assert view.status is JobStatus.COMPLETED
    assert view.callback is not None
    (delivery,) = view.callback.deliveries
    assert delivery.state is DeliveryState.GAVE_UP
    # 0, 60, 180, 420, 900, 1500, 2100, 2700, 3300 s: the next (3900 s) is past the window.
    assert delivery.attempts == len(receiver.received) == 9
    assert delivery.updated_at - start < timedelta(hours=1)


async def test_the_job_status_moves_at_once_while_its_callback_is_pending(
    time_env: WorkflowEnvironment,
):
    """The delivery never holds the job's own transition: completed in the view and the memo
    while the receiver still fails."""
    with callback_receiver([500]) as receiver:
        async with running_workers(time_env.client, StandInMarketplaces()):
            callback = policy(receiver.url, initial_interval=timedelta(hours=1))
            inp = job_input(now=await time_env.get_current_time(), callback=callback)
            handle = await start_job(time_env.client, inp)
            await handle.signal(JobWorkflow.provide_input, signed())
            view = await wait_for(handle, has_status(JobStatus.COMPLETED))
            assert view.callback is not None and view.callback.status == "pending"
            described = await handle.describe()
            memo = await described.memo()
            assert memo["status"] == "completed"
            await handle.terminate("test over")
    assert json.loads(receiver.received[0].body)["data"]["status"] == "completed"
