"""The error types publish activities raise, and the job error code each one becomes."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

from domain.job import JobError
from domain.missing_fields import MissingField

RATE_LIMITED = "RateLimited"
MARKETPLACE_UNAVAILABLE = "MarketplaceUnavailable"
MARKETPLACE_VALIDATION_ERROR = "MarketplaceValidationError"
MARKETPLACE_AUTH_ERROR = "MarketplaceAuthError"
LISTING_GONE = "ListingGone"
"""A revise found the listing the entity knew ended or deleted on the marketplace (404 / not
active): the entity creates it again instead (issue 13)."""
MISSING_LISTING_FIELDS = "MissingListingFields"
"""The marketplace needs fields the listing lacks (eBay item specifics, Vinted ids), found
before any write; the details name them (``missing_fields``) and the job asks for them
(``awaiting_input``, issue 15)."""

NON_RETRYABLE_ERROR_TYPES: tuple[str, ...] = (
    MARKETPLACE_VALIDATION_ERROR,
    MARKETPLACE_AUTH_ERROR,
    LISTING_GONE,
    MISSING_LISTING_FIELDS,
)
"""Raised as non-retryable by the activities and also named in every retry policy."""

ERROR_CODES: dict[str, str] = {
    MARKETPLACE_VALIDATION_ERROR: "validation_error",
    MARKETPLACE_AUTH_ERROR: "auth_error",
    RATE_LIMITED: "rate_limited",
    MARKETPLACE_UNAVAILABLE: "unavailable",
    LISTING_GONE: "listing_gone",
    MISSING_LISTING_FIELDS: "input_required",
}
"""ApplicationError type -> the stable ``code`` in a marketplace's ``error``."""


def job_error(err: BaseException) -> JobError:
    """The ``error`` of a marketplace whose activity failed (ActivityError), by its cause."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError):
        code = ERROR_CODES.get(cause.type or "", "marketplace_error")
        return JobError(code=code, message=cause.message, retryable=not cause.non_retryable)
    if isinstance(cause, ActivityTimeoutError):
        return JobError(
            code="timeout",
            message=f"marketplace call timed out ({cause.type.name if cause.type else 'unknown'})",
        )
    return JobError(code="marketplace_error", message=str(cause or err))


def attempts_of(err: BaseException) -> int:
    """How many attempts a failed activity made: the ``attempt`` our activities put in their
    error details, else 1 (0 when it never ran: cancelled before it was scheduled)."""
    if not isinstance(err, ActivityError):
        return 0
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        detail = cause.details[0]
        if isinstance(detail, dict) and isinstance(detail.get("attempt"), int):
            return int(detail["attempt"])
    return 1


def missing_fields_of(err: BaseException) -> list[MissingField]:
    """The fields a ``MissingListingFields`` failure names (its details' ``missing_fields``);
    empty for any other failure."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if not isinstance(cause, ApplicationError) or cause.type != MISSING_LISTING_FIELDS:
        return []
    detail = cause.details[0] if cause.details else None
    if not isinstance(detail, dict):
        return []
    return [MissingField.model_validate(f) for f in detail.get("missing_fields") or []]
