"""Bulk operations (issue 16): retry or cancel every job a filter matches, durably.

``POST /jobs/bulk`` starts a :class:`BulkState` as ``BulkOperationWorkflow``
(workflows/bulk_operation.py); ``GET /operations/{id}`` reads its :class:`OperationView`.
Pure: the counting rules live here, the paging and acting in the workflow and its activities.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.ids import job_id_for_key
from domain.search_filters import JobFilter

BULK_WORKFLOW = "BulkOperationWorkflow"
FIND_PAGE_ACTIVITY = "find_bulk_page"
ACT_ON_JOB_ACTIVITY = "act_on_job"
BULK_CONCURRENCY = 10
"""Jobs acted on at once by one operation (each is one Update to that job's workflow)."""
BULK_PAGE_SIZE = 100
OPERATION_ID_PREFIX = "op_"


def new_operation_id() -> str:
    return f"{OPERATION_ID_PREFIX}{uuid.uuid4().hex}"


def operation_id_for_key(key: str) -> str:
    """The same Idempotency-Key always names the same operation (and never a job), so
    Temporal itself keeps one operation per key."""
    return f"{OPERATION_ID_PREFIX}{job_id_for_key('bulk:' + key).replace('-', '')}"


class BulkAction(StrEnum):
    RETRY = "retry"
    CANCEL = "cancel"


class JobOutcome(StrEnum):
    """What acting on one job did. ``skipped``: the job no longer matched (already retried,
    completed, cancelled: the single-job route's 409) or is gone (404)."""

    APPLIED = "applied"
    SKIPPED = "skipped"
    FAILED = "failed"


class OperationStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"


class BulkRequest(BaseModel):
    """``POST /jobs/bulk``."""

    model_config = ConfigDict(extra="forbid")

    action: BulkAction
    filter: JobFilter = Field(default_factory=JobFilter, description="As `GET /jobs`.")
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class BulkAccepted(BaseModel):
    """202 to ``POST /jobs/bulk``: ``matched`` is the count when the operation started."""

    model_config = ConfigDict(extra="forbid")

    operation_id: str
    matched: int


class OperationView(BaseModel):
    """``GET /operations/{operation_id}``. Once completed, ``applied + skipped + failed ==
    matched``."""

    model_config = ConfigDict(extra="forbid")

    operation_id: str
    action: BulkAction
    status: OperationStatus
    matched: int
    applied: int = 0
    skipped: int = 0
    failed: int = 0


class FindPage(BaseModel):
    """Activity ``find_bulk_page``: the next page of the operation's matches."""

    model_config = ConfigDict(extra="forbid")

    filter: JobFilter
    page_token: str | None = None
    page_size: int = BULK_PAGE_SIZE


class FoundPage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_ids: list[str]
    next_page_token: str | None = None


class JobActionRequest(BaseModel):
    """Activity ``act_on_job``: the single-job route's retry or cancel, on one job."""

    model_config = ConfigDict(extra="forbid")

    action: BulkAction
    job_id: str
    reason: str


class BulkState(BaseModel):
    """Everything the operation carries over continue-as-new; its input too."""

    model_config = ConfigDict(extra="forbid")

    operation_id: str
    action: BulkAction
    filter: JobFilter
    """The caller's filter, bounded by ``created_before`` the operation's start: jobs created
    later are not touched."""
    reason: str
    matched: int
    concurrency: int = BULK_CONCURRENCY
    page_size: int = BULK_PAGE_SIZE
    page_token: str | None = None
    seen: int = 0
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    done: bool = False

    def take(self, outcome: JobOutcome) -> None:
        self.seen += 1
        if outcome is JobOutcome.APPLIED:
            self.applied += 1
        elif outcome is JobOutcome.SKIPPED:
            self.skipped += 1
        else:
            self.failed += 1

    def finish(self) -> None:
        """The last page is done. A job counted in ``matched`` that no longer matched when
        its page was read (retried or completed meanwhile) was never seen: it is skipped. A
        job that came to match after the start (an older job that failed since) was acted on
        and counts in ``matched`` too."""
        self.skipped += max(0, self.matched - self.seen)
        self.matched = max(self.matched, self.seen)
        self.done = True

    def view(self) -> OperationView:
        return OperationView(
            operation_id=self.operation_id,
            action=self.action,
            status=OperationStatus.COMPLETED if self.done else OperationStatus.RUNNING,
            matched=self.matched,
            applied=self.applied,
            skipped=self.skipped,
            failed=self.failed,
        )

    def memo(self) -> dict[str, Any]:
        """The memo after each page: ``GET /operations/{id}`` without a worker, or closed."""
        return {"operation": self.view().model_dump(mode="json")}
