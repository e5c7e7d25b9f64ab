"""RequestBudgetWorkflow: shares one marketplace's requests per second among worker processes.

``<MARKETPLACE>_RATE_LIMIT`` counts HTTP requests to that marketplace, across every worker
process. Temporal is the only thing the processes share, so one long-running workflow per
marketplace (id ``request-budget-<marketplace>``, on that marketplace's task queue, whose
workers register it) owns the budget and hands each process a *lease* through the ``lease``
Update: a share of the rate, valid for ``lease_seconds`` (10 s). The arithmetic, and why the
shares live at any instant never add up to more than the rate, is ``domain.request_budget``.

Why that makes the processes safe together (README "Rate limits"):
- A process counts its lease from the moment it *sent* the Update, on its own monotonic clock
  (``activities/request_leases.py``); the workflow counts it from the workflow task that
  granted it, which comes later. So a process stops using a lease before the workflow stops
  counting it.
- A process that dies keeps its share for at most ``lease_seconds``; then it is dropped and
  the others get it back at their next renewal. A process that stops gracefully gives it back
  at once with the ``release`` Update, after its last request and once its pacers are shut.
  A process that cannot reach Temporal cannot renew: its lease runs out and it sends nothing
  until it can.
- Updates run one at a time on the workflow's thread and the handler does not await, so two
  grants never interleave.

Leases expire by time alone: the workflow does no I/O and needs no timer. It continues as new
when its history grows (every lease is a handful of events), once no Update is in flight,
carrying the live leases. Terminating it forgets them: for up to one lease period the
processes still holding one and those leased by the new run could together exceed the rate.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.marketplaces import Marketplace
    from domain.request_budget import Lease, committed, effective_rate, grant, live

LEASE_SECONDS = 10.0
"""How long a share is valid; a process renews every third of it."""
EVENTS_PER_RUN = 2000
"""History length past which a run continues as new (a lease costs about five events)."""


def budget_workflow_id(marketplace: Marketplace) -> str:
    return f"request-budget-{marketplace.value}"


class BudgetState(BaseModel):
    """Everything the workflow holds; the start input and what continue-as-new carries."""

    marketplace: Marketplace
    lease_seconds: float = Field(default=LEASE_SECONDS, gt=0)
    events_per_run: int = Field(default=EVENTS_PER_RUN, ge=20)
    leases: list[Lease] = Field(default_factory=list)
    granted: int = 0
    """Leases granted over the workflow's life (all runs)."""


class LeaseRequest(BaseModel):
    worker_id: str = Field(min_length=1, max_length=300)
    rate_per_second: float = Field(gt=0)
    """The asking process's ``<MARKETPLACE>_RATE_LIMIT``."""


class ReleaseRequest(BaseModel):
    worker_id: str = Field(min_length=1, max_length=300)


class LeaseGrant(BaseModel):
    share_per_second: float
    """Requests per second this process may send (0: none yet, ask again soon)."""
    valid_seconds: float
    """How long, counted by the process from when it sent the Update."""
    rate_per_second: float
    """The limit the shares add up to (the strictest configured among live processes)."""
    workers: int
    """Processes holding a live lease, this one included."""


@workflow.defn
class RequestBudgetWorkflow:
    @workflow.init
    def __init__(self, state: BudgetState) -> None:
        self.state = state

    @workflow.run
    async def run(self, state: BudgetState) -> None:
        await workflow.wait_condition(
            lambda: self._history_is_long() and workflow.all_handlers_finished()
        )
        self.state.leases = live(self.state.leases, workflow.now())
        workflow.continue_as_new(self.state)

    @workflow.update
    def lease(self, request: LeaseRequest) -> LeaseGrant:
        """A share of the rate for ``request.worker_id`` (see ``domain.request_budget``)."""
        lease, self.state.leases = grant(
            self.state.leases,
            request.worker_id,
            request.rate_per_second,
            workflow.now(),
            timedelta(seconds=self.state.lease_seconds),
        )
        self.state.granted += 1
        return LeaseGrant(
            share_per_second=lease.share_per_second,
            valid_seconds=self.state.lease_seconds,
            rate_per_second=effective_rate(self.state.leases, request.rate_per_second),
            workers=len({x.worker_id for x in self.state.leases}),
        )

    @workflow.update
    def release(self, request: ReleaseRequest) -> None:
        """``request.worker_id`` has sent its last request: its leases end now."""
        self.state.leases = [x for x in self.state.leases if x.worker_id != request.worker_id]

    @workflow.query
    def status(self) -> dict[str, Any]:
        """Who holds what now (an operator's view; the same as ``lease`` would count)."""
        leases = live(self.state.leases, workflow.now())
        workers = sorted({x.worker_id for x in leases})
        return {
            "marketplace": self.state.marketplace.value,
            "lease_seconds": self.state.lease_seconds,
            "workers": {w: committed(leases, w) for w in workers},
            "granted": self.state.granted,
        }

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self.state.events_per_run
        )
