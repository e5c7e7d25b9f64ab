"""Issue 12 item 5: RequestBudgetWorkflow's leases through the real Update, on the time-skipping
test server (a lease period passes in milliseconds), asked the way ``LeaseKeeper.ask`` asks
(update-with-start, USE_EXISTING)."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.marketplaces import Marketplace
from workflows.request_budget import (
    BudgetState,
    LeaseGrant,
    LeaseRequest,
    ReleaseRequest,
    RequestBudgetWorkflow,
)

RATE = 5.0


@dataclass(frozen=True)
class Held:
    """A lease as its process sees it: from when it asked, for valid_seconds."""

    worker_id: str
    share: float
    sent_at: datetime
    until: datetime


class Budget:
    """Asks one budget workflow for leases as worker processes do."""

    def __init__(self, env: WorkflowEnvironment, task_queue: str, **state: object) -> None:
        self.env = env
        self.client: Client = env.client
        self.task_queue = task_queue
        self.workflow_id = f"request-budget-test-{uuid.uuid4().hex[:8]}"
        self.state = BudgetState(marketplace=Marketplace.EBAY, **state)  # type: ignore[arg-type]
        self.held: list[Held] = []

    async def ask(self, worker_id: str, rate: float = RATE) -> float:
        start = WithStartWorkflowOperation(
            RequestBudgetWorkflow.run,
            self.state,
            id=self.workflow_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        sent_at = await self.env.get_current_time()
        grant: LeaseGrant = await self.client.execute_update_with_start_workflow(
            RequestBudgetWorkflow.lease,
            LeaseRequest(worker_id=worker_id, rate_per_second=rate),
            start_workflow_operation=start,
        )
        until = sent_at + timedelta(seconds=grant.valid_seconds)
        self.held.append(Held(worker_id, grant.share_per_second, sent_at, until))
        return grant.share_per_second

    async def sleep(self, seconds: float) -> None:
        await self.env.sleep(seconds)

    def worst_sum(self) -> float:
        """The largest sum, over every instant, of what each process may send at then: the
        largest share among its leases still valid (the answer to a renewal may still be on
        its way while the older lease runs)."""
        instants = {h.sent_at for h in self.held} | {
            h.until - timedelta(microseconds=1) for h in self.held
        }
        worst = 0.0
        for at in instants:
            total = 0.0
            for worker in {h.worker_id for h in self.held}:
                valid = [
                    h for h in self.held if h.worker_id == worker and h.sent_at <= at < h.until
                ]
                total += max((h.share for h in valid), default=0.0)
            worst = max(worst, total)
        return worst


@pytest.fixture
async def budget_worker(time_env: WorkflowEnvironment) -> AsyncIterator[str]:
    task_queue = f"request-budget-{uuid.uuid4()}"
    async with Worker(time_env.client, task_queue=task_queue, workflows=[RequestBudgetWorkflow]):
        yield task_queue


async def test_a_new_worker_waits_for_its_share_until_the_first_ones_lease_expires(
    time_env: WorkflowEnvironment, budget_worker: str
):
    budget = Budget(time_env, budget_worker)
    assert await budget.ask("a") == RATE
    assert await budget.ask("b") == 0.0  # a may send 5/s for the next 10 s
    await budget.sleep(3.4)
    assert await budget.ask("a") == RATE / 2  # renewed at its fair share
    assert await budget.ask("b") == 0.0  # a's first lease still runs
    await budget.sleep(7)
    assert await budget.ask("b") == RATE / 2
    assert budget.worst_sum() <= RATE


async def test_a_dead_workers_share_returns_after_its_lease_expires(
    time_env: WorkflowEnvironment, budget_worker: str
):
    budget = Budget(time_env, budget_worker)
    await budget.ask("a")
    await budget.ask("b")
    for _ in range(2):  # both renew; b keeps 0 while a's first 5/s lease runs
        await budget.sleep(3.4)
        assert (await budget.ask("a"), await budget.ask("b")) == (RATE / 2, 0.0)
    await budget.sleep(3.4)
    assert (await budget.ask("a"), await budget.ask("b")) == (RATE / 2, RATE / 2)
    # b dies holding 2.5/s for 10 s; a renews meanwhile, then gets it all back.
    for _ in range(2):
        await budget.sleep(3.4)
        assert await budget.ask("a") == RATE / 2
    await budget.sleep(3.4)
    assert await budget.ask("a") == RATE
    assert budget.worst_sum() <= RATE


async def test_a_released_share_is_free_at_once(time_env: WorkflowEnvironment, budget_worker: str):
    """A process stopping gracefully (after its last request) gives its leases back."""
    budget = Budget(time_env, budget_worker)
    assert await budget.ask("a") == RATE
    assert await budget.ask("b") == 0.0
    handle = time_env.client.get_workflow_handle(budget.workflow_id)
    await handle.execute_update(RequestBudgetWorkflow.release, ReleaseRequest(worker_id="a"))
    assert await budget.ask("b") == RATE


async def test_shares_never_add_up_to_more_than_the_rate_whoever_asks_whenever(
    time_env: WorkflowEnvironment, budget_worker: str
):
    """Three processes renewing at random moments (a seeded schedule), one vanishing for a
    while: the shares their processes hold at any instant add up to at most the rate, and
    every process got a share at some point."""
    budget, rng = Budget(time_env, budget_worker), random.Random(12)
    for _ in range(40):
        worker = rng.choice("abc")
        if worker == "c" and len(budget.held) in range(15, 30):
            continue  # c is gone for a while
        await budget.ask(worker)
        await budget.sleep(rng.uniform(0, 4))
    assert budget.worst_sum() <= RATE + 1e-9
    assert {h.worker_id for h in budget.held if h.share > 0} == {"a", "b", "c"}


async def test_continue_as_new_carries_the_leases(
    time_env: WorkflowEnvironment, budget_worker: str
):
    budget = Budget(time_env, budget_worker, events_per_run=20)
    assert await budget.ask("a") == RATE
    handle = time_env.client.get_workflow_handle(budget.workflow_id)
    first_run = (await handle.describe()).run_id
    for _ in range(6):
        assert await budget.ask("b") == 0.0  # a's lease outlives the run it was granted in
    assert (await handle.describe()).run_id != first_run
    status = await handle.query(RequestBudgetWorkflow.status)
    assert status["workers"] == {"a": RATE, "b": 0.0}
    assert status["granted"] == 7
