"""Issue 12 item 5: a worker process's side of the request budget, on a real dev server.

- ``LeaseKeeper``: two "processes" (each its own keeper and pacer, as each worker process
  has) share one budget workflow with short leases (1.5 s, so a lease period passes quickly);
  one dies, its share comes back to the other when its lease expires; one that stops
  gracefully gives it back at once; with no worker to answer, a lease runs out and the pacer
  sends nothing.
- ``HeartbeatMemory``: an activity whose request waits for budget longer than its heartbeat
  timeout keeps its attempt alive, and the details it saved survive the wait.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.heartbeats import HeartbeatMemory
from activities.request_leases import LeaseKeeper
from activities.request_pacer import LocalLease, RequestPacer
from domain.marketplaces import Marketplace
from workflows.request_budget import RequestBudgetWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

EBAY = Marketplace.EBAY
RATE = 6.0
LEASE = 1.5


async def eventually(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"{what} not within {within} s"
        await asyncio.sleep(0.05)


def share(pacer: RequestPacer) -> float:
    lease = pacer.lease
    return lease.share_per_second if lease and lease.expires_at > time.monotonic() else 0.0


@pytest.fixture
def ids() -> dict[str, str]:
    key = uuid.uuid4().hex[:10]
    return {"workflow_id": f"request-budget-test-{key}", "task_queue": f"budget-{key}"}


def keeper(
    client: Client, pacer: RequestPacer, name: str, ids: dict[str, str], lease: float = LEASE
) -> LeaseKeeper:
    return LeaseKeeper(
        client,
        {EBAY: pacer},
        {EBAY: RATE},
        worker_id=name,
        lease_seconds=lease,
        workflow_id=lambda m: ids["workflow_id"],
        task_queue=lambda m: ids["task_queue"],
    )


async def test_two_processes_share_the_rate_and_a_dead_ones_share_returns(
    dev_client: Client, ids: dict[str, str]
):
    first, second = RequestPacer(EBAY), RequestPacer(EBAY)
    async with Worker(dev_client, task_queue=ids["task_queue"], workflows=[RequestBudgetWorkflow]):
        async with keeper(dev_client, first, "first", ids).running():
            await eventually(lambda: share(first) == RATE, 5, "the first process's full rate")
            dying = asyncio.create_task(keeper(dev_client, second, "second", ids).run())
            await eventually(
                lambda: share(first) == share(second) == RATE / 2, 3 * LEASE + 3, "halves"
            )
            dying.cancel()  # dies: renews no more, gives nothing back
            await asyncio.gather(dying, return_exceptions=True)
            await eventually(lambda: share(first) == RATE, 2 * LEASE + 3, "the half returned")


async def test_a_process_that_stops_gives_its_share_back_at_once(
    dev_client: Client, ids: dict[str, str]
):
    """With 10 s leases, the newcomer would wait up to 10 s for a share; the first process's
    release gives it the whole rate within a renewal (1 s while its share is 0)."""
    first, second = RequestPacer(EBAY), RequestPacer(EBAY)
    stop_first = asyncio.Event()

    async def first_process() -> None:
        async with keeper(dev_client, first, "first", ids, lease=10).running():
            await stop_first.wait()

    async with Worker(dev_client, task_queue=ids["task_queue"], workflows=[RequestBudgetWorkflow]):
        running_first = asyncio.create_task(first_process())
        await eventually(lambda: share(first) == RATE, 5, "the first process's share")
        async with keeper(dev_client, second, "second", ids, lease=10).running():
            await eventually(lambda: second.lease is not None, 5, "the newcomer's answer")
            assert share(second) == 0.0
            stop_first.set()
            await running_first
            assert first.lease is None, "a stopped process's pacer lets nothing go"
            await eventually(lambda: share(second) == RATE, 2.5, "the share given back")


async def test_a_process_that_cannot_renew_stops_sending_when_its_lease_runs_out(
    dev_client: Client, ids: dict[str, str]
):
    pacer = RequestPacer(EBAY)
    async with AsyncExitStack() as stack:
        budget = Worker(dev_client, task_queue=ids["task_queue"], workflows=[RequestBudgetWorkflow])
        await stack.enter_async_context(budget)
        await stack.enter_async_context(keeper(dev_client, pacer, "alone", ids).running())
        await eventually(lambda: share(pacer) == RATE, 5, "a lease")
        await asyncio.wait_for(pacer.wait_for_slot(), 1)
        await budget.shutdown()  # nobody answers the Update any more
        await eventually(lambda: share(pacer) == 0.0, LEASE + 1, "the lease running out")
        waiting = asyncio.ensure_future(pacer.wait_for_slot())
        await asyncio.sleep(0.5)
        assert not waiting.done()
        waiting.cancel()


BUDGET_WAIT_PACER: dict[str, RequestPacer] = {}
EVENTS: list[str] = []


@activity.defn(name="publish_waiting_for_budget")
async def publish_waiting_for_budget(key: str) -> list[Any]:
    """Attempt 1 saves a checkpoint, then its request waits 5 s for budget (the dev server
    times out an attempt with a 1 s heartbeat timeout ~3 s after its last heartbeat) and fails
    retryably; attempt 2 returns what attempt 1 left."""
    if activity.info().attempt == 1:
        activity.heartbeat({"listing_id": 42})
        await BUDGET_WAIT_PACER[key].wait_for_slot()
        EVENTS.append(f"{key} attempt 1 sent its request")
        raise ApplicationError("retry me")
    EVENTS.append(f"{key} attempt 2 started")
    return list(activity.info().heartbeat_details)


@workflow.defn(name="PublishWaitingForBudget", sandboxed=False)
class PublishWaitingForBudget:
    @workflow.run
    async def run(self, key: str) -> list[Any]:
        result: list[Any] = await workflow.execute_activity(
            publish_waiting_for_budget,
            key,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )
        return result


@pytest.fixture
async def budget_wait_worker(dev_client: Client, ids: dict[str, str]) -> AsyncIterator[str]:
    async with Worker(
        dev_client,
        task_queue=ids["task_queue"],
        workflows=[PublishWaitingForBudget],
        activities=[publish_waiting_for_budget],
        workflow_runner=UnsandboxedWorkflowRunner(),
        interceptors=[HeartbeatMemory()],
        max_heartbeat_throttle_interval=timedelta(milliseconds=500),
    ):
        yield ids["task_queue"]


async def test_a_request_waiting_for_budget_keeps_its_attempt_alive_and_its_details(
    dev_client: Client, budget_wait_worker: str
):
    key = uuid.uuid4().hex[:8]
    pacer = BUDGET_WAIT_PACER[key] = RequestPacer(EBAY, keepalive_seconds=0.3)
    handle = await dev_client.start_workflow(
        PublishWaitingForBudget.run, key, id=f"budget-wait-{key}", task_queue=budget_wait_worker
    )
    await asyncio.sleep(5)
    pacer.set_lease(LocalLease(10.0, time.monotonic() + 60))
    assert await handle.result() == [{"listing_id": 42}]
    mine = [e for e in EVENTS if e.startswith(key)]
    assert mine == [f"{key} attempt 1 sent its request", f"{key} attempt 2 started"], (
        "attempt 1 timed out while its request waited"
    )
