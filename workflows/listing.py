"""ListingWorkflow: the entity workflow of one SKU's listing (issue 13; DESIGN.md, "Listings
are entities").

It owns each marketplace's ids, the content last applied and the jobs applied, and applies
one change at a time, so at most one live listing per (marketplace, SKU) holds by
construction. Jobs hand it a :class:`Change` by signal (signal-with-start, from the job's
``hand_change_to_listing`` local activity: a workflow cannot send an Update to another one) and
hear back one :class:`Outcome` per marketplace by signal. A cancelled job sends
``withdraw_job``: its change stops, what it created is withdrawn, and the job hears a
:class:`Withdrawal`. Admins delist by Update. Continue-as-new when the history grows, after
``all_handlers_finished``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from workflows.search_attributes import upsert_changed

with workflow.unsafe.imports_passed_through():
    # Passed through: the tracing interceptor reads this context module (issue 16).
    from config.tracing import trace_context
    from domain.job import JobError, PublishRetry
    from domain.job_search import listing_search_attributes
    from domain.listing_entity import (
        APPLY_SIGNAL,
        LISTING_WORKFLOW,
        OUTCOMES_SIGNAL,
        WITHDRAW_SIGNAL,
        WITHDRAWAL_SIGNAL,
        Change,
        DelistRequest,
        ListingState,
        ListingView,
        Outcome,
        Outcomes,
        Placement,
        PlacementState,
        Withdrawal,
        WithdrawJob,
        content_fingerprint,
        images_fingerprint,
    )
    from domain.marketplace_errors import (
        LISTING_GONE,
        NON_RETRYABLE_ERROR_TYPES,
        attempts_of,
        job_error,
        missing_fields_of,
    )
    from domain.marketplaces import (
        Marketplace,
        idempotency_key,
        marketplace_task_queue,
        publish_activity_name,
        set_quantity_activity_name,
        withdraw_activity_name,
    )
    from domain.messages import (
        MarketplaceRef,
        PublishRequest,
        PublishResult,
        WithdrawRequest,
        WithdrawResult,
    )
    from domain.sales import ORDER_SIGNAL, OrderLine, SetQuantityRequest, SetQuantityResult
    from domain.status import Action, MarketplaceStatus

PUBLISH_START_TO_CLOSE = timedelta(minutes=2)
PUBLISH_SCHEDULE_TO_CLOSE = timedelta(minutes=30)
WITHDRAW_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=10,
    non_retryable_error_types=list(NON_RETRYABLE_ERROR_TYPES),
)
"""A withdraw matters more than a publish (a cancelled job must not leave a listing live), so
it is tried longer; still bounded, and a failure is in the listing's events and view."""
ResultT = TypeVar("ResultT")
HISTORY_LIMIT = 2000
"""Events after which the entity continues as new (well under Temporal's 50 000 / 50 MB)."""


@workflow.defn(name=LISTING_WORKFLOW)
class ListingWorkflow:
    """One SKU's listing; workflow id ``listing-<sku>`` (``listing_workflow_id``)."""

    @workflow.init
    def __init__(self, state: ListingState) -> None:
        self._s = state
        self._current: Change | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._outcomes: list[Outcome] = []
        """The current change's outcomes, sent together once it settled everywhere."""

    @workflow.run
    async def run(self, state: ListingState) -> None:
        s = self._s
        while True:
            await workflow.wait_condition(
                lambda: (
                    bool(s.withdrawals or s.sales or s.delists or s.pending) or self._history_full()
                )
            )
            if s.withdrawals:
                await self._withdraw(s.withdrawals.pop(0))
            elif s.sales:
                await self._sync_sale(s.sales.pop(0))
            elif s.delists:
                await self._delist(s.delists.pop(0))
            elif s.pending:
                await self._apply(s.pending.pop(0))
            else:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(s)
            self._save_memo()

    def _history_full(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested() or info.get_current_history_length() > HISTORY_LIMIT
        )

    # -- applying a change ---------------------------------------------------------------

    async def _apply(self, change: Change) -> None:
        """Each of the change's marketplaces at once; ``withdraw_job`` cancels them."""
        self._current = change
        self._outcomes = []
        self._s.record(workflow.now(), "change.started", {"job_id": change.job_id})
        with trace_context(change.trace):  # the job's trace, not the entity's (issue 16)
            self._tasks = [
                asyncio.create_task(self._apply_one(change, m)) for m in change.marketplaces
            ]
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._current = None
        outcomes, self._outcomes = self._outcomes, []
        if outcomes:
            await self._signal_job(change.job_id, OUTCOMES_SIGNAL, Outcomes(outcomes=outcomes))

    async def _apply_one(self, change: Change, marketplace: Marketplace) -> None:
        placement = self._s.placement(marketplace)
        if placement.state is PlacementState.LIVE and placement.content == content_fingerprint(
            change.listing, change.extras
        ):
            placement.job_id = change.job_id
            self._s.applied(change.job_id)
            self._event("marketplace.unchanged", marketplace, change.job_id)
            await self._tell(change, marketplace, Action.UNCHANGED, placement)
            return
        current = placement.ref()
        try:
            result = await self._publish(change, marketplace, placement, current)
            if current is not None and result is None:  # the listing was gone: create it anew
                current = None
                result = await self._publish(change, marketplace, placement, None)
        except (ActivityError, asyncio.CancelledError) as err:
            await self._settle_failure(change, marketplace, placement, current, err)
            return
        assert result is not None
        self._take(change, marketplace, placement, result)
        action = Action.REVISED if current is not None else Action.CREATED
        await self._tell(change, marketplace, action, placement, attempts=result.attempt)

    async def _publish(
        self,
        change: Change,
        marketplace: Marketplace,
        placement: Placement,
        current: MarketplaceRef | None,
    ) -> PublishResult | None:
        """The marketplace's publish activity; None when a revise found the listing gone."""
        try:
            result: PublishResult = await workflow.execute_activity(
                publish_activity_name(marketplace),
                PublishRequest(
                    job_id=change.job_id,
                    marketplace=marketplace,
                    idempotency_key=idempotency_key(change.job_id, marketplace),
                    listing=change.listing,
                    current=current,
                    images_changed=placement.images != images_fingerprint(change.listing),
                    # A job's retry, or a marketplace whose last create failed: what a lost
                    # answer may have created is looked up before creating.
                    recover=change.round > 0 or placement.state is PlacementState.FAILED,
                    extras=change.extras,
                ),
                result_type=PublishResult,
                task_queue=marketplace_task_queue(marketplace),
                start_to_close_timeout=PUBLISH_START_TO_CLOSE,
                schedule_to_close_timeout=PUBLISH_SCHEDULE_TO_CLOSE,
                heartbeat_timeout=change.heartbeat_timeout,
                retry_policy=change.publish_retry.get(marketplace, PublishRetry()).policy(),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                summary=f"{'revise' if current else 'create'} {change.listing.sku} "
                f"on {marketplace.value}",
            )
            return result
        except ActivityError as err:
            cause = err.cause
            if current is not None and isinstance(cause, ApplicationError):
                if cause.type == LISTING_GONE:
                    placement.state = PlacementState.ENDED
                    self._event("marketplace.gone", marketplace, change.job_id)
                    return None
            raise

    def _take(
        self,
        change: Change,
        marketplace: Marketplace,
        placement: Placement,
        result: PublishResult,
    ) -> None:
        created = placement.ref() is None
        placement.state = PlacementState.LIVE
        placement.listing_id = result.listing_id
        placement.listing_url = result.listing_url
        placement.offer_id = result.offer_id or placement.offer_id
        placement.quantity = change.listing.quantity
        placement.job_id = change.job_id
        if created:
            placement.created_by = change.job_id
        placement.content = content_fingerprint(change.listing, change.extras)
        placement.images = images_fingerprint(change.listing)
        placement.updated_at = workflow.now()
        placement.error = None
        self._s.quantity = change.listing.quantity
        self._s.applied(change.job_id)
        action = "created" if created else "revised"
        self._event(f"marketplace.{action}", marketplace, change.job_id, result.listing_id)

    async def _settle_failure(
        self,
        change: Change,
        marketplace: Marketplace,
        placement: Placement,
        current: MarketplaceRef | None,
        err: BaseException,
    ) -> None:
        attempts = attempts_of(err)
        missing = []
        if change.job_id in self._s.cancelled_jobs:
            if current is None:
                # The create may have been made with its answer lost: the withdrawal looks.
                self._s.lost_creates.setdefault(change.job_id, []).append(marketplace)
            error = JobError(code="cancelled", message="job cancelled while publishing")
        elif missing := missing_fields_of(err):
            # Fields the listing lacks are found before any write: the placement stays as it
            # was, and the job asks for them (issue 15).
            error = job_error(err)
        else:
            error = job_error(err)
            placement.error = error
            if placement.state is not PlacementState.LIVE:
                placement.state = PlacementState.FAILED
            placement.updated_at = workflow.now()
        self._event("marketplace.failed", marketplace, change.job_id, code=error.code)
        outcome = Outcome(
            round=change.round,
            marketplace=marketplace,
            status=MarketplaceStatus.FAILED,
            attempts=attempts,
            error=error,
            missing_fields=missing,
        )
        self._outcomes.append(outcome)

    async def _tell(
        self,
        change: Change,
        marketplace: Marketplace,
        action: Action,
        placement: Placement,
        *,
        attempts: int = 0,
    ) -> None:
        outcome = Outcome(
            round=change.round,
            marketplace=marketplace,
            status=MarketplaceStatus.COMPLETED,
            action=action,
            listing_id=placement.listing_id,
            listing_url=placement.listing_url,
            attempts=attempts,
        )
        self._outcomes.append(outcome)

    async def _signal_job(self, job_id: str, name: str, message: object) -> None:
        try:
            await workflow.get_external_workflow_handle(job_id).signal(name, message)
        except FailureError as err:  # the job closed (terminated): the listing goes on
            self._s.record(workflow.now(), "job.unreachable", {"job_id": job_id, "error": str(err)})

    # -- withdrawing and delisting -------------------------------------------------------

    async def _withdraw(self, request: WithdrawJob) -> None:
        """End what the cancelled job created, while it still shows that job's content (a
        listing live before the job, or revised by a later one, stays)."""
        job_id = request.job_id
        targets: dict[Marketplace, MarketplaceRef | None] = {
            m: p.ref()
            for m, p in self._s.placements.items()
            if p.state is PlacementState.LIVE and p.created_by == job_id and p.job_id == job_id
        }
        for marketplace in self._s.lost_creates.pop(job_id, []):
            if self._s.placement(marketplace).state is not PlacementState.LIVE:
                targets[marketplace] = None
        ended = await self._end(targets, job_id, request.reason)
        await self._signal_job(job_id, WITHDRAWAL_SIGNAL, Withdrawal(withdrawn=ended))

    async def _delist(self, request: DelistRequest) -> None:
        chosen = request.marketplaces or list(self._s.placements)
        targets = {
            m: self._s.placements[m].ref()
            for m in chosen
            if m in self._s.placements and self._s.placements[m].state is PlacementState.LIVE
        }
        ended = await self._end(targets, "admin", request.reason)
        self._s.record(
            workflow.now(),
            "listing.delisted",
            {"marketplaces": [m.value for m in ended], "reason": request.reason},
        )

    async def _end(
        self, targets: dict[Marketplace, MarketplaceRef | None], job_id: str, reason: str
    ) -> list[Marketplace]:
        """Withdraw each target at once; the marketplaces where a listing was ended."""
        results = await asyncio.gather(
            *(self._end_one(m, ref, job_id, reason) for m, ref in sorted(targets.items())),
        )
        return [m for m, ended in zip(sorted(targets), results, strict=True) if ended]

    async def _end_one(
        self, marketplace: Marketplace, ref: MarketplaceRef | None, job_id: str, reason: str
    ) -> bool:
        placement = self._s.placement(marketplace)
        try:
            result = await _upkeep(
                withdraw_activity_name(marketplace),
                WithdrawRequest(
                    job_id=job_id,
                    marketplace=marketplace,
                    idempotency_key=idempotency_key(job_id, marketplace),
                    sku=self._s.sku,
                    current=ref,
                    reason=reason,
                ),
                WithdrawResult,
                marketplace,
                f"withdraw {self._s.sku} from {marketplace.value}",
            )
        except ActivityError as err:
            placement.error = job_error(err)
            self._event("marketplace.withdraw_failed", marketplace, job_id, code="withdraw")
            return False
        if ref is not None or result.withdrawn:
            placement.state = PlacementState.ENDED
            placement.updated_at = workflow.now()
            placement.error = None
            if result.withdrawn:
                self._event("marketplace.withdrawn", marketplace, job_id, result.listing_id)
            else:  # the marketplace had ended it itself (sold out there): not an error
                self._event("marketplace.ended", marketplace, job_id, reason="ended there")
        return result.withdrawn or ref is not None

    # -- sales (issue 14) -----------------------------------------------------------------

    async def _sync_sale(self, line: OrderLine) -> None:
        """Count the sale, then bring every live marketplace to the new quantity, or end the
        listing on every live marketplace when none is left.

        The marketplace that sold is included: it usually shows the new count already (its
        quantity update then reads and writes nothing, its withdraw finds it ended), but not
        always. A quantity update for an earlier sale may land after this sale there, putting
        back a unit that is gone, and only our count knows (issue 14, CI stop 18: a last
        Etsy unit left live after an eBay quantity sync raced the Etsy sale)."""
        now = workflow.now()
        oversold = self._s.sell(line)
        detail = {
            "marketplace": line.marketplace.value,
            "order_id": line.order_id,
            "quantity": line.quantity,
            "left": self._s.quantity,
        }
        self._s.record(now, "listing.sold", detail)
        if oversold:
            self._s.record(now, "listing.oversold", {**detail, "oversold": oversold})
        live = {m: p.ref() for m, p in self._s.placements.items() if p.state is PlacementState.LIVE}
        if self._s.quantity == 0:
            ended = await self._end(live, "sold-out", "sold out")
            self._s.record(
                workflow.now(),
                "listing.ended",
                {"reason": "sold out", "marketplaces": [m.value for m in ended]},
            )
            return
        await asyncio.gather(*(self._set_quantity(m, ref) for m, ref in live.items() if ref))

    async def _set_quantity(self, marketplace: Marketplace, ref: MarketplaceRef) -> None:
        placement = self._s.placement(marketplace)
        quantity = self._s.quantity
        try:
            result = await _upkeep(
                set_quantity_activity_name(marketplace),
                SetQuantityRequest(
                    marketplace=marketplace, sku=self._s.sku, current=ref, quantity=quantity
                ),
                SetQuantityResult,
                marketplace,
                f"set quantity {quantity} on {marketplace.value}",
            )
        except ActivityError as err:
            placement.error = job_error(err)
            self._event("listing.quantity_sync_failed", marketplace, "sales", code="quantity")
            return
        placement.updated_at = workflow.now()
        if result.ended:  # it sold out there too: nothing to set, and not an error
            placement.state = PlacementState.ENDED
            self._event("marketplace.ended", marketplace, "sales", reason="ended there")
            return
        placement.quantity = result.quantity
        self._event("listing.quantity_synced", marketplace, "sales", quantity=result.quantity)

    # -- messages -------------------------------------------------------------------------

    @workflow.signal(name=ORDER_SIGNAL)
    def order(self, line: OrderLine) -> None:
        """An order line from a reader or a webhook; counted once by its key."""
        if line.sku != self._s.sku or not self._s.count_order(line):
            self._s.record(workflow.now(), "order.duplicate", {"key": line.key})
            return
        self._s.sales.append(line)

    @workflow.signal(name=APPLY_SIGNAL)
    def apply(self, change: Change) -> None:
        """A job's change; applied after those received before it. A re-delivery is dropped."""
        if change.job_id in self._s.cancelled_jobs or not self._s.remember(change):
            self._s.record(workflow.now(), "change.ignored", {"job_id": change.job_id})
            return
        self._s.pending.append(change)
        self._s.record(
            workflow.now(),
            "change.queued",
            {"job_id": change.job_id, "round": change.round, "position": len(self._s.pending)},
        )

    @workflow.signal(name=WITHDRAW_SIGNAL)
    def withdraw_job(self, request: WithdrawJob) -> None:
        """The job was cancelled: drop its queued change, stop the one running, and withdraw
        (in the main loop, before any other change) what it created."""
        job_id = request.job_id
        if job_id not in self._s.cancelled_jobs:
            self._s.cancelled_jobs.append(job_id)
        self._s.pending = [c for c in self._s.pending if c.job_id != job_id]
        if self._current is not None and self._current.job_id == job_id:
            for task in self._tasks:
                task.cancel()
        self._s.withdrawals.append(request)
        self._s.record(workflow.now(), "withdraw.requested", {"job_id": job_id})

    @workflow.update
    def delist(self, request: DelistRequest) -> ListingView:
        """End the listing on the given marketplaces (all by default), after the change being
        applied; idempotent. Answers with the view at the time it was queued."""
        self._s.delists.append(request)
        names = [m.value for m in request.marketplaces or []]
        self._s.record(workflow.now(), "delist.requested", {"marketplaces": names})
        return self._s.view(workflow.now())

    @workflow.query
    def view(self) -> ListingView:
        return self._s.view(workflow.now())

    @workflow.query
    def events(self) -> list[dict[str, object]]:
        return [e.model_dump(mode="json") for e in self._s.events]

    def _event(
        self,
        event_type: str,
        marketplace: Marketplace,
        job_id: str,
        listing_id: str | None = None,
        **detail: object,
    ) -> None:
        body: dict[str, object] = {"marketplace": marketplace.value, "job_id": job_id, **detail}
        if listing_id is not None:
            body["listing_id"] = listing_id
        self._s.record(workflow.now(), event_type, body)

    def _save_memo(self) -> None:
        s = self._s
        workflow.upsert_memo(s.memo(workflow.now()))
        # Issue 16: findable by GET /listings; one upsert, only when a change moved them.
        upsert_changed(
            listing_search_attributes(
                status=s.status().value,
                placements={m: p.state.value for m, p in s.placements.items()},
                sold_out=s.quantity == 0 and s.sold > 0,
            )
        )


async def _upkeep(
    name: str, request: Any, result_type: type[ResultT], marketplace: Marketplace, summary: str
) -> ResultT:
    """A withdraw or quantity update on the marketplace's rate-limited queue, with the same
    timeouts and ``WITHDRAW_RETRY`` for both (issue 14: "the same retries")."""
    result: ResultT = await workflow.execute_activity(
        name,
        request,
        result_type=result_type,
        task_queue=marketplace_task_queue(marketplace),
        start_to_close_timeout=PUBLISH_START_TO_CLOSE,
        heartbeat_timeout=timedelta(seconds=30),
        retry_policy=WITHDRAW_RETRY,
        summary=summary,
    )
    return result
