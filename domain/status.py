"""The status machines of a job and of each marketplace inside it: the only legal moves."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    RUNNING = "running"
    AWAITING_INPUT = "awaiting_input"
    """A marketplace needs fields the listing lacks; the job asks for them (issue 15)."""
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MarketplaceStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Action(StrEnum):
    """What a job did on one marketplace (CONTRACT.md, the job view's ``action``; issue 13)."""

    CREATED = "created"
    REVISED = "revised"
    UNCHANGED = "unchanged"
    WITHDRAWN = "withdrawn"


class InvalidTransitionError(ValueError):
    """A move the status machine does not allow."""

    def __init__(self, kind: str, current: StrEnum, target: StrEnum) -> None:
        super().__init__(f"illegal {kind} transition: {current.value} -> {target.value}")
        self.current = current
        self.target = target


JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.AWAITING_PAYMENT: frozenset(
        {JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED}
    ),
    JobStatus.RUNNING: frozenset(
        {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.AWAITING_INPUT}
    ),
    # awaiting_input -> running once the fields are supplied; -> failed (input_timeout).
    JobStatus.AWAITING_INPUT: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED}),
    # failed -> running is an admin retry; the retry budget is checked by the caller.
    JobStatus.FAILED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}

MARKETPLACE_TRANSITIONS: dict[MarketplaceStatus, frozenset[MarketplaceStatus]] = {
    MarketplaceStatus.PENDING: frozenset({MarketplaceStatus.RUNNING, MarketplaceStatus.SKIPPED}),
    MarketplaceStatus.RUNNING: frozenset({MarketplaceStatus.COMPLETED, MarketplaceStatus.FAILED}),
    # A failed marketplace runs again when the job is retried.
    MarketplaceStatus.FAILED: frozenset({MarketplaceStatus.RUNNING}),
    # A completed marketplace is left alone (skipped) when a retry runs the others.
    # ... or is failed (cancelled) when its cancelled job's listing was withdrawn (issue 13).
    MarketplaceStatus.COMPLETED: frozenset({MarketplaceStatus.SKIPPED, MarketplaceStatus.FAILED}),
    MarketplaceStatus.SKIPPED: frozenset({MarketplaceStatus.COMPLETED}),
}

TERMINAL_JOB_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED})
"""States no move leaves."""

SETTLED_JOB_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
"""States a caller waiting for an outcome stops at (``failed`` may still be retried)."""


def check_job_transition(current: JobStatus, target: JobStatus) -> JobStatus:
    """Return ``target`` when ``current -> target`` is legal, else raise InvalidTransitionError."""
    if target not in JOB_TRANSITIONS[current]:
        raise InvalidTransitionError("job", current, target)
    return target


def check_marketplace_transition(
    current: MarketplaceStatus, target: MarketplaceStatus
) -> MarketplaceStatus:
    """Return ``target`` when ``current -> target`` is legal, else raise InvalidTransitionError."""
    if target not in MARKETPLACE_TRANSITIONS[current]:
        raise InvalidTransitionError("marketplace", current, target)
    return target


# -- predicates: the one home of "may this happen now?" (workflows and gateway both ask) --


def awaits_input(status: JobStatus) -> bool:
    """A job or batch takes a payment confirmation only while ``awaiting_payment``."""
    return status is JobStatus.AWAITING_PAYMENT


def awaits_fields(status: JobStatus) -> bool:
    """A job takes ``POST /provide_input {job_id, status_id, input_data}`` (MIP-003's
    human-in-the-loop input) only while ``awaiting_input``."""
    return status is JobStatus.AWAITING_INPUT


def can_cancel(status: JobStatus) -> bool:
    """Everything but ``completed`` and ``cancelled`` can still be cancelled (DESIGN.md)."""
    return status not in TERMINAL_JOB_STATUSES


def retries_left(retry_count: int, max_retries: int) -> bool:
    """An admin retry is allowed while ``retry_count < max_retries`` (JOB_MAX_RETRIES)."""
    return retry_count < max_retries


def can_retry(status: JobStatus, retry_count: int, max_retries: int) -> bool:
    """``failed -> running`` by an admin retry, while retries are left."""
    return status is JobStatus.FAILED and retries_left(retry_count, max_retries)
