"""The error types publish activities raise, and the job error code each one becomes."""

from __future__ import annotations

RATE_LIMITED = "RateLimited"
MARKETPLACE_UNAVAILABLE = "MarketplaceUnavailable"
MARKETPLACE_VALIDATION_ERROR = "MarketplaceValidationError"
MARKETPLACE_AUTH_ERROR = "MarketplaceAuthError"

NON_RETRYABLE_ERROR_TYPES: tuple[str, ...] = (MARKETPLACE_VALIDATION_ERROR, MARKETPLACE_AUTH_ERROR)
"""Raised as non-retryable by the activities and also named in every retry policy."""

ERROR_CODES: dict[str, str] = {
    MARKETPLACE_VALIDATION_ERROR: "validation_error",
    MARKETPLACE_AUTH_ERROR: "auth_error",
    RATE_LIMITED: "rate_limited",
    MARKETPLACE_UNAVAILABLE: "unavailable",
}
"""ApplicationError type -> the stable ``code`` in a marketplace's ``error``."""
