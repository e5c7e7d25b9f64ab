"""Batches: many listings paid once. Compact state (one character per child), never views."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.status import JobStatus
from domain.timestamps import UtcDatetime

MAX_BATCH_SIZE = 10_000
DEFAULT_HISTORY_EVENTS_PER_RUN = 8_000
"""Continue-as-new before a run's history grows past this (Temporal warns at 10 240 events)."""
JOB_SETTLED_SIGNAL = "job_settled"
"""The signal a batch child sends its batch (by name: the job module must not import batch)."""

# One character per child: how the batch sees it. Keeps 10 000 children in 10 kB.
WAITING, RELEASED, COMPLETED, FAILED, CANCELLED = "w", "r", "c", "f", "x"
FINISHED = (COMPLETED, FAILED, CANCELLED)
_STATUS_OF_CHAR = {
    WAITING: JobStatus.AWAITING_PAYMENT,
    RELEASED: JobStatus.RUNNING,
    COMPLETED: JobStatus.COMPLETED,
    FAILED: JobStatus.FAILED,
    CANCELLED: JobStatus.CANCELLED,
}
CHAR_OF_STATUS = {status: char for char, status in _STATUS_OF_CHAR.items()}


def child_job_id(batch_id: str, index: int) -> str:
    """Child workflow IDs derive from the batch ID: no list of 10 000 IDs needs storing."""
    return f"{batch_id}-{index:05d}"


def progress_percent(finished: int, total: int) -> int:
    """Integer share of finished children: 3 children read 0, 33, 66, 100."""
    return 100 if total == 0 else finished * 100 // total


class BatchInput(BaseModel):
    """What the gateway starts ``BatchWorkflow`` with (and what continue-as-new carries)."""

    model_config = ConfigDict(extra="forbid")

    batch_id: str
    size: int = Field(ge=1, le=MAX_BATCH_SIZE)
    concurrency: int = Field(ge=1)
    created_at: UtcDatetime
    pay_by_time: UtcDatetime
    request_fingerprint: str | None = None
    history_events_per_run: int = Field(default=DEFAULT_HISTORY_EVENTS_PER_RUN, ge=20)
    carried: BatchCarry | None = None


class BatchCarry(BaseModel):
    """The state one run hands the next on continue-as-new: small whatever the size."""

    model_config = ConfigDict(extra="forbid")

    status: JobStatus
    children: str
    """One character per child (w, r, c, f, x)."""
    children_ready: bool
    paid: bool
    next_to_release: int
    updated_at: UtcDatetime
    error: dict[str, Any] | None = None
    cancel_reason: str | None = None
    cancel_sent: int = 0
    runs: int = 1
    input_fingerprint: str | None = None
    """The fingerprint of the input that paid the batch (a re-send is answered alike)."""


class JobSettled(BaseModel):
    """A batch child's report: it reached ``status`` (completed, failed, cancelled)."""

    model_config = ConfigDict(extra="forbid")

    index: int
    status: JobStatus


class BatchRelease(BaseModel):
    """The batch was paid: a child may run (it skips its own payment wait)."""

    model_config = ConfigDict(extra="forbid")

    batch_id: str
    received_at: UtcDatetime


class ChildrenReady(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int


class BatchView(BaseModel):
    """``GET /batches/{id}``: status, integer progress, counts; job IDs are added by the API."""

    model_config = ConfigDict(extra="forbid")

    batch_id: str
    status: JobStatus
    progress: int
    counts: dict[JobStatus, int]
    size: int
    concurrency: int
    created_at: UtcDatetime
    updated_at: UtcDatetime
    pay_by_time: UtcDatetime
    error: dict[str, Any] | None = None
    runs: int = 1


def counts_of(children: str) -> dict[JobStatus, int]:
    return {status: children.count(char) for char, status in _STATUS_OF_CHAR.items()}


BatchInput.model_rebuild()
