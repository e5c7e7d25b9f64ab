"""JobGateway: what the HTTP routes do with Temporal (start, signal, query, wait)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.executions import (
    read_memo,
    require_awaiting_payment,
    require_same_request,
    signal_open,
    start_once,
)
from api.idempotency import job_id_for_key
from api.job_inputs import build_job_input
from api.problems import ProblemError
from api.schemas import ProvideInputRequest, StartJobRequest
from config.settings import Settings
from domain.job import JobEvent, JobView, initial_view
from domain.messages import CancelRequest, RetryRequest, SignedInput
from domain.signatures import SignatureVerifier, signed_content
from domain.status import SETTLED_JOB_STATUSES, JobStatus
from workflows.job import JobWorkflow

log = logging.getLogger("api.gateway")

JobHandle = WorkflowHandle[JobWorkflow, JobView]
SETTLED_STATUS_VALUES = frozenset(status.value for status in SETTLED_JOB_STATUSES)
MEMO_POLL_FIRST = 2.0  # seconds; most jobs close before, and result() returns them at once
MEMO_POLL_MAX = 3.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class JobGateway:
    """Holds the one Temporal client of the process; every route goes through it."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._signatures = SignatureVerifier.from_keys(
            settings.signing_keys(), settings.public_keys()
        )
        self._query_timeout = timedelta(seconds=settings.status_query_timeout)

    def signature_valid(self, content: bytes, signature: str) -> bool:
        return self._signatures.verify(content, signature)

    def handle(self, job_id: str) -> JobHandle:
        return self.client.get_workflow_handle_for(JobWorkflow.run, job_id)

    # -- start ----------------------------------------------------------------------------

    async def start_job(
        self, request: StartJobRequest, idempotency_key: str | None
    ) -> tuple[JobView, bool]:
        """Start a job; returns (view, created). A repeated Idempotency-Key returns the job."""
        job_id = job_id_for_key(idempotency_key) if idempotency_key else str(uuid.uuid4())
        job_input = build_job_input(request, self.settings, job_id=job_id, now=_utcnow())
        request_fingerprint = job_input.request_fingerprint or ""
        view = initial_view(job_input)
        started = await start_once(
            self.client,
            JobWorkflow.run,
            job_input,
            workflow_id=job_id,
            memo={"request_fingerprint": request_fingerprint, "view": view.model_dump(mode="json")},
            summary=f"publish {request.input_data.sku}",
        )
        if not started:  # only a repeated Idempotency-Key can name an existing job
            require_same_request(await self._memo(job_id), request_fingerprint)
            return await self.view(job_id), False
        log.info("job started job_id=%s sku=%s", job_id, request.input_data.sku)
        return view, True

    # -- read -----------------------------------------------------------------------------

    async def view(self, job_id: str) -> JobView:
        """The job view from the status query; from the memo when no worker answers."""
        try:
            return await self.handle(job_id).query(
                JobWorkflow.status, rpc_timeout=self._query_timeout
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise _not_found(job_id) from None
            log.warning("status query failed job_id=%s: %s; using memo", job_id, err.status.name)
        except TimeoutError:
            log.warning("status query timed out job_id=%s; using memo", job_id)
        return await self._view_from_memo(job_id)

    async def events(self, job_id: str) -> list[JobEvent]:
        try:
            return await self.handle(job_id).query(
                JobWorkflow.events, rpc_timeout=self._query_timeout
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise _not_found(job_id) from None
            raise ProblemError(503, "job events are unavailable: no worker answered") from None

    async def _memo(self, job_id: str) -> dict[str, Any]:
        return await read_memo(self.handle(job_id), _not_found(job_id))

    async def _view_from_memo(self, job_id: str) -> JobView:
        memo = await self._memo(job_id)
        view = JobView.model_validate(memo["view"])
        update: dict[str, Any] = {"stale": True}
        if "updated_at" in memo:  # written by the workflow from its first task on
            update["status"] = JobStatus(memo["status"])
            update["updated_at"] = datetime.fromisoformat(memo["updated_at"])
            update["retry_count"] = memo.get("retry_count", 0)
            for name, status in memo.get("marketplaces", {}).items():
                view.marketplaces[name].status = status
        return view.model_copy(update=update)

    # -- provide input --------------------------------------------------------------------

    async def provide_input(self, request: ProvideInputRequest) -> JobHandle:
        """Check existence (404), signature (403) and status (409), then signal the job."""
        handle = self.handle(request.job_id)
        memo = await self._memo(request.job_id)
        try:
            content = signed_content(request.job_id, request.data)
        except ValueError as err:
            raise ProblemError(422, f"data: {err}") from None
        if not self.signature_valid(content, request.signature):
            log.info("provide_input rejected job_id=%s: no valid signature", request.job_id)
            raise ProblemError(403, "no valid signature for this job_id and data")
        _refuse_batch_child(request.job_id, memo)
        require_awaiting_payment("job", request.job_id, memo)
        await signal_open(
            "job",
            handle,
            JobWorkflow.provide_input,
            SignedInput(data=request.data, signature=request.signature, received_at=_utcnow()),
        )
        log.info("input accepted job_id=%s", request.job_id)
        return handle

    async def wait_until_settled(self, handle: JobHandle, wait_seconds: float) -> JobView:
        """Wait up to ``wait_seconds`` for completed/failed/cancelled; return the latest view.

        A completed or cancelled job closes its workflow, which ``result()`` long-polls at no
        cost to the worker. A failed job stays open for retries, so the memo (a server read,
        no workflow task) is checked too, from 2 s on (a failed job is seen within ~2 s, and
        most jobs close before the first check); the status query runs once,
        for the final view.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        result: asyncio.Future[JobView] = asyncio.ensure_future(handle.result())
        interval = MEMO_POLL_FIRST
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                done, _ = await asyncio.wait({result}, timeout=min(interval, remaining))
                if result in done:
                    if result.exception() is None:
                        return result.result()
                    # Terminated or failed outside our code: keep reading the status instead.
                    result = loop.create_future()
                status = (await self._memo(handle.id)).get("status")
                if status == JobStatus.FAILED.value:
                    break  # open for retries: only the query has the whole view
                if status in SETTLED_STATUS_VALUES:
                    # Completed or cancelled: the workflow is closing and result() is about to
                    # return the view; a query now would replay the whole closed history.
                    interval = MEMO_POLL_FIRST
                    continue
                interval = min(interval * 1.5, MEMO_POLL_MAX)
        finally:
            result.cancel()
        return await self.view(handle.id)

    # -- admin --------------------------------------------------------------------------

    async def cancel(self, job_id: str, reason: str) -> JobHandle:
        view = await self.view(job_id)
        if view.status in (JobStatus.COMPLETED, JobStatus.CANCELLED):
            raise ProblemError(409, f"job {job_id} is {view.status.value}; nothing to cancel")
        handle = self.handle(job_id)
        await signal_open("job", handle, JobWorkflow.cancel, CancelRequest(reason=reason))
        log.info("cancel requested job_id=%s", job_id)
        return handle

    async def retry(self, job_id: str, reason: str) -> JobView:
        view = await self.view(job_id)
        if view.status is not JobStatus.FAILED:
            raise ProblemError(409, f"job {job_id} is {view.status.value}, not failed")
        if view.retry_count >= view.max_retries:
            raise ProblemError(
                409,
                f"job {job_id} has used all {view.max_retries} retries",
                retry_count=view.retry_count,
            )
        handle = self.handle(job_id)
        await signal_open("job", handle, JobWorkflow.retry, RetryRequest(reason=reason))
        log.info("retry requested job_id=%s", job_id)
        return await self.view(job_id)

    # -- payment webhooks -------------------------------------------------------------------

    async def confirm_payment(self, job_id: str, signed_input: SignedInput) -> bool:
        """Apply a verified payment webhook; False when this delivery was already applied.

        De-duplication is durable: the job's memo records the webhook-id of the input it
        took, and the workflow itself ignores a redelivery racing with the first one.
        """
        handle = self.handle(job_id)
        memo = await self._memo(job_id)
        _refuse_batch_child(job_id, memo)
        if signed_input.webhook_id and memo.get("input_webhook_id") == signed_input.webhook_id:
            log.info("webhook %s already applied job_id=%s", signed_input.webhook_id, job_id)
            return False
        require_awaiting_payment("job", job_id, memo)
        await signal_open("job", handle, JobWorkflow.provide_input, signed_input)
        log.info("payment webhook %s accepted job_id=%s", signed_input.webhook_id, job_id)
        return True


def _refuse_batch_child(job_id: str, memo: Mapping[str, Any]) -> None:
    if memo.get("batch_id"):
        raise ProblemError(
            409, f"job {job_id} is paid through batch {memo['batch_id']}; pay the batch instead"
        )


def _not_found(job_id: str) -> ProblemError:
    return ProblemError(404, f"job {job_id} not found")
