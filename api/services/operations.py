"""What the find-and-act routes do (issue 16): list jobs and listings from visibility, start a
bulk operation, read its progress. Temporal is reached through ``Executions`` and
``JobSearch``."""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime

from api.problems import ProblemError
from api.services.job_search import JobPage, JobSearch, ListingPage
from api.services.temporal import Executions, Kind, WorkerSilent
from domain.bulk import (
    BULK_WORKFLOW,
    BulkAccepted,
    BulkRequest,
    BulkState,
    OperationView,
    new_operation_id,
)
from domain.search_filters import JobFilter, ListingFilter, PageToken
from workflows.bulk_operation import BulkOperationWorkflow

log = logging.getLogger("api.operations")
OPERATION = Kind("operation", BULK_WORKFLOW)


class OperationService:
    def __init__(self, executions: Executions) -> None:
        self.executions = executions
        self.search = JobSearch(executions.client)

    async def jobs(self, job_filter: JobFilter, limit: int, page_token: str | None) -> JobPage:
        """``GET /jobs``; a token that is not ours, or was issued for other filters, is 422."""
        token = None
        if page_token is not None:
            try:
                token = PageToken.decode(page_token, job_filter)
            except ValueError as err:
                raise ProblemError(422, str(err), title="Invalid page_token") from None
        return await self.search.jobs(job_filter, limit, token)

    async def listings(
        self, listing_filter: ListingFilter, limit: int, page_token: str | None
    ) -> ListingPage:
        """``GET /listings``: the server's order and its own (opaque) token, base64url."""
        token = None
        if page_token is not None:
            try:
                token = base64.urlsafe_b64decode(page_token + "=" * (-len(page_token) % 4))
            except (ValueError, binascii.Error):
                raise ProblemError(422, "page_token is not a token this API issued") from None
        try:
            views, next_token = await self.search.listings(listing_filter, limit, token)
        except Exception as err:
            # A forged token the server cannot parse is the caller's error, not ours.
            if token is not None and "token" in str(err).lower():
                raise ProblemError(422, "page_token is not a token this API issued") from None
            raise
        encoded = base64.urlsafe_b64encode(next_token).decode().rstrip("=") if next_token else None
        return ListingPage(listings=views, next_page_token=encoded)

    async def start_bulk(self, request: BulkRequest) -> BulkAccepted:
        """Count the matches and start the operation over the jobs created until now (later
        ones are not touched): 202 with its ID and the count."""
        now = datetime.now(UTC)
        before = min(request.filter.created_before or now, now)
        job_filter = request.filter.model_copy(update={"created_before": before})
        matched = await self.search.count(job_filter)
        operation_id = new_operation_id()
        state = BulkState(
            operation_id=operation_id,
            action=request.action,
            filter=job_filter,
            reason=request.reason or f"bulk {request.action.value} by admin",
            matched=matched,
        )
        await self.executions.start_once(
            BulkOperationWorkflow.run,
            state,
            workflow_id=operation_id,
            memo=state.memo(),
            summary=f"bulk {request.action.value} of {matched} jobs",
        )
        log.info(
            "bulk operation started operation_id=%s action=%s matched=%d",
            operation_id,
            request.action.value,
            matched,
        )
        return BulkAccepted(operation_id=operation_id, matched=matched)

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
