"""What the job routes do: start a job once, read its view and events, take its payment, wait
for its outcome, cancel and retry it. Temporal is reached only through ``Executions``."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.exceptions import RequestValidationError
from temporalio.client import WorkflowHandle

from api.problems import ProblemError, idempotency_key_reused
from api.schemas import (
    ProvideFieldsRequest,
    ProvideFieldsResponse,
    ProvideInputRequest,
    StartJobRequest,
)
from api.services import job_actions
from api.services.callback_urls import callback_url_errors
from api.services.payments import Payments
from api.services.temporal import JOB, LISTING, ExecutionClosed, Executions, WorkerSilent
from config.settings import Settings
from domain.callbacks import CallbackPolicy
from domain.canonical import fingerprint, input_hash
from domain.ids import job_id_for_key, new_job_id
from domain.job import Job, JobEvent, JobInput, JobView, PublishRetry, initial_view
from domain.listing_entity import ListingView, listing_workflow_id, with_listing_progress
from domain.marketplaces import ALL_MARKETPLACES
from domain.memo import JobMemo
from domain.messages import FieldsAnswer, SignedInput
from domain.mip003 import MipStatusView, mip_status_view
from domain.status import SETTLED_JOB_STATUSES, JobStatus, MarketplaceStatus
from workflows.job import JobWorkflow
from workflows.listing import ListingWorkflow

log = logging.getLogger("api.jobs")

MEMO_POLL_FIRST = 2.0  # seconds; most jobs close before, and result() returns them at once
MEMO_POLL_MAX = 3.0
ADMIN_WAIT_SECONDS = 10.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def request_json(request: StartJobRequest) -> dict[str, Any]:
    """The caller's fields, as "the same body" of an Idempotency-Key compares them (the
    listing as received: the same listing spelled as another form is another body)."""
    body: dict[str, Any] = {
        "input_data": request.received_input_data(),
        "identifier_from_purchaser": request.identifier_from_purchaser,
        "marketplaces": request.marketplaces,
    }
    if request.callback_url is not None:  # absent: the fingerprints jobs were started with
        body["callback_url"] = request.callback_url
    return body


def callback_policy(request: StartJobRequest, settings: Settings) -> CallbackPolicy | None:
    """The job's callback URL with the schedule from settings (None: no callback_url)."""
    if request.callback_url is None:
        return None
    return CallbackPolicy(
        url=request.callback_url,
        retry_window=settings.callback_retry_window,
        initial_interval=settings.callback_retry_initial_interval,
        maximum_interval=settings.callback_retry_maximum_interval,
        timeout=timedelta(seconds=settings.callback_timeout),
    )


def build_job_input(
    request: StartJobRequest,
    settings: Settings,
    *,
    job_id: str,
    now: datetime,
    batch_id: str | None = None,
    batch_index: int | None = None,
) -> JobInput:
    """The JobWorkflow input of a start request (single jobs and batch children alike): the
    MIP-004 input hash (of ``input_data`` as received), the payment reference, deadlines,
    retry policy from settings."""
    identifier = request.identifier_from_purchaser or f"mj-{uuid.uuid4().hex[:16]}"
    marketplaces = list(request.marketplaces or ALL_MARKETPLACES)
    return JobInput(
        job_id=job_id,
        listing=request.input_data,
        marketplaces=marketplaces,
        identifier_from_purchaser=identifier,
        input_hash=input_hash(identifier, request.received_input_data()),
        blockchain_identifier=f"pay_{uuid.uuid4().hex}",
        created_at=now,
        pay_by_time=now + settings.payment_timeout,
        max_retries=settings.job_max_retries,
        retry_window=settings.retry_window,
        input_timeout=settings.input_timeout,
        request_fingerprint=fingerprint(request_json(request)),
        publish_heartbeat_timeout=settings.publish_heartbeat_timeout,
        batch_id=batch_id,
        batch_index=batch_index,
        publish_retry={
            m: PublishRetry(
                initial_interval=settings.publish_retry_initial_interval,
                maximum_interval=settings.publish_retry_maximum_interval,
                maximum_attempts=settings.max_attempts(m),
            )
            for m in marketplaces
        },
        callback=callback_policy(request, settings),
    )


async def start_job_workflow(executions: Executions, job_input: JobInput, summary: str) -> bool:
    """Start one JobWorkflow with its full start memo and its search attributes (single jobs
    and batch children): findable by ``GET /jobs`` from the start, no upsert needed."""
    return await executions.start_once(
        JobWorkflow.run,
        job_input,
        workflow_id=job_input.job_id,
        memo=JobMemo.at_start(
            initial_view(job_input), job_input.request_fingerprint, job_input.batch_id
        ),
        summary=summary,
        search_attributes=Job(job_input, job_input.created_at).search_attributes(),
    )


class JobService:
    def __init__(self, executions: Executions, payments: Payments, settings: Settings) -> None:
        self.executions = executions
        self.payments = payments
        self.settings = settings

    # -- start ----------------------------------------------------------------------------

    async def start(
        self, request: StartJobRequest, idempotency_key: str | None
    ) -> tuple[JobView, bool]:
        """Start a job; returns (view, created). A repeated Idempotency-Key returns the job
        (same body) or 422 (another body)."""
        if errors := request.marketplace_limit_errors(self.settings.listing_limits()):
            raise RequestValidationError(errors)  # 422 naming marketplace and field
        if errors := await callback_url_errors([((), request)], self.settings):
            raise RequestValidationError(errors)
        job_id = job_id_for_key(idempotency_key) if idempotency_key else new_job_id()
        job_input = build_job_input(request, self.settings, job_id=job_id, now=utcnow())
        started = await start_job_workflow(
            self.executions, job_input, f"publish {request.input_data.sku}"
        )
        if not started:  # only a repeated Idempotency-Key can name an existing job
            memo = JobMemo.model_validate((await self.executions.describe(JOB, job_id)).memo)
            if memo.request_fingerprint != job_input.request_fingerprint:
                raise idempotency_key_reused()
            return await self.view(job_id), False
        log.info("job started job_id=%s sku=%s", job_id, request.input_data.sku)
        return initial_view(job_input), True

    # -- read -----------------------------------------------------------------------------

    async def view(self, job_id: str) -> JobView:
        """The job view from the status query; from the memo (``stale``) when no worker
        answers. 404 when unknown or not a job."""
        try:
            view: JobView = await self.executions.query(JOB, job_id, JobWorkflow.status)
            return await self._with_listing_progress(view)
        except WorkerSilent:
            log.warning("status query unanswered job_id=%s; using memo", job_id)
        execution = await self.executions.describe(JOB, job_id)
        return JobMemo.model_validate(execution.memo).stale_view(job_id, not execution.running)

    async def _with_listing_progress(self, view: JobView) -> JobView:
        """While marketplaces run, what the SKU's entity already placed (one more query,
        only then); the job's own view when the entity cannot tell (none, or no worker)."""
        running = any(s.status is MarketplaceStatus.RUNNING for s in view.marketplaces.values())
        if view.status is not JobStatus.RUNNING or not running or view.sku is None:
            return view
        try:
            listing: ListingView = await self.executions.query(
                LISTING, listing_workflow_id(view.sku), ListingWorkflow.view
            )
        except (WorkerSilent, ProblemError):
            return view
        return with_listing_progress(view, listing)

    async def mip_status(self, job_id: str) -> MipStatusView:
        """MIP-003 ``GET /status?job_id=``: the job view in the five MIP statuses."""
        view = await self.view(job_id)
        reason = await self.cancel_reason(job_id) if view.status is JobStatus.CANCELLED else None
        return mip_status_view(view, cancel_reason=reason)

    async def cancel_reason(self, job_id: str) -> str | None:
        """Why a cancelled job was cancelled (its ``job.cancelled`` event); None when no worker
        answers the events query."""
        try:
            events = await self.events(job_id)
        except ProblemError:
            return None
        reasons = [e.detail.get("reason") for e in events if e.type == "job.cancelled"]
        return str(reasons[-1]) if reasons and reasons[-1] else None

    async def events(self, job_id: str) -> list[JobEvent]:
        try:
            events: list[JobEvent] = await self.executions.query(JOB, job_id, JobWorkflow.events)
            return events
        except WorkerSilent:
            raise ProblemError(503, "job events are unavailable: no worker answered") from None

    # -- payment --------------------------------------------------------------------------

    async def provide_input(self, request: ProvideInputRequest) -> bool:
        """404 unknown, 403 no valid signature, 409 not awaiting payment (or paid through its
        batch, or another input taken); else the input is taken. True when it is a re-send
        of the input already taken (answered like the first)."""
        execution = await self.executions.describe(JOB, request.job_id)
        self.payments.check_signature(JOB, request.job_id, request.data, request.signature)
        signed_input = SignedInput(
            data=request.data, signature=request.signature, received_at=utcnow()
        )
        return await self._pay(execution, signed_input)

    async def provide_fields(self, request: ProvideFieldsRequest) -> ProvideFieldsResponse:
        """MIP-003 input for an ``awaiting_input`` job (issue 15): 404 unknown; 409 not
        awaiting input or ``status_id`` not its question; 422 naming each field that does not
        fit the question's schema; else taken (the job runs again). A re-send of the answer
        taken gets the same answer."""
        execution = await self.executions.describe(JOB, request.job_id)
        answer = FieldsAnswer(
            status_id=request.status_id, input_data=request.input_data, received_at=utcnow()
        )
        try:
            await self.executions.update(JOB, request.job_id, JobWorkflow.provide_fields, answer)
        except ExecutionClosed:
            raise await self._closed(request.job_id) from None
        view = JobMemo.model_validate(execution.memo).view
        identifier = view.identifier_from_purchaser if view else ""
        log.info("input taken job_id=%s status_id=%s", request.job_id, request.status_id)
        return ProvideFieldsResponse(input_hash=input_hash(identifier, request.input_data))

    async def confirm_payment(self, job_id: str, signed_input: SignedInput) -> bool:
        """A verified payment webhook; True when this delivery was already applied."""
        execution = await self.executions.describe(JOB, job_id)
        return await self._pay(execution, signed_input)

    async def _pay(self, execution: Any, signed_input: SignedInput) -> bool:
        batch_id = JobMemo.model_validate(execution.memo).batch_id
        if batch_id:
            raise ProblemError(
                409,
                f"job {execution.workflow_id} is paid through batch {batch_id}; "
                "pay the batch instead",
            )
        receipt = await self.payments.pay(JOB, execution, JobWorkflow.submit_input, signed_input)
        return receipt.duplicate

    async def wait_until_settled(self, job_id: str, wait_seconds: float) -> JobView:
        """Wait up to ``wait_seconds`` for completed/failed/cancelled; return the latest view.

        A completed or cancelled job closes its workflow, which ``result()`` long-polls at no
        cost to the worker. A failed job stays open for retries, so the memo (a server read,
        no workflow task) is checked too, from 2 s on; the status query runs once, for the
        final view.
        """
        handle: WorkflowHandle[Any, JobView] = self.executions.client.get_workflow_handle_for(
            JobWorkflow.run, job_id
        )
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
                memo = JobMemo.model_validate((await self.executions.describe(JOB, job_id)).memo)
                if memo.status in (JobStatus.FAILED, JobStatus.AWAITING_INPUT) or (
                    memo.status in SETTLED_JOB_STATUSES and memo.callback_pending()
                ):
                    # Open for retries or for fields it asks for (awaiting_input), or for its
                    # callback's delivery (which may take the whole CALLBACK_RETRY_WINDOW):
                    # only the query has the whole view.
                    break
                if memo.status in SETTLED_JOB_STATUSES:
                    # Completed or cancelled: the workflow is closing and result() is about to
                    # return the view; a query now would replay the whole closed history.
                    interval = MEMO_POLL_FIRST
                    continue
                interval = min(interval * 1.5, MEMO_POLL_MAX)
        finally:
            result.cancel()
        return await self.view(job_id)

    # -- admin ----------------------------------------------------------------------------

    async def cancel(self, job_id: str, reason: str) -> JobView:
        """Cancel (409 once completed or cancelled), then wait briefly for the outcome."""
        await self.request_cancel(job_id, reason)
        return await self.wait_until_settled(job_id, ADMIN_WAIT_SECONDS)

    async def retry(self, job_id: str, reason: str) -> JobView:
        """Retry a failed job's failed marketplaces (409 unless failed with retries left)."""
        await self.request_retry(job_id, reason)
        return await self.view(job_id)

    async def request_cancel(self, job_id: str, reason: str) -> None:
        """The cancel without the wait (api/services/job_actions.py)."""
        await job_actions.request_cancel(self.executions, job_id, reason, self._closed)

    async def request_retry(self, job_id: str, reason: str) -> None:
        """The retry (api/services/job_actions.py)."""
        await job_actions.request_retry(self.executions, job_id, reason, self._closed)

    async def _closed(self, job_id: str) -> ProblemError:
        view = await self.view(job_id)
        return ProblemError(409, f"job {job_id} is {view.status.value}")
