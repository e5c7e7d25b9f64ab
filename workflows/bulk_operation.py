"""BulkOperationWorkflow: retry or cancel every job a filter matches (issue 16, ``POST
/jobs/bulk``), page by page, at most ``concurrency`` jobs at once, counting each outcome.

Durable as any workflow: an API restart does not touch it, a worker lost midway leaves its
activities to be retried on another (a retry or cancel sent twice is refused by the job's
validator the second time: counted ``skipped``, never twice ``applied``). Pages come newest
first with a cursor below the last job (api/services/job_search.py), so a job that stops
matching once acted on does not shift the next page. Continues as new between pages when the
history grows (each job costs its activity's three events).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.bulk import (
        ACT_ON_JOB_ACTIVITY,
        BULK_WORKFLOW,
        FIND_PAGE_ACTIVITY,
        BulkState,
        FindPage,
        FoundPage,
        JobActionRequest,
        JobOutcome,
        OperationView,
    )

FIND_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
"""Visibility unreachable: the operation waits for it, without end, rather than stop halfway."""
ACT_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=5)
"""A job whose Update still fails after this (Temporal or workers unavailable) is ``failed``."""
HISTORY_LIMIT = 5000


@workflow.defn(name=BULK_WORKFLOW)
class BulkOperationWorkflow:
    """Workflow ID = the operation ID (``op_…``)."""

    @workflow.init
    def __init__(self, state: BulkState) -> None:
        self._s = state

    @workflow.run
    async def run(self, state: BulkState) -> OperationView:
        s = self._s
        while not s.done:
            page: FoundPage = await workflow.execute_activity(
                FIND_PAGE_ACTIVITY,
                FindPage(filter=s.filter, page_token=s.page_token, page_size=s.page_size),
                result_type=FoundPage,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=FIND_RETRY,
                summary="find the next page of matching jobs",
            )
            slots = asyncio.Semaphore(s.concurrency)
            await asyncio.gather(*(self._act(job_id, slots) for job_id in page.job_ids))
            s.page_token = page.next_page_token
            if s.page_token is None:
                s.finish()
            workflow.upsert_memo(s.memo())
            if not s.done and self._history_full():
                workflow.continue_as_new(s)
        return s.view()

    async def _act(self, job_id: str, slots: asyncio.Semaphore) -> None:
        async with slots:
            try:
                outcome: JobOutcome = await workflow.execute_activity(
                    ACT_ON_JOB_ACTIVITY,
                    JobActionRequest(action=self._s.action, job_id=job_id, reason=self._s.reason),
                    result_type=JobOutcome,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=ACT_RETRY,
                    summary=f"{self._s.action.value} {job_id}",
                )
            except ActivityError:
                outcome = JobOutcome.FAILED
        self._s.take(outcome)

    def _history_full(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested() or info.get_current_history_length() > HISTORY_LIMIT
        )

    @workflow.query
    def progress(self) -> OperationView:
        """The counts so far (each job counted as its outcome arrives)."""
        return self._s.view()
