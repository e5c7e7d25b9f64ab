"""BatchGateway: start a batch and its children, pay it, read its progress, cancel it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.executions import (
    CLOSED,
    read_memo,
    require_awaiting_payment,
    require_same_request,
    signal_open,
    start_once,
)
from api.idempotency import job_id_for_key
from api.job_inputs import build_job_input, request_json
from api.problems import ProblemError
from api.schemas import BatchProvideInputRequest, StartJobRequest
from config.settings import Settings
from domain.batch import BatchInput, BatchView, ChildrenReady, child_job_id
from domain.canonical import fingerprint
from domain.messages import CancelRequest, SignedInput
from domain.signatures import SignatureVerifier, signed_content
from domain.status import JobStatus
from workflows.batch import BatchWorkflow
from workflows.job import JobWorkflow

log = logging.getLogger("api.batches")
STARTS_IN_FLIGHT = 32
"""Child workflow starts the gateway keeps in flight (10 000 children in seconds, politely)."""

BatchHandle = WorkflowHandle[BatchWorkflow, BatchView]


class BatchGateway:
    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._signatures = SignatureVerifier.from_keys(
            settings.signing_keys(), settings.public_keys()
        )

    def handle(self, batch_id: str) -> BatchHandle:
        return self.client.get_workflow_handle_for(BatchWorkflow.run, batch_id)

    async def create(
        self, jobs: list[StartJobRequest], idempotency_key: str | None
    ) -> tuple[str, bool]:
        """Start the batch, then every child, then tell the batch they are all there.

        Child IDs are derived from the batch ID, so a retried request (same Idempotency-Key)
        completes a batch whose children were only partly started, and never duplicates one.
        """
        request_fingerprint = fingerprint([request_json(job) for job in jobs])
        batch_id = (
            f"batch-{job_id_for_key('batch:' + idempotency_key)}"
            if idempotency_key
            else f"batch-{uuid.uuid4()}"
        )
        now = datetime.now(UTC)
        created = await start_once(
            self.client,
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
            # "size" too: until a worker runs the batch's first task, the memo is the view.
            memo={
                "request_fingerprint": request_fingerprint,
                "children_ready": False,
                "size": len(jobs),
            },
            summary=f"batch of {len(jobs)} listings",
        )
        if not created:  # only a repeated Idempotency-Key can name an existing batch
            memo = await self._memo(batch_id)
            require_same_request(memo, request_fingerprint)
            if memo.get("children_ready"):
                return batch_id, created
        await self._start_children(batch_id, jobs, now)
        await self.handle(batch_id).signal(
            BatchWorkflow.children_ready, ChildrenReady(count=len(jobs))
        )
        log.info("batch started batch_id=%s size=%d", batch_id, len(jobs))
        return batch_id, created

    async def _start_children(
        self, batch_id: str, jobs: list[StartJobRequest], now: datetime
    ) -> None:
        slots = asyncio.Semaphore(STARTS_IN_FLIGHT)

        async def start(index: int, job: StartJobRequest) -> None:
            job_id = child_job_id(batch_id, index)
            job_input = build_job_input(
                job, self.settings, job_id=job_id, now=now, batch_id=batch_id, batch_index=index
            )
            async with slots:
                # False when an earlier attempt of the same request started it: fine.
                await start_once(
                    self.client,
                    JobWorkflow.run,
                    job_input,
                    workflow_id=job_id,
                    memo={"batch_id": batch_id},
                    summary=f"publish {job.input_data.sku} (batch)",
                )

        await asyncio.gather(*(start(i, job) for i, job in enumerate(jobs)))

    # -- read -----------------------------------------------------------------------------

    async def view(self, batch_id: str) -> dict[str, Any]:
        handle = self.handle(batch_id)
        try:
            view = await handle.query(
                BatchWorkflow.progress,
                rpc_timeout=timedelta(seconds=self.settings.status_query_timeout),
            )
            body = view.model_dump(mode="json")
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise _not_found(batch_id) from None
            memo = await self._memo(batch_id)
            body = {**memo, "batch_id": batch_id, "stale": True}
            body.pop("request_fingerprint", None)
        body["job_ids"] = [child_job_id(batch_id, i) for i in range(int(body["size"]))]
        return body

    async def _memo(self, batch_id: str) -> dict[str, Any]:
        return await read_memo(self.handle(batch_id), _not_found(batch_id))

    # -- pay, cancel ----------------------------------------------------------------------

    async def provide_input(self, request: BatchProvideInputRequest) -> None:
        """Check existence (404), signature (403) and status (409), then signal the batch."""
        batch_id = request.batch_id
        memo = await self._memo(batch_id)
        try:
            content = signed_content(batch_id, request.data)
        except ValueError as err:
            raise ProblemError(422, f"data: {err}") from None
        if not self._signatures.verify(content, request.signature):
            raise ProblemError(403, "no valid signature for this batch_id and data")
        require_awaiting_payment("batch", batch_id, memo)
        await signal_open(
            "batch",
            self.handle(batch_id),
            BatchWorkflow.provide_input,
            SignedInput(
                data=request.data,
                signature=request.signature,
                received_at=datetime.now(UTC),
                source="batch_provide_input",
            ),
        )
        log.info("batch input accepted batch_id=%s", batch_id)

    async def cancel(self, batch_id: str, reason: str) -> None:
        memo = await self._memo(batch_id)
        if memo.get("status") in (JobStatus.COMPLETED.value, JobStatus.CANCELLED.value, CLOSED):
            raise ProblemError(409, f"batch {batch_id} is {memo.get('status')}; nothing to cancel")
        await signal_open(
            "batch", self.handle(batch_id), BatchWorkflow.cancel, CancelRequest(reason=reason)
        )


def _not_found(batch_id: str) -> ProblemError:
    return ProblemError(404, f"batch {batch_id} not found")
