"""JobWorkflow: wait for a signed payment confirmation, then have the SKU's listing entity
apply the change on each marketplace."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

from workflows.legacy_publish import publish_round
from workflows.refusals import refuse

with workflow.unsafe.imports_passed_through():
    from domain.batch import JOB_SETTLED_SIGNAL, BatchRelease, JobSettled
    from domain.job import Job, JobError, JobEvent, JobInput, JobView
    from domain.listing_entity import (
        HAND_CHANGE_ACTIVITY,
        OUTCOME_SIGNAL,
        WITHDRAW_SIGNAL,
        WITHDRAWAL_SIGNAL,
        Change,
        Outcome,
        Withdrawal,
        WithdrawJob,
        listing_workflow_id,
    )
    from domain.marketplaces import Marketplace

    # Job.memo() imports domain.memo: load it here, passed through the sandbox.
    from domain.memo import JobMemo  # noqa: F401
    from domain.messages import (
        CancelRequest,
        InputReceipt,
        RetryRequest,
        SignedInput,
    )
    from domain.status import (
        Action,
        JobStatus,
        MarketplaceStatus,
        awaits_input,
        can_cancel,
        can_retry,
        retries_left,
    )


ENTITY_PATCH = "listing-entity"
"""Rounds go through the SKU's ListingWorkflow (issue 13); histories without this marker
replay the job's own publish activities (workflows/legacy_publish.py)."""
HAND_OFF_TIMEOUT = timedelta(seconds=10)
_UNSET = object()


@workflow.defn
class JobWorkflow:
    """One job: ``awaiting_payment -> running -> completed | failed | cancelled`` (DESIGN.md).

    A paid job is a change to its SKU's listing: it hands the change to the listing entity and
    follows the outcome per marketplace; cancelled midway, it asks the entity to withdraw what
    it created (issue 13).
    """

    @workflow.init
    def __init__(self, job_input: JobInput) -> None:
        self._job = Job(job_input, workflow.now())
        self._signed_input: SignedInput | None = None
        self._cancel: CancelRequest | None = None
        self._retry: RetryRequest | None = None
        self._released: BatchRelease | None = None
        self._withdrawal: Withdrawal | None = None
        self._memo_saved: dict[str, object] = {}

    @workflow.run
    async def run(self, job_input: JobInput) -> JobView:
        self._save_memo()
        paid = (
            await self._wait_for_release()
            if job_input.batch_id is not None
            else await self._wait_for_payment()
        )
        if not paid:
            return await self._finish()
        pending = list(job_input.marketplaces)
        while True:
            if workflow.patched(ENTITY_PATCH):
                await self._apply_round(pending)
            else:
                await publish_round(self._job, pending, self._cancelled, self._save_memo)
            if self._cancel is not None:
                self._cancel_job()
                return await self._finish()
            failed = self._job.marketplaces_in(MarketplaceStatus.FAILED)
            if not failed:
                self._move(JobStatus.COMPLETED)
                return await self._finish()
            self._job.fail(self._round_error(failed), workflow.now())
            self._save_memo()
            await self._report_to_batch()
            if not await self._wait_for_retry():
                return await self._finish()
            pending = self._start_retry()
            await self._report_to_batch()

    def _move(self, target: JobStatus, detail: dict[str, object] | None = None) -> None:
        """The one transition helper: stamp ``workflow.now()``, save the memo."""
        self._job.move_to(target, workflow.now(), detail)
        self._save_memo()

    def _cancelled(self) -> bool:
        return self._cancel is not None

    async def _wait_for_release(self) -> bool:
        """A batch child: its batch pays for it and releases it (under the batch's concurrency
        limit), so it waits with no deadline of its own; False when cancelled first."""
        await workflow.wait_condition(
            lambda: self._released is not None or self._cancel is not None
        )
        if self._cancel is not None:
            self._cancel_job()
            return False
        self._move(
            JobStatus.RUNNING, {"input_source": "batch", "batch_id": self._job.input.batch_id}
        )
        return True

    async def _report_to_batch(self) -> None:
        """Tell the batch (if any) where this job stands; a closed batch is not an error."""
        batch_id = self._job.input.batch_id
        index = self._job.input.batch_index
        if batch_id is None or index is None:
            return
        try:
            await workflow.get_external_workflow_handle(batch_id).signal(
                JOB_SETTLED_SIGNAL, JobSettled(index=index, status=self._job.status)
            )
        except FailureError as err:  # the batch already closed: nothing to tell
            self._job.record(workflow.now(), "batch.report_failed", {"error": str(err)})

    async def _wait_for_payment(self) -> bool:
        """True once a signed input arrived; False on cancel or when ``pay_by_time`` passed."""
        remaining = self._job.input.pay_by_time - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: self._signed_input is not None or self._cancel is not None,
                    timeout=remaining,
                    timeout_summary="payment deadline",
                )
            except TimeoutError:
                pass
        if self._cancel is not None:
            self._cancel_job()
            return False
        if self._signed_input is None:
            error = JobError(code="payment_timeout", message="no signed input before pay_by_time")
            self._job.fail(error, workflow.now())
            self._save_memo()
            return False
        self._move(JobStatus.RUNNING, {"input_source": self._signed_input.source})
        return True

    async def _wait_for_retry(self) -> bool:
        """A failed job waits for an admin retry (while retries are left) or a cancel."""
        if not retries_left(self._job.retry_count, self._job.input.max_retries):
            return False
        self._retry = None
        try:
            await workflow.wait_condition(
                lambda: self._retry is not None or self._cancel is not None,
                timeout=self._job.input.retry_window,
                timeout_summary="retry window",
            )
        except TimeoutError:
            return False
        if self._cancel is not None:
            self._cancel_job()
            return False
        return True

    def _start_retry(self) -> list[Marketplace]:
        now = workflow.now()
        self._job.retry_count += 1
        self._job.error = None
        self._job.move_to(JobStatus.RUNNING, now, {"retry_count": self._job.retry_count})
        for marketplace in self._job.marketplaces_in(MarketplaceStatus.COMPLETED):
            self._job.move_marketplace(marketplace, MarketplaceStatus.SKIPPED, now)
        self._save_memo()
        return self._job.marketplaces_in(MarketplaceStatus.FAILED)

    # -- the change, applied by the listing entity ------------------------------------------

    async def _apply_round(self, marketplaces: list[Marketplace]) -> None:
        """Hand the change to the SKU's entity and wait for its outcome on each marketplace
        (``listing_outcome``); a cancel asks the entity to withdraw what the job created."""
        now = workflow.now()
        for marketplace in marketplaces:
            self._job.move_marketplace(marketplace, MarketplaceStatus.RUNNING, now)
        self._save_memo()
        job_input = self._job.input
        change = Change(
            job_id=job_input.job_id,
            round=self._job.retry_count,
            listing=job_input.listing,
            marketplaces=marketplaces,
            publish_retry=job_input.publish_retry,
            heartbeat_timeout=job_input.publish_heartbeat_timeout,
        )
        await workflow.execute_local_activity(
            HAND_CHANGE_ACTIVITY,
            change,
            start_to_close_timeout=HAND_OFF_TIMEOUT,
            summary=f"hand the change to listing {job_input.listing.sku}",
        )
        await workflow.wait_condition(lambda: not self._running() or self._cancel is not None)
        if self._cancel is not None:
            await self._withdraw()

    def _running(self) -> list[Marketplace]:
        return self._job.marketplaces_in(MarketplaceStatus.RUNNING)

    async def _withdraw(self) -> None:
        """Ask the entity to stop this job's change and end what it created; wait for it."""
        request = WithdrawJob(job_id=self._job.input.job_id, reason=self._cancel_reason())
        entity = workflow.get_external_workflow_handle(
            listing_workflow_id(self._job.input.listing.sku)
        )
        try:
            await entity.signal(WITHDRAW_SIGNAL, request)
        except FailureError as err:  # no entity: nothing was handed over, nothing to end
            self._job.record(workflow.now(), "withdraw.failed", {"error": str(err)})
            return
        await workflow.wait_condition(lambda: self._withdrawal is not None)

    def _take_outcome(self, outcome: Outcome) -> None:
        state = self._job.marketplaces.get(outcome.marketplace)
        if (
            state is None
            or outcome.round != self._job.retry_count
            or state.status is not MarketplaceStatus.RUNNING
        ):
            self._job.record(workflow.now(), "outcome.ignored", outcome.model_dump(mode="json"))
            return
        state.attempts += outcome.attempts
        state.action = outcome.action
        state.error = outcome.error
        detail: dict[str, object] = {"attempts": outcome.attempts}
        if outcome.status is MarketplaceStatus.COMPLETED:
            state.listing_id = outcome.listing_id
            state.listing_url = outcome.listing_url
            detail.update(listing_id=outcome.listing_id, action=outcome.action)
        elif outcome.error is not None:
            detail.update(code=outcome.error.code, message=outcome.error.message)
        self._job.move_marketplace(outcome.marketplace, outcome.status, workflow.now(), detail)
        self._save_memo()

    def _round_error(self, failed: list[Marketplace]) -> JobError:
        parts = []
        for marketplace in failed:
            error = self._job.marketplaces[marketplace].error
            parts.append(f"{marketplace.value}: {error.message if error else 'failed'}")
        return JobError(code="marketplace_failed", message="; ".join(parts))

    # -- cancel ---------------------------------------------------------------------------

    def _cancel_job(self) -> None:
        """Settle the cancel: what is still running failed (cancelled); what the entity
        withdrew says ``withdrawn``."""
        now = workflow.now()
        cancelled = JobError(code="cancelled", message="job cancelled while publishing")
        withdrawn = self._withdrawal.withdrawn if self._withdrawal else []
        for marketplace, state in self._job.marketplaces.items():
            if marketplace in withdrawn:
                state.action = Action.WITHDRAWN
            if state.status is MarketplaceStatus.RUNNING or (
                marketplace in withdrawn and state.status is MarketplaceStatus.COMPLETED
            ):
                state.error = cancelled
                detail = {"code": "cancelled", "action": state.action}
                self._job.move_marketplace(marketplace, MarketplaceStatus.FAILED, now, detail)
        published = {m.value: s.listing_id for m, s in self._job.published().items()}
        self._move(JobStatus.CANCELLED, {"reason": self._cancel_reason(), "published": published})

    def _cancel_reason(self) -> str:
        return self._cancel.reason if self._cancel else "cancelled"

    async def _finish(self) -> JobView:
        await self._report_to_batch()
        return self._job.view()

    def _save_memo(self) -> None:
        """Upsert the memo keys that changed since the last upsert (upsert merges keys).

        One upsert per transition, as always; only its content shrinks. Every memo value is a
        payload the worker encodes in the sandbox, so writing the ~2 keys a transition changes
        instead of all 6 cuts the worker's CPU per job (bench/README.md has the figures).
        """
        memo = self._job.memo()
        changed = {k: v for k, v in memo.items() if self._memo_saved.get(k, _UNSET) != v}
        workflow.upsert_memo(changed or {"updated_at": memo["updated_at"]})
        self._memo_saved = memo

    # -- messages -------------------------------------------------------------------------
    # Each message has an Update (the gateway's: its validator refuses what the state does not
    # allow, atomically, and the caller hears it: issue 11) and the older signal (first one
    # wins, for callers that talk to Temporal directly). Both apply the same ``_take_*``.

    @workflow.update
    def submit_input(self, signed_input: SignedInput) -> InputReceipt:
        """The signed payment confirmation. Of several different inputs exactly one is taken;
        a re-send of the input taken (same data and signature, or same webhook-id) is
        answered as a duplicate; anything else is refused (``REFUSED``)."""
        refuse(self._input_refusal(signed_input))
        if self._signed_input is not None:
            self._job.record(workflow.now(), "input.duplicate", _input_detail(signed_input))
            return InputReceipt(duplicate=True)
        self._take_input(signed_input)
        return InputReceipt()

    @submit_input.validator
    def _validate_input(self, signed_input: SignedInput) -> None:
        refuse(self._input_refusal(signed_input))

    def _input_refusal(self, signed_input: SignedInput) -> str | None:
        job = self._job
        if job.input.batch_id is not None:
            batch_id = job.input.batch_id
            return f"job {job.input.job_id} is paid through batch {batch_id}; pay the batch instead"
        taken = self._signed_input
        if taken is not None:
            if signed_input.same_as(taken):
                return None
            return f"job {job.input.job_id} already took another input; it is {job.status.value}"
        if not awaits_input(job.status):
            return f"job {job.input.job_id} is {job.status.value}, not awaiting_payment"
        return None

    @workflow.signal
    def provide_input(self, signed_input: SignedInput) -> None:
        """The signed payment confirmation. Only the first one while awaiting payment counts."""
        if self._job.input.batch_id is not None:
            # Paid through its batch: an input for the job itself must not release it.
            self._job.record(workflow.now(), "input.ignored", {"reason": "paid by its batch"})
            return
        first = self._signed_input
        if first is not None and signed_input.webhook_id is not None:
            if first.webhook_id == signed_input.webhook_id:
                # Standard Webhooks redelivery: acknowledged by the gateway, applied once.
                detail = {"webhook_id": signed_input.webhook_id}
                self._job.record(workflow.now(), "input.duplicate", detail)
                return
        if not awaits_input(self._job.status) or first is not None:
            self._job.record(workflow.now(), "input.ignored", {"status": self._job.status.value})
            return
        self._take_input(signed_input)

    def _take_input(self, signed_input: SignedInput) -> None:
        self._signed_input = signed_input
        self._job.input_webhook_id = signed_input.webhook_id
        self._job.input_fingerprint = signed_input.fingerprint()
        self._job.record(workflow.now(), "input.received", _input_detail(signed_input))

    @workflow.signal
    def release(self, release: BatchRelease) -> None:
        """The batch was paid and this child may run now."""
        if self._job.input.batch_id != release.batch_id or self._released is not None:
            self._job.record(workflow.now(), "release.ignored", {"batch_id": release.batch_id})
            return
        self._released = release
        self._job.record(workflow.now(), "batch.released", {"batch_id": release.batch_id})

    @workflow.update
    def request_cancel(self, request: CancelRequest) -> None:
        """Cancel (admin); refused once the job is completed or cancelled."""
        refuse(self._cancel_refusal())
        self.cancel(request)

    @request_cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        refuse(self._cancel_refusal())

    def _cancel_refusal(self) -> str | None:
        if can_cancel(self._job.status):
            return None
        return f"job {self._job.input.job_id} is {self._job.status.value}; nothing to cancel"

    @workflow.signal
    def cancel(self, request: CancelRequest) -> None:
        if not can_cancel(self._job.status) or self._cancel is not None:
            self._job.record(workflow.now(), "cancel.ignored", {"status": self._job.status.value})
            return
        self._cancel = request
        self._job.record(workflow.now(), "cancel.requested", {"reason": request.reason})

    @workflow.update
    def request_retry(self, request: RetryRequest) -> None:
        """Retry a failed job's failed marketplaces (admin); refused unless failed with
        retries left."""
        refuse(self._retry_refusal())
        self.retry(request)

    @request_retry.validator
    def _validate_retry(self, request: RetryRequest) -> None:
        refuse(self._retry_refusal())

    def _retry_refusal(self) -> str | None:
        job = self._job
        if job.status is not JobStatus.FAILED:
            return f"job {job.input.job_id} is {job.status.value}, not failed"
        if not retries_left(job.retry_count, job.input.max_retries):
            return f"job {job.input.job_id} has used all {job.input.max_retries} retries"
        return None

    @workflow.signal
    def retry(self, request: RetryRequest) -> None:
        if (
            not can_retry(self._job.status, self._job.retry_count, self._job.input.max_retries)
            or self._retry is not None
        ):
            self._job.record(workflow.now(), "retry.ignored", {"status": self._job.status.value})
            return
        self._retry = request
        self._job.record(workflow.now(), "retry.requested", {"reason": request.reason})

    @workflow.signal(name=OUTCOME_SIGNAL)
    def listing_outcome(self, outcome: Outcome) -> None:
        """The listing entity's answer for one marketplace of this job's change."""
        self._take_outcome(outcome)

    @workflow.signal(name=WITHDRAWAL_SIGNAL)
    def listing_withdrawn(self, withdrawal: Withdrawal) -> None:
        """The listing entity ended what this cancelled job created (or found nothing)."""
        self._withdrawal = withdrawal

    @workflow.query
    def status(self) -> JobView:
        return self._job.view()

    @workflow.query
    def events(self) -> list[JobEvent]:
        return list(self._job.events)


def _input_detail(signed_input: SignedInput) -> dict[str, object]:
    detail: dict[str, object] = {"source": signed_input.source}
    if signed_input.webhook_id is not None:
        detail["webhook_id"] = signed_input.webhook_id
    return detail
