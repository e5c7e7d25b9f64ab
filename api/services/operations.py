"""What the find-and-act routes do (issue 16): list jobs and listings from visibility, start a
bulk operation, read its progress. Temporal is reached through ``Executions`` and
``JobSearch``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from temporalio.service import RPCError, RPCStatusCode

from api.problems import ProblemError, idempotency_key_reused, unregistered_attribute_problem
from api.services.job_search import JobPage, JobSearch, ListingPage
from api.services.temporal import Executions, Kind, WorkerSilent
from config.settings import Settings
from domain.bulk import (
    BULK_WORKFLOW,
    BulkAccepted,
    BulkRequest,
    BulkState,
    OperationView,
    new_operation_id,
    operation_id_for_key,
)
from domain.canonical import fingerprint
from domain.search_filters import JobFilter, ListingFilter, PageToken
from workflows.bulk_operation import BulkOperationWorkflow

log = logging.getLogger("api.operations")


@contextmanager
def refused_query(detail: str | None = None) -> Iterator[None]:
    """Temporal refusing a visibility query or a page token (INVALID_ARGUMENT: a date it
    cannot store, a forged server token) is the caller's 422, never a 5xx."""
    try:
        yield
    except RPCError as err:
        if err.status != RPCStatusCode.INVALID_ARGUMENT:
            raise
        if (unregistered := unregistered_attribute_problem(err)) is not None:
            raise unregistered from None
        log.info("visibility refused a query: %s", err.message)
        raise ProblemError(
            422, detail or f"these filters cannot be searched: {err.message}"
        ) from None


OPERATION = Kind("operation", BULK_WORKFLOW)
REQUEST_MEMO = "request_fingerprint"
"""Memo key: the fingerprint of the body that started the operation (Idempotency-Key)."""


class OperationService:
    def __init__(self, executions: Executions, settings: Settings) -> None:
        self.executions = executions
        self.settings = settings
        self.search = JobSearch(executions.client)

    async def jobs(self, job_filter: JobFilter, limit: int, page_token: str | None) -> JobPage:
        """``GET /jobs``; a token that is not ours, or was issued for other filters, is 422."""
        token = None
        if page_token is not None:
            try:
                token = PageToken.decode(page_token, job_filter)
            except ValueError as err:
                raise ProblemError(422, str(err), title="Invalid page_token") from None
        with refused_query():
            return await self.search.jobs(job_filter, limit, token)

    async def listings(
        self, listing_filter: ListingFilter, limit: int, page_token: str | None
    ) -> ListingPage:
        """``GET /listings``: the server's order and its own next-page token, sealed with an
        HMAC (keyed by ``ADMIN_TOKEN``, bound to the filters): the server answers a forged
        token of its own with UNKNOWN, so one is refused here (422) before it gets there."""
        token = self._open_listing_token(page_token, listing_filter) if page_token else None
        with refused_query("page_token is not a token this API issued" if token else None):
            views, next_token = await self.search.listings(listing_filter, limit, token)
        sealed = self._seal_listing_token(next_token, listing_filter) if next_token else None
        return ListingPage(listings=views, next_page_token=sealed)

    def _listing_mac(self, server_token: bytes, listing_filter: ListingFilter) -> bytes:
        secret = self.settings.admin_token
        key = (secret.get_secret_value() if secret else "").encode()
        content = listing_filter.model_dump_json().encode() + b"." + server_token
        return hmac.new(hashlib.sha256(b"listing-page:" + key).digest(), content, "sha256").digest()

    def _seal_listing_token(self, server_token: bytes, listing_filter: ListingFilter) -> str:
        raw = self._listing_mac(server_token, listing_filter)[:16] + server_token
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _open_listing_token(self, page_token: str, listing_filter: ListingFilter) -> bytes:
        try:
            raw = base64.urlsafe_b64decode(page_token + "=" * (-len(page_token) % 4))
        except (ValueError, binascii.Error):
            raw = b""
        mac, server_token = raw[:16], raw[16:]
        expected = self._listing_mac(server_token, listing_filter)[:16]
        if not server_token or not hmac.compare_digest(mac, expected):
            raise ProblemError(
                422, "page_token is not a token this API issued for these filters"
            ) from None
        return server_token

    async def start_bulk(
        self, request: BulkRequest, idempotency_key: str | None = None
    ) -> tuple[BulkAccepted, bool]:
        """Count the matches and start the operation over the jobs created until now (later
        ones are not touched): its ID and the count, and True when it started. A repeated
        Idempotency-Key with the same body: the operation it started, False; with another
        body: 422 (as ``POST /start_job``)."""
        now = datetime.now(UTC)
        before = min(request.filter.created_before or now, now)
        after = request.filter.created_after
        if after is not None and after >= before:  # found by schemathesis: was a 500
            raise ProblemError(
                422,
                "filter.created_after is not before now: a bulk operation acts only on jobs "
                "created until it starts",
            )
        job_filter = request.filter.model_copy(update={"created_before": before})
        with refused_query():
            matched = await self.search.count(job_filter)
        operation_id = (
            operation_id_for_key(idempotency_key) if idempotency_key else new_operation_id()
        )
        request_fingerprint = fingerprint(request.model_dump(mode="json"))
        state = BulkState(
            operation_id=operation_id,
            action=request.action,
            filter=job_filter,
            reason=request.reason or f"bulk {request.action.value} by admin",
            matched=matched,
        )
        started = await self.executions.start_once(
            BulkOperationWorkflow.run,
            state,
            workflow_id=operation_id,
            memo=state.memo() | {REQUEST_MEMO: request_fingerprint},
            summary=f"bulk {request.action.value} of {matched} jobs",
        )
        if not started:  # only a repeated Idempotency-Key names an existing operation
            memo = (await self.executions.describe(OPERATION, operation_id)).memo
            if memo.get(REQUEST_MEMO) != request_fingerprint:
                raise idempotency_key_reused()
            existing = OperationView.model_validate(memo["operation"])
            return BulkAccepted(operation_id=operation_id, matched=existing.matched), False
        log.info(
            "bulk operation started operation_id=%s action=%s matched=%d",
            operation_id,
            request.action.value,
            matched,
        )
        return BulkAccepted(operation_id=operation_id, matched=matched), True

    async def view(self, operation_id: str) -> OperationView:
        """Live counts from the workflow's query; from its memo (written after each page)
        once it closed or when no worker answers. 404 when unknown or not an operation."""
        execution = await self.executions.describe(OPERATION, operation_id)
        if execution.running:
            try:
                view: OperationView = await self.executions.query(
                    OPERATION, operation_id, BulkOperationWorkflow.progress
                )
                return view
            except WorkerSilent:
                log.warning("operation query unanswered operation_id=%s; using memo", operation_id)
        return OperationView.model_validate(execution.memo["operation"])
