"""Keeps a worker process's lease on each marketplace's request budget, for its pacers.

One task per marketplace whose queue the process polls asks that marketplace's
``RequestBudgetWorkflow`` (``workflows/request_budget.py``) for a lease with the ``lease``
Update, started on demand (update-with-start, USE_EXISTING), and hands the answer to the
marketplace's ``RequestPacer``:

- the lease counts from when the Update was *sent*, on this process's monotonic clock, so
  this process stops using it no later than the workflow stops counting it;
- it is renewed every third of its validity, every second while the share is 0 (others
  still hold the rest, or a newer process joined) or while the workflow cannot be reached.
  An answer lost or late only shortens the lease: the pacer then sends nothing until the
  next one arrives.

``worker.py`` runs it next to the Temporal workers (``LeaseKeeper.running``). When they have
stopped (no activity left to send anything), it shuts the pacers and gives the shares back
(the ``release`` Update), so the other processes need not wait for the leases to run out; a
process that dies cannot, and its share returns when its lease expires.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from activities.request_pacer import Clock, LocalLease, RequestPacer
from domain.marketplaces import Marketplace, marketplace_task_queue
from workflows.request_budget import (
    LEASE_SECONDS,
    BudgetState,
    LeaseGrant,
    LeaseRequest,
    ReleaseRequest,
    RequestBudgetWorkflow,
    budget_workflow_id,
)

log = logging.getLogger("worker.request_budget")
RENEW_FRACTION = 1 / 3
"""A lease is renewed when this fraction of its validity has passed."""
RETRY_SECONDS = 1.0
"""Asking again after a share of 0 or a failed Update."""
RELEASE_TIMEOUT = timedelta(seconds=2)
"""How long a stopping process tries to give its shares back (else they expire)."""


class LeaseKeeper:
    """Keeps ``pacers`` leased, each at the rate ``rates`` names for its marketplace."""

    def __init__(
        self,
        client: Client,
        pacers: Mapping[Marketplace, RequestPacer],
        rates: Mapping[Marketplace, float],
        worker_id: str,
        *,
        lease_seconds: float = LEASE_SECONDS,
        workflow_id: Callable[[Marketplace], str] = budget_workflow_id,
        task_queue: Callable[[Marketplace], str] = marketplace_task_queue,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client = client
        self.pacers = pacers
        self.rates = rates
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.workflow_id = workflow_id
        self.task_queue = task_queue
        self.clock = clock

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Keep the leases renewed in the background while the block runs; give them back
        after it (the block must have sent its last request by then)."""
        task = asyncio.create_task(self.run())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self.release()

    async def release(self) -> None:
        """Shut every pacer, then end this process's leases in the budget workflows (best
        effort: a lease not given back expires)."""
        for pacer in self.pacers.values():
            pacer.close()
        await asyncio.gather(*(self._release(m) for m in self.pacers))

    async def _release(self, marketplace: Marketplace) -> None:
        handle = self.client.get_workflow_handle(self.workflow_id(marketplace))
        try:
            await handle.execute_update(
                RequestBudgetWorkflow.release,
                ReleaseRequest(worker_id=self.worker_id),
                rpc_timeout=RELEASE_TIMEOUT,
            )
        except Exception as err:
            log.info(
                "request budget %s: share not given back (%s); it expires",
                marketplace.value,
                type(err).__name__,
            )

    async def run(self) -> None:
        await asyncio.gather(*(self.keep(m) for m in self.pacers))

    async def keep(self, marketplace: Marketplace) -> None:
        """Renew ``marketplace``'s lease forever (until cancelled)."""
        pacer = self.pacers[marketplace]
        failures = 0
        last_share: float | None = None
        while True:
            sent = self.clock()
            try:
                grant = await self.ask(marketplace)
            except Exception as err:  # the loop must outlive any failure; the lease runs out
                if _cancelling():  # the client reports a cancelled call as its own error
                    raise asyncio.CancelledError from err
                failures += 1
                if failures == 1 or failures % 60 == 0:
                    log.warning(
                        "request budget %s: lease not renewed (%s: %s), %d failure(s)",
                        marketplace.value,
                        type(err).__name__,
                        " ".join(str(err).split())[:200],
                        failures,
                    )
                await self._sleep_until(sent + RETRY_SECONDS)
                continue
            pacer.set_lease(LocalLease(grant.share_per_second, sent + grant.valid_seconds))
            if failures or grant.share_per_second != last_share:
                log.info(
                    "request budget %s: %.3g requests/s of %.3g, %d worker process(es)",
                    marketplace.value,
                    grant.share_per_second,
                    grant.rate_per_second,
                    grant.workers,
                )
            failures, last_share = 0, grant.share_per_second
            renew = grant.valid_seconds * RENEW_FRACTION
            if grant.share_per_second <= 0:
                renew = min(renew, RETRY_SECONDS)
            await self._sleep_until(sent + renew)

    async def ask(self, marketplace: Marketplace) -> LeaseGrant:
        """One ``lease`` Update, starting the budget workflow if it does not run yet."""
        start = WithStartWorkflowOperation(
            RequestBudgetWorkflow.run,
            BudgetState(marketplace=marketplace, lease_seconds=self.lease_seconds),
            id=self.workflow_id(marketplace),
            task_queue=self.task_queue(marketplace),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            grant: LeaseGrant = await self.client.execute_update_with_start_workflow(
                RequestBudgetWorkflow.lease,
                LeaseRequest(worker_id=self.worker_id, rate_per_second=self.rates[marketplace]),
                start_workflow_operation=start,
                rpc_timeout=timedelta(seconds=self.lease_seconds),
            )
        except BaseException:
            _retrieve_start_failure(start)
            raise
        return grant

    async def _sleep_until(self, at: float) -> None:
        await asyncio.sleep(max(0.0, at - self.clock()))


def _retrieve_start_failure(start: WithStartWorkflowOperation[Any, Any]) -> None:
    """The SDK also sets a failed call's error on the start operation's future, which nobody
    awaits here: retrieve it, or asyncio logs "Future exception was never retrieved" for every
    renewal that fails while Temporal is unreachable."""
    future = getattr(start, "_workflow_handle", None)
    if isinstance(future, asyncio.Future) and future.done() and not future.cancelled():
        future.exception()


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
