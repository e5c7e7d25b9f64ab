"""JobWorkflow: wait for a signed payment confirmation, then have the SKU's listing entity
apply the change on each marketplace."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

from workflows.job_callbacks import CompletionCallbacks
from workflows.job_messages import JobMessages
from workflows.legacy_publish import publish_round
from workflows.patches import JOB_V2

with workflow.unsafe.imports_passed_through():
    from domain.batch import JOB_SETTLED_SIGNAL, BatchRelease, JobSettled
    from domain.job import Job, JobError, JobInput, JobView
    from domain.listing_entity import (
        HAND_CHANGE_ACTIVITY,
        WITHDRAW_SIGNAL,
        Change,
        Withdrawal,
        WithdrawJob,
        listing_workflow_id,
    )
    from domain.marketplaces import Marketplace

    # Job.memo() imports domain.memo: load it here, passed through the sandbox.
    from domain.memo import JobMemo  # noqa: F401
    from domain.messages import CancelRequest, RetryRequest, SignedInput
    from domain.status import Action, JobStatus, MarketplaceStatus, retries_left


INPUT_PATCH = "awaiting-input"
"""A marketplace found fields missing: the job asks for them (issue 15; only such jobs mark)."""
HAND_OFF_TIMEOUT = timedelta(seconds=10)


@workflow.defn
class JobWorkflow(JobMessages):
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
        self._v2 = False  # set by run(): workflows/patches.py
        self._callbacks = CompletionCallbacks(self._job, self._save_memo)  # issue 16

    @workflow.run
    async def run(self, job_input: JobInput) -> JobView:
        self._v2 = workflow.patched(JOB_V2)
        if not (self._v2 and "view" in workflow.memo()):  # else the start memo serves till then
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
            if self._v2:
                await self._apply_round(pending)
            else:
                await publish_round(self._job, pending, self._cancelled, self._save_memo)
            if self._cancel is not None:
                self._cancel_job()
                return await self._finish()
            if self._job.missing and workflow.patched(INPUT_PATCH):
                pending = await self._ask_for_input()
                if pending:
                    continue
                if self._cancel is not None:
                    return await self._finish()
                error = JobError(code="input_timeout", message="no input before the deadline")
            else:
                failed = self._job.marketplaces_in(MarketplaceStatus.FAILED)
                if not failed:
                    self._move(JobStatus.COMPLETED)
                    return await self._finish()
                error = self._round_error(failed)
            self._job.fail(error, workflow.now())
            self._save_memo()
            self._callbacks.announce()  # issue 16: failed, while it waits for a retry
            await self._report_to_batch()
            if not await self._wait_for_retry():
                return await self._finish()
            pending = self._start_retry()
            await self._report_to_batch()

    def _move(self, target: JobStatus, detail: dict[str, object] | None = None) -> None:
        """The one transition helper: stamp ``workflow.now()``, save the memo (not for the
        move to running of a V2 job: its round saves, in the same task, once for both)."""
        self._job.move_to(target, workflow.now(), detail)
        if not (self._v2 and target is JobStatus.RUNNING):
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

    async def _ask_for_input(self) -> list[Marketplace]:
        """``awaiting_input`` until ``provide_fields`` (the marketplaces that asked, to run
        again), a cancel (what the job created is withdrawn) or INPUT_TIMEOUT ([])."""
        asked = list(self._job.missing)
        request = self._job.ask_for_input(workflow.now())
        self._save_memo()
        try:
            await workflow.wait_condition(
                lambda: self._job.status is not JobStatus.AWAITING_INPUT or self._cancelled(),
                timeout=request.deadline - workflow.now(),
                timeout_summary="input deadline",
            )
        except TimeoutError:
            pass
        if self._job.status is JobStatus.RUNNING:
            return asked
        if self._cancel is not None:
            await self._withdraw()
            self._cancel_job()
        return []

    # -- the change, applied by the listing entity ------------------------------------------

    async def _apply_round(self, marketplaces: list[Marketplace]) -> None:
        """Hand the change to the SKU's entity and wait for its outcomes (one
        ``listing_outcomes`` signal for the change); a cancel asks the entity to withdraw what
        the job created."""
        now = workflow.now()
        for marketplace in marketplaces:
            self._job.missing.pop(marketplace, None)
            self._job.move_marketplace(marketplace, MarketplaceStatus.RUNNING, now)
        self._save_memo()
        job_input = self._job.input
        change = Change(
            job_id=job_input.job_id,
            round=self._job.retry_count,
            listing=self._job.listing,
            marketplaces=marketplaces,
            publish_retry=job_input.publish_retry,
            heartbeat_timeout=job_input.publish_heartbeat_timeout,
            extras=self._job.extras,
            input_round=self._job.input_round,
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
        self._callbacks.announce()  # issue 16: completed, cancelled, failed for good
        await self._report_to_batch()
        await self._callbacks.finished()
        return self._job.view()
