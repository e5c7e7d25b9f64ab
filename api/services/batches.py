"""What the batch routes do: start a batch and its children once, pay it, read it, cancel it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi.exceptions import RequestValidationError

from api.problems import ProblemError, idempotency_key_reused
from api.schemas import BatchProvideInputRequest, StartJobRequest
from api.services.callback_urls import callback_url_errors
from api.services.jobs import build_job_input, request_json, start_job_workflow, utcnow
from api.services.payments import Payments
from api.services.temporal import BATCH, ExecutionClosed, Executions, WorkerSilent
from config.settings import Settings
from domain.batch import BatchInput, BatchView, ChildrenReady, child_job_id
from domain.canonical import fingerprint
from domain.ids import batch_id_for_key, new_batch_id
from domain.memo import BatchMemo
from domain.messages import CancelRequest, SignedInput
from workflows.batch import BatchWorkflow

log = logging.getLogger("api.batches")
STARTS_IN_FLIGHT = 32
"""Child workflow starts the gateway keeps in flight (10 000 children in seconds, politely)."""


class BatchService:
    def __init__(self, executions: Executions, payments: Payments, settings: Settings) -> None:
        self.executions = executions
        self.payments = payments
        self.settings = settings

    async def create(
        self, jobs: list[StartJobRequest], idempotency_key: str | None
    ) -> tuple[str, bool]:
        """Start the batch, then every child, then tell the batch they are all there.

        Child IDs are derived from the batch ID, so a retried request (same Idempotency-Key)
        completes a batch whose children were only partly started, and never duplicates one.
        """
        limits = self.settings.listing_limits()
        errors = [
            e
            for i, job in enumerate(jobs)
            for e in job.marketplace_limit_errors(limits, ("jobs", i))
        ]
        if errors:
            raise RequestValidationError(errors)  # 422 naming entry, marketplace and field
        located = [(("jobs", i), job) for i, job in enumerate(jobs)]
        if errors := await callback_url_errors(located, self.settings):
            raise RequestValidationError(errors)
        request_fingerprint = fingerprint([request_json(job) for job in jobs])
        batch_id = batch_id_for_key(idempotency_key) if idempotency_key else new_batch_id()
        now = utcnow()
        created = await self.executions.start_once(
            BatchWorkflow.run,
            BatchInput(
                batch_id=batch_id,
                size=len(jobs),
                concurrency=self.settings.batch_concurrency,
                created_at=now,
                pay_by_time=now + self.settings.payment_timeout,
                request_fingerprint=request_fingerprint,
                history_events_per_run=self.settings.batch_history_events_per_run,
            ),
            workflow_id=batch_id,
            memo=BatchMemo.at_start(request_fingerprint, len(jobs)),
            summary=f"batch of {len(jobs)} listings",
        )
        if not created:  # only a repeated Idempotency-Key can name an existing batch
            memo = BatchMemo.model_validate((await self.executions.describe(BATCH, batch_id)).memo)
            if memo.request_fingerprint != request_fingerprint:
                raise idempotency_key_reused()
            if memo.children_ready:
                return batch_id, created
        await self._start_children(batch_id, jobs)
        await self.executions.signal(
            batch_id, BatchWorkflow.children_ready, ChildrenReady(count=len(jobs))
        )
        log.info("batch started batch_id=%s size=%d", batch_id, len(jobs))
        return batch_id, created

    async def _start_children(self, batch_id: str, jobs: list[StartJobRequest]) -> None:
        slots = asyncio.Semaphore(STARTS_IN_FLIGHT)
        now = utcnow()

        async def start(index: int, job: StartJobRequest) -> None:
            job_input = build_job_input(
                job,
                self.settings,
                job_id=child_job_id(batch_id, index),
                now=now,
                batch_id=batch_id,
                batch_index=index,
            )
            async with slots:
                # False when an earlier attempt of the same request started it: fine.
                await start_job_workflow(
                    self.executions, job_input, f"publish {job.input_data.sku} (batch)"
                )

        await asyncio.gather(*(start(i, job) for i, job in enumerate(jobs)))

    # -- read -----------------------------------------------------------------------------

    async def view(self, batch_id: str) -> dict[str, Any]:
        """``{status, progress, counts, job_ids, …}``; from the memo (``stale``) when no
        worker answers; 404 when unknown or not a batch."""
        try:
            view: BatchView = await self.executions.query(BATCH, batch_id, BatchWorkflow.progress)
            body = view.model_dump(mode="json")
        except WorkerSilent:
            execution = await self.executions.describe(BATCH, batch_id)
            body = BatchMemo.model_validate(execution.memo).stale_view(batch_id)
        body["job_ids"] = [child_job_id(batch_id, i) for i in range(int(body["size"]))]
        return body

    # -- pay, cancel ----------------------------------------------------------------------

    async def provide_input(self, request: BatchProvideInputRequest) -> None:
        """404 unknown, 403 no valid signature, 409 not awaiting payment; else the batch
        takes the input (a re-send of the input taken is answered alike)."""
        execution = await self.executions.describe(BATCH, request.batch_id)
        self.payments.check_signature(BATCH, request.batch_id, request.data, request.signature)
        signed_input = SignedInput(
            data=request.data,
            signature=request.signature,
            received_at=utcnow(),
            source="batch_provide_input",
        )
        await self.payments.pay(BATCH, execution, BatchWorkflow.submit_input, signed_input)

    async def cancel(self, batch_id: str, reason: str) -> None:
        """Cancel every unfinished job of the batch (409 once the batch has finished)."""
        await self.executions.describe(BATCH, batch_id)
        try:
            await self.executions.update(
                BATCH, batch_id, BatchWorkflow.request_cancel, CancelRequest(reason=reason)
            )
        except ExecutionClosed:
            raise ProblemError(409, f"batch {batch_id} has finished; nothing to cancel") from None
