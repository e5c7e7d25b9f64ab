"""The activities of a bulk operation (issue 16): find a page of matching jobs, and retry or
cancel one job through the very code of ``POST /jobs/{id}/retry`` and ``/cancel``
(api/services/job_actions.py: the job workflow's validator decides)."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client

from api.problems import ProblemError
from api.services import job_actions
from api.services.job_search import JobSearch
from api.services.temporal import Executions
from config.settings import Settings
from domain.bulk import (
    ACT_ON_JOB_ACTIVITY,
    FIND_PAGE_ACTIVITY,
    BulkAction,
    FindPage,
    FoundPage,
    JobActionRequest,
    JobOutcome,
)
from domain.search_filters import PageToken


class BulkActions:
    """Registered on the ``jobs`` worker, which has the client."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self._executions = Executions(client, settings)  # STATUS_QUERY_TIMEOUT, UPDATE_TIMEOUT
        self._search = JobSearch(client)

    @activity.defn(name=FIND_PAGE_ACTIVITY)
    async def find_bulk_page(self, request: FindPage) -> FoundPage:
        """The next page of jobs matching the operation's filter, newest first, as
        ``GET /jobs`` pages them."""
        token = PageToken.decode(request.page_token, request.filter) if request.page_token else None
        page = await self._search.jobs(request.filter, request.page_size, token)
        return FoundPage(
            job_ids=[row.job_id for row in page.jobs], next_page_token=page.next_page_token
        )

    @activity.defn(name=ACT_ON_JOB_ACTIVITY)
    async def act_on_job(self, request: JobActionRequest) -> JobOutcome:
        """``applied``; ``skipped`` when the job no longer allows it (409: not failed, no
        retries left, completed or cancelled) or is gone (404). Anything else (Temporal or
        the job's worker unavailable: 503) raises, for the activity's retry policy."""
        try:
            if request.action is BulkAction.RETRY:
                await job_actions.request_retry(self._executions, request.job_id, request.reason)
            else:
                await job_actions.request_cancel(self._executions, request.job_id, request.reason)
        except ProblemError as err:
            if err.status in (404, 409):
                activity.logger.info("bulk %s skipped: %s", request.action.value, err.detail)
                return JobOutcome.SKIPPED
            raise
        return JobOutcome.APPLIED
