"""The error types publish activities raise, and the job error code each one becomes."""

from __future__ import annotations

RATE_LIMITED = "RateLimited"
MARKETPLACE_UNAVAILABLE = "MarketplaceUnavailable"
MARKETPLACE_VALIDATION_ERROR = "MarketplaceValidationError"
MARKETPLACE_AUTH_ERROR = "MarketplaceAuthError"
LISTING_GONE = "ListingGone"
"""A revise found the listing the entity knew ended or deleted on the marketplace (404 / not
active): the entity creates it again instead (issue 13)."""

NON_RETRYABLE_ERROR_TYPES: tuple[str, ...] = (
    MARKETPLACE_VALIDATION_ERROR,
    MARKETPLACE_AUTH_ERROR,
    LISTING_GONE,
)
"""Raised as non-retryable by the activities and also named in every retry policy."""

ERROR_CODES: dict[str, str] = {
    MARKETPLACE_VALIDATION_ERROR: "validation_error",
    MARKETPLACE_AUTH_ERROR: "auth_error",
    RATE_LIMITED: "rate_limited",
    MARKETPLACE_UNAVAILABLE: "unavailable",
    LISTING_GONE: "listing_gone",
}
"""ApplicationError type -> the stable ``code`` in a marketplace's ``error``."""
