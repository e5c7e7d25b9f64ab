"""JobWorkflow: wait for a signed payment confirmation, then publish to each marketplace."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

from workflows.refusals import refuse

with workflow.unsafe.imports_passed_through():
    from domain.batch import JOB_SETTLED_SIGNAL, BatchRelease, JobSettled
    from domain.job import Job, JobError, JobEvent, JobInput, JobView, PublishRetry
    from domain.marketplace_errors import ERROR_CODES, NON_RETRYABLE_ERROR_TYPES
    from domain.marketplaces import (
        Marketplace,
        idempotency_key,
        marketplace_task_queue,
        publish_activity_name,
    )

    # Job.memo() imports domain.memo: load it here, passed through the sandbox.
    from domain.memo import JobMemo  # noqa: F401
    from domain.messages import (
        CancelRequest,
        InputReceipt,
        PublishRequest,
        PublishResult,
        RetryRequest,
        SignedInput,
    )
    from domain.status import (
        JobStatus,
        MarketplaceStatus,
        awaits_input,
        can_cancel,
        can_retry,
        retries_left,
    )


def publish_retry_policy(spec: PublishRetry) -> RetryPolicy:
    """The retry policy of one marketplace's publish activity; 4xx validation and auth errors
    are never retried (the activities also raise them as non-retryable)."""
    return RetryPolicy(
        initial_interval=spec.initial_interval,
        backoff_coefficient=spec.backoff_coefficient,
        maximum_interval=spec.maximum_interval,
        maximum_attempts=spec.maximum_attempts,
        non_retryable_error_types=list(NON_RETRYABLE_ERROR_TYPES),
    )


_UNSET = object()
PUBLISH_START_TO_CLOSE = timedelta(minutes=2)
PUBLISH_SCHEDULE_TO_CLOSE = timedelta(minutes=30)


@workflow.defn
class JobWorkflow:
    """One job: ``awaiting_payment -> running -> completed | failed | cancelled`` (DESIGN.md)."""

    @workflow.init
    def __init__(self, job_input: JobInput) -> None:
        self._job = Job(job_input, workflow.now())
        self._signed_input: SignedInput | None = None
        self._cancel: CancelRequest | None = None
        self._retry: RetryRequest | None = None
        self._released: BatchRelease | None = None
        self._memo_saved: dict[str, object] = {}

    # -- run ------------------------------------------------------------------------------

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
            await self._publish_round(pending)
            if self._cancel is not None:
                self._cancel_job()
                return await self._finish()
            failed = self._job.marketplaces_in(MarketplaceStatus.FAILED)
            if not failed:
                self._job.move_to(JobStatus.COMPLETED, workflow.now())
                self._save_memo()
                return await self._finish()
            self._job.fail(self._round_error(failed), workflow.now())
            self._save_memo()
            await self._report_to_batch()
            if not await self._wait_for_retry():
                return await self._finish()
            pending = self._start_retry()
            await self._report_to_batch()

    async def _wait_for_release(self) -> bool:
        """A batch child: its batch pays for it and releases it (under the batch's concurrency
        limit), so it waits with no deadline of its own; False when cancelled first."""
        await workflow.wait_condition(
            lambda: self._released is not None or self._cancel is not None
        )
        if self._cancel is not None:
            self._cancel_job()
            return False
        self._job.move_to(
            JobStatus.RUNNING,
            workflow.now(),
            {"input_source": "batch", "batch_id": self._job.input.batch_id},
        )
        self._save_memo()
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
            error = JobError(
                code="payment_timeout",
                message="no signed input before pay_by_time",
            )
            self._job.fail(error, workflow.now())
            self._save_memo()
            return False
        self._job.move_to(
            JobStatus.RUNNING, workflow.now(), {"input_source": self._signed_input.source}
        )
        self._save_memo()
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

    # -- publishing -----------------------------------------------------------------------

    async def _publish_round(self, marketplaces: list[Marketplace]) -> None:
        """Publish to every marketplace concurrently; a cancel stops the round."""
        tasks = [asyncio.create_task(self._publish_one(m)) for m in marketplaces]
        await workflow.wait_condition(
            lambda: all(task.done() for task in tasks) or self._cancel is not None
        )
        if self._cancel is not None:
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _publish_one(self, marketplace: Marketplace) -> None:
        job_id = self._job.input.job_id
        state = self._job.move_marketplace(marketplace, MarketplaceStatus.RUNNING, workflow.now())
        self._save_memo()
        try:
            result = await workflow.execute_activity(
                publish_activity_name(marketplace),
                PublishRequest(
                    job_id=job_id,
                    marketplace=marketplace,
                    idempotency_key=idempotency_key(job_id, marketplace),
                    listing=self._job.input.listing,
                    # An admin retry runs a failed marketplace again under the same key: what
                    # the failed run may have created is looked up before creating.
                    recover=self._job.retry_count > 0,
                ),
                result_type=PublishResult,
                task_queue=marketplace_task_queue(marketplace),
                start_to_close_timeout=PUBLISH_START_TO_CLOSE,
                schedule_to_close_timeout=PUBLISH_SCHEDULE_TO_CLOSE,
                heartbeat_timeout=self._job.input.publish_heartbeat_timeout,
                retry_policy=publish_retry_policy(
                    self._job.input.publish_retry.get(marketplace, PublishRetry())
                ),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                summary=f"publish {self._job.input.listing.sku} to {marketplace.value}",
            )
        except ActivityError as err:
            state.attempts += _attempts(err)
            state.error = _marketplace_error(err, cancelled=self._cancel is not None)
            self._job.move_marketplace(
                marketplace,
                MarketplaceStatus.FAILED,
                workflow.now(),
                {"code": state.error.code, "message": state.error.message},
            )
            self._save_memo()
            return
        except asyncio.CancelledError:
            state.error = JobError(code="cancelled", message="job cancelled before publishing")
            self._job.move_marketplace(
                marketplace, MarketplaceStatus.FAILED, workflow.now(), {"code": "cancelled"}
            )
            self._save_memo()
            return
        state.attempts += result.attempt
        state.listing_id = result.listing_id
        state.listing_url = result.listing_url
        state.error = None
        self._job.move_marketplace(
            marketplace,
            MarketplaceStatus.COMPLETED,
            workflow.now(),
            {"listing_id": result.listing_id, "attempts": result.attempt},
        )
        self._save_memo()

    def _round_error(self, failed: list[Marketplace]) -> JobError:
        parts = []
        for marketplace in failed:
            error = self._job.marketplaces[marketplace].error
            parts.append(f"{marketplace.value}: {error.message if error else 'failed'}")
        return JobError(code="marketplace_failed", message="; ".join(parts))

    # -- cancel ---------------------------------------------------------------------------

    def _cancel_job(self) -> None:
        reason = self._cancel.reason if self._cancel else "cancelled"
        published = {m.value: s.listing_id for m, s in self._job.published().items()}
        self._job.move_to(
            JobStatus.CANCELLED, workflow.now(), {"reason": reason, "published": published}
        )
        self._save_memo()

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


def _attempts(err: ActivityError) -> int:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        detail = cause.details[0]
        if isinstance(detail, dict) and isinstance(detail.get("attempt"), int):
            return int(detail["attempt"])
    return 1


def _marketplace_error(err: ActivityError, *, cancelled: bool) -> JobError:
    cause = err.cause
    if cancelled:
        return JobError(code="cancelled", message="job cancelled while publishing")
    if isinstance(cause, ApplicationError):
        code = ERROR_CODES.get(cause.type or "", "marketplace_error")
        return JobError(code=code, message=cause.message, retryable=not cause.non_retryable)
    if isinstance(cause, ActivityTimeoutError):
        return JobError(
            code="timeout",
            message=f"marketplace call timed out ({cause.type.name if cause.type else 'unknown'})",
        )
    return JobError(code="marketplace_error", message=str(cause or err))
