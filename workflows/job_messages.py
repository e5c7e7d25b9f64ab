"""The messages a job takes (Updates, signals, queries), apart from its flow (workflows/job.py).

Each message has an Update (the gateway's: its validator refuses what the state does not allow,
atomically, and the caller hears it: issue 11) and the older signal (first one wins, for
callers that talk to Temporal directly). Both apply the same ``_take_*``. The listing entity
answers by signal (issue 13).
"""

from __future__ import annotations

from temporalio import workflow

from workflows.patches import JOB_V2
from workflows.refusals import refuse, refuse_input
from workflows.search_attributes import upsert_changed

with workflow.unsafe.imports_passed_through():
    from domain.batch import BatchRelease
    from domain.input_form import FormError
    from domain.job import Job, JobEvent, JobView
    from domain.listing_entity import (
        OUTCOMES_SIGNAL,
        WITHDRAWAL_SIGNAL,
        Outcome,
        Outcomes,
        Withdrawal,
    )
    from domain.messages import (
        CancelRequest,
        FieldsAnswer,
        InputReceipt,
        RetryRequest,
        SignedInput,
    )

    # Job.input_request_view() imports domain.mip003: load it here, passed through the sandbox.
    from domain.mip003 import status_id  # noqa: F401
    from domain.missing_fields import read_answer
    from domain.status import (
        JobStatus,
        MarketplaceStatus,
        awaits_input,
        can_cancel,
        can_retry,
        retries_left,
    )

_UNSET = object()


class JobMessages:
    """The state messages change, and the handlers; ``JobWorkflow`` waits on that state."""

    _job: Job
    _signed_input: SignedInput | None
    _cancel: CancelRequest | None
    _retry: RetryRequest | None
    _released: BatchRelease | None
    _withdrawal: Withdrawal | None
    _memo_saved: dict[str, object]

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
        # Issue 16: status, SKU, marketplaces that failed, created time; written only by the
        # transitions that change them (a status change), in one upsert.
        upsert_changed(self._job.search_attributes(), lambda: workflow.patched(JOB_V2))

    # -- the listing entity's answers --------------------------------------------------------

    @workflow.signal(name=OUTCOMES_SIGNAL)
    def listing_outcomes(self, outcomes: Outcomes) -> None:
        """The listing entity's answers for every marketplace of this job's change. No memo
        upsert here: the run loop wakes in this same workflow task and its transition
        (completed, failed, cancelled) saves the memo, so one upsert rather than two."""
        for outcome in outcomes.outcomes:
            self._take_outcome(outcome)

    @workflow.signal(name=WITHDRAWAL_SIGNAL)
    def listing_withdrawn(self, withdrawal: Withdrawal) -> None:
        """The listing entity ended what this cancelled job created (or found nothing)."""
        self._withdrawal = withdrawal

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
        if outcome.missing_fields:  # the job asks for them (awaiting_input, issue 15)
            self._job.missing[outcome.marketplace] = outcome.missing_fields
        detail: dict[str, object] = {"attempts": outcome.attempts}
        if outcome.status is MarketplaceStatus.COMPLETED:
            state.listing_id = outcome.listing_id
            state.listing_url = outcome.listing_url
            detail.update(listing_id=outcome.listing_id, action=outcome.action)
        elif outcome.error is not None:
            detail.update(code=outcome.error.code, message=outcome.error.message)
        self._job.move_marketplace(outcome.marketplace, outcome.status, workflow.now(), detail)

    # -- payment, cancel, retry ---------------------------------------------------------------

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

    # -- fields a marketplace needs (issue 15) ------------------------------------------------

    @workflow.update
    def provide_fields(self, answer: FieldsAnswer) -> InputReceipt:
        """The fields the job asks for while ``awaiting_input``, answering the question
        ``status_id`` names: taken at once (``running``), the change handed over again. A
        re-send of the answer taken is a duplicate; anything else is refused (``REFUSED``)."""
        self._validate_fields(answer)
        job = self._job
        if job.input_request_view() is None or job.input_request is None:
            job.record(workflow.now(), "input.duplicate", {"status_id": answer.status_id})
            return InputReceipt(duplicate=True)
        listing, extras = read_answer(
            job.input_request.fields, answer.input_data, job.listing, job.extras
        )
        # The flow hands the change over in this same workflow task and saves the memo then.
        job.take_fields(listing, extras, answer.fingerprint(), workflow.now())
        return InputReceipt()

    @provide_fields.validator
    def _validate_fields(self, answer: FieldsAnswer) -> None:
        refuse(self._fields_refusal(answer))
        job = self._job
        if job.input_request is not None and job.input_request_view() is not None:
            try:
                read_answer(job.input_request.fields, answer.input_data, job.listing, job.extras)
            except FormError as err:
                refuse_input(err.errors)

    def _fields_refusal(self, answer: FieldsAnswer) -> str | None:
        job = self._job
        asking = job.input_request_view()
        if asking is None:
            if (
                answer.status_id == job.answered_status_id
                and answer.fingerprint() == job.answer_fingerprint
            ):
                return None  # the answer taken, re-sent
            return f"job {job.input.job_id} is {job.status.value}, not awaiting_input"
        if answer.status_id != asking.status_id:
            return (
                f"status_id {answer.status_id} is not the question job {job.input.job_id} "
                f"asks now ({asking.status_id})"
            )
        return None

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
