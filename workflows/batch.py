"""BatchWorkflow: one payment for many listings; releases its JobWorkflow children in turn."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

from workflows.refusals import refuse

with workflow.unsafe.imports_passed_through():
    from domain.batch import (
        CANCELLED,
        CHAR_OF_STATUS,
        DEFAULT_HISTORY_EVENTS_PER_RUN,
        FAILED,
        FINISHED,
        JOB_SETTLED_SIGNAL,
        RELEASED,
        WAITING,
        BatchCarry,
        BatchInput,
        BatchRelease,
        BatchView,
        ChildrenReady,
        JobSettled,
        child_job_id,
        counts_of,
        progress_percent,
    )
    from domain.memo import BatchMemo
    from domain.messages import CancelRequest, InputReceipt, SignedInput
    from domain.status import JobStatus, awaits_input
    from workflows.job import JobWorkflow

SIGNALS_AT_ONCE = 100
"""Signals sent to children per workflow task (release or cancel): bounds each task's size."""

HISTORY_EVENTS_PER_RUN = DEFAULT_HISTORY_EVENTS_PER_RUN


@workflow.defn
class BatchWorkflow:
    """Children are started by the gateway with IDs ``{batch_id}-{index:05d}`` (each holds its
    own listing, so no payload carries 10 000 listings). The batch waits for one signed input,
    then releases children under its concurrency limit; children report back when they settle.
    Its state is one character per child, carried across continue-as-new."""

    @workflow.init
    def __init__(self, batch: BatchInput) -> None:
        self._input = batch
        carry = batch.carried
        if carry is None:
            carry = BatchCarry(
                status=JobStatus.AWAITING_PAYMENT,
                children=WAITING * batch.size,
                children_ready=False,
                paid=False,
                next_to_release=0,
                updated_at=workflow.now(),
            )
        self._status = carry.status
        self._children = bytearray(carry.children.encode("ascii"))
        self._children_ready = carry.children_ready
        self._paid = carry.paid
        self._next = carry.next_to_release
        self._updated_at = carry.updated_at
        self._error = carry.error
        self._cancel_reason = carry.cancel_reason
        self._cancel_sent = carry.cancel_sent
        self._runs = carry.runs
        self._input_fingerprint = carry.input_fingerprint
        self._payment: SignedInput | None = None
        # Release signals in flight: not awaited inline, so one slow delivery holds nothing up.
        self._sends: set[asyncio.Task[None]] = set()
        # Release children in chunks: one workflow task frees room for many, not one each.
        self._release_chunk = max(1, min(batch.concurrency // 10, SIGNALS_AT_ONCE))

    # -- run ------------------------------------------------------------------------------

    @workflow.run
    async def run(self, batch: BatchInput) -> BatchView:
        self._save_memo()
        if self._status is JobStatus.AWAITING_PAYMENT:
            await self._wait_for_payment()
        while not self._all_finished() or self._sends:
            if self._history_is_long():
                await self._continue_as_new()
            if self._cancel_reason is not None:
                await self._send_cancels()
            elif self._paid and self._children_ready:
                await self._release_more()
            await workflow.wait_condition(self._has_work, timeout_summary="children")
        await self._drain_sends()
        self._settle()
        return self.progress()

    async def _wait_for_payment(self) -> None:
        remaining = self._input.pay_by_time - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: self._payment is not None or self._cancel_reason is not None,
                    timeout=remaining,
                    timeout_summary="batch payment deadline",
                )
            except TimeoutError:
                pass
        if self._cancel_reason is not None:
            return
        if self._payment is None:
            self._error = {
                "code": "payment_timeout",
                "message": "no signed input before pay_by_time",
            }
            self._cancel_reason = "batch payment timeout"
            self._touch()
            return
        self._paid = True
        self._status = JobStatus.RUNNING
        self._touch()

    def _has_work(self) -> bool:
        """Wake up when there is something to do (or nothing left to wait for)."""
        if self._all_finished() or self._history_is_long():
            return True
        if self._cancel_reason is not None:
            return self._cancel_sent < len(self._children)
        if not (self._paid and self._children_ready):
            return False
        wanted = min(self._release_chunk, len(self._children) - self._next)
        free = self._input.concurrency - self._children.count(RELEASED.encode())
        return wanted > 0 and free >= wanted

    async def _release_more(self) -> None:
        in_flight = self._children.count(RELEASED.encode())
        room = min(self._input.concurrency - in_flight, SIGNALS_AT_ONCE)
        indexes = list(range(self._next, min(self._next + max(room, 0), len(self._children))))
        if not indexes:
            return
        self._next = indexes[-1] + 1
        release = BatchRelease(batch_id=self._input.batch_id, received_at=workflow.now())
        for index in indexes:
            if self._children[index] == ord(WAITING):
                self._children[index] = ord(RELEASED)
                task = asyncio.create_task(self._release_child(index, release))
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)
        self._touch()

    async def _release_child(self, index: int, release: BatchRelease) -> None:
        if not await self._signal_child(index, JobWorkflow.release, release):
            if self._children[index] == ord(RELEASED):
                self._children[index] = ord(FAILED)  # the child no longer exists

    async def _drain_sends(self) -> None:
        if self._sends:
            await asyncio.gather(*list(self._sends))

    async def _send_cancels(self) -> None:
        """Cancel every child that is not finished, a slice per workflow task."""
        reason = CancelRequest(reason=self._cancel_reason or "batch cancelled")
        end = min(self._cancel_sent + SIGNALS_AT_ONCE, len(self._children))
        indexes = [
            i for i in range(self._cancel_sent, end) if chr(self._children[i]) not in FINISHED
        ]
        self._cancel_sent = end
        results = await asyncio.gather(
            *(self._signal_child(i, JobWorkflow.cancel, reason) for i in indexes)
        )
        for index, delivered in zip(indexes, results, strict=True):
            if not delivered:
                self._children[index] = ord(CANCELLED)
        self._touch()

    async def _signal_child(self, index: int, signal: object, arg: object) -> bool:
        handle = workflow.get_external_workflow_handle(child_job_id(self._input.batch_id, index))
        try:
            await handle.signal(signal, arg)  # type: ignore[call-overload]
        except FailureError:  # the child is gone (never started, or terminated)
            return False
        return True

    def _all_finished(self) -> bool:
        finished = sum(self._children.count(c.encode()) for c in FINISHED)
        return finished == len(self._children)

    def _settle(self) -> None:
        if self._cancel_reason is not None and self._error is None:
            self._status = JobStatus.CANCELLED
        elif self._error is not None or self._children.count(FAILED.encode()):
            self._status = JobStatus.FAILED
            if self._error is None:
                failed = self._children.count(FAILED.encode())
                self._error = {"code": "jobs_failed", "message": f"{failed} job(s) failed"}
        else:
            self._status = JobStatus.COMPLETED
        self._touch()

    # -- continue-as-new ------------------------------------------------------------------

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.history_events_per_run
        )

    async def _continue_as_new(self) -> None:
        await self._drain_sends()
        await workflow.wait_condition(workflow.all_handlers_finished)
        carry = BatchCarry(
            status=self._status,
            children=self._children.decode("ascii"),
            children_ready=self._children_ready,
            paid=self._paid,
            next_to_release=self._next,
            updated_at=self._updated_at,
            error=self._error,
            cancel_reason=self._cancel_reason,
            cancel_sent=self._cancel_sent,
            runs=self._runs + 1,
            input_fingerprint=self._input_fingerprint,
        )
        workflow.continue_as_new(self._input.model_copy(update={"carried": carry}))

    # -- state ----------------------------------------------------------------------------

    def _touch(self) -> None:
        self._updated_at = workflow.now()
        self._save_memo()

    def _save_memo(self) -> None:
        view = self.progress()
        workflow.upsert_memo(
            BatchMemo(
                request_fingerprint=self._input.request_fingerprint,
                children_ready=self._children_ready,
                size=view.size,
                status=view.status,
                progress=view.progress,
                counts=view.counts,
                updated_at=view.updated_at,
                input_fingerprint=self._input_fingerprint,
            ).workflow_part()
        )

    # -- messages -------------------------------------------------------------------------

    @workflow.update
    def submit_input(self, signed_input: SignedInput) -> InputReceipt:
        """Pay the batch (the gateway's way): exactly one input is taken, a re-send of it is a
        duplicate, anything else is refused (``REFUSED``: 409)."""
        refuse(self._input_refusal(signed_input))
        if self._payment is not None or self._input_fingerprint is not None:
            return InputReceipt(duplicate=True)
        self._take_input(signed_input)
        return InputReceipt()

    @submit_input.validator
    def _validate_input(self, signed_input: SignedInput) -> None:
        refuse(self._input_refusal(signed_input))

    def _input_refusal(self, signed_input: SignedInput) -> str | None:
        batch_id = self._input.batch_id
        if self._input_fingerprint is not None:
            if signed_input.fingerprint() == self._input_fingerprint:
                return None
            return f"batch {batch_id} already took another input; it is {self._status.value}"
        if not awaits_input(self._status) or self._payment is not None:
            return f"batch {batch_id} is {self._status.value}, not awaiting_payment"
        return None

    @workflow.signal
    def provide_input(self, signed_input: SignedInput) -> None:
        if awaits_input(self._status) and self._payment is None:
            self._take_input(signed_input)

    def _take_input(self, signed_input: SignedInput) -> None:
        self._payment = signed_input
        self._input_fingerprint = signed_input.fingerprint()

    @workflow.signal
    def children_ready(self, ready: ChildrenReady) -> None:
        if ready.count == len(self._children) and not self._children_ready:
            self._children_ready = True
            self._save_memo()

    @workflow.signal(name=JOB_SETTLED_SIGNAL)
    def job_settled(self, settled: JobSettled) -> None:
        if not 0 <= settled.index < len(self._children):
            return
        char = CHAR_OF_STATUS.get(settled.status)
        if char is None:
            return
        before = self.progress().progress
        self._children[settled.index] = ord(char)
        self._updated_at = workflow.now()
        if self.progress().progress != before:
            self._save_memo()  # at most 101 memo updates per batch, whatever its size

    @workflow.update
    def request_cancel(self, request: CancelRequest) -> None:
        """Cancel the batch (admin); refused once it has finished."""
        refuse(self._cancel_refusal())
        self.cancel(request)

    @request_cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        refuse(self._cancel_refusal())

    def _cancel_refusal(self) -> str | None:
        if self._status in (JobStatus.AWAITING_PAYMENT, JobStatus.RUNNING):
            return None
        return f"batch {self._input.batch_id} is {self._status.value}; nothing to cancel"

    @workflow.signal
    def cancel(self, request: CancelRequest) -> None:
        if self._cancel_reason is None and self._status in (
            JobStatus.AWAITING_PAYMENT,
            JobStatus.RUNNING,
        ):
            self._cancel_reason = request.reason

    @workflow.query
    def progress(self) -> BatchView:
        counts = counts_of(self._children.decode("ascii"))
        finished = sum(
            counts[s] for s in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
        )
        return BatchView(
            batch_id=self._input.batch_id,
            status=self._status,
            progress=progress_percent(finished, len(self._children)),
            counts=counts,
            size=len(self._children),
            concurrency=self._input.concurrency,
            created_at=self._input.created_at,
            updated_at=self._updated_at,
            pay_by_time=self._input.pay_by_time,
            error=self._error,
            runs=self._runs,
        )
