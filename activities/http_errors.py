"""The one place that turns a marketplace HTTP failure into a Temporal ``ApplicationError``."""

from __future__ import annotations

import re
from collections.abc import Container
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.marketplace_errors import (
    MARKETPLACE_AUTH_ERROR,
    MARKETPLACE_UNAVAILABLE,
    MARKETPLACE_VALIDATION_ERROR,
    MISSING_LISTING_FIELDS,
    NON_RETRYABLE_ERROR_TYPES,
    RATE_LIMITED,
)
from domain.marketplaces import Marketplace
from domain.missing_fields import MissingField

__all__ = [
    "MARKETPLACE_AUTH_ERROR",
    "MARKETPLACE_UNAVAILABLE",
    "MARKETPLACE_VALIDATION_ERROR",
    "NON_RETRYABLE_ERROR_TYPES",
    "RATE_LIMITED",
    "error_for_response",
    "error_for_transport",
    "marketplace_error",
    "missing_fields_error",
    "send",
]

_MAX_TEXT = 300
_BEARER = re.compile(r"(?i)\b(bearer)\s+\S+")


def marketplace_error(
    marketplace: Marketplace,
    operation: str,
    error_type: str,
    text: str,
    *,
    status: int | None = None,
    next_retry_delay: timedelta | None = None,
    details: dict[str, Any] | None = None,
) -> ApplicationError:
    """Build the error; non-retryable exactly for validation and auth failures (and fields
    the listing lacks). ``details`` are added to the error's details dict."""
    where = f"{marketplace.value} {operation} failed"
    message = f"{where}: HTTP {status}: {text}" if status is not None else f"{where}: {text}"
    all_details: dict[str, Any] = {
        "marketplace": marketplace.value,
        "operation": operation,
        "status": status,
        **(details or {}),
    }
    if activity.in_activity():
        all_details["attempt"] = activity.info().attempt
    return ApplicationError(
        message,
        all_details,
        type=error_type,
        non_retryable=error_type in NON_RETRYABLE_ERROR_TYPES,
        next_retry_delay=next_retry_delay,
    )


def missing_fields_error(
    marketplace: Marketplace, operation: str, fields: list[MissingField], text: str
) -> ApplicationError:
    """``MissingListingFields`` (non-retryable): the marketplace needs ``fields``, which the
    job asks for (``awaiting_input``, issue 15); found before any write."""
    return marketplace_error(
        marketplace,
        operation,
        MISSING_LISTING_FIELDS,
        text,
        details={"missing_fields": [f.model_dump(mode="json") for f in fields]},
    )


def error_for_response(
    marketplace: Marketplace, operation: str, response: httpx.Response
) -> ApplicationError:
    """Map a non-success answer: 429 -> RateLimited (honouring Retry-After), 408/5xx ->
    MarketplaceUnavailable, 401/403 -> MarketplaceAuthError, any other 4xx ->
    MarketplaceValidationError."""
    status = response.status_code
    text = error_text(response)
    if status == 429:
        delay = parse_retry_after(response.headers.get("retry-after"))
        return marketplace_error(
            marketplace, operation, RATE_LIMITED, text, status=status, next_retry_delay=delay
        )
    if status >= 500 or status == 408:
        error_type = MARKETPLACE_UNAVAILABLE
    elif status in (401, 403):
        error_type = MARKETPLACE_AUTH_ERROR
    else:
        error_type = MARKETPLACE_VALIDATION_ERROR
    return marketplace_error(marketplace, operation, error_type, text, status=status)


def error_for_transport(
    marketplace: Marketplace, operation: str, error: httpx.RequestError
) -> ApplicationError:
    """Connect errors, timeouts and broken connections are retryable."""
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "connection failed"
    detail = _clean(str(error))
    text = f"{kind} ({type(error).__name__}{': ' + detail if detail else ''})"
    return marketplace_error(marketplace, operation, MARKETPLACE_UNAVAILABLE, text)


async def send(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    marketplace: Marketplace,
    operation: str,
    expected: Container[int] = (),
) -> httpx.Response:
    """Send ``request``; return 2xx answers and those in ``expected``, raise the mapped error
    for anything else (and for transport failures)."""
    try:
        response = await http.send(request)
    except httpx.RequestError as err:
        raise error_for_transport(marketplace, operation, err) from None
    if response.is_success or response.status_code in expected:
        return response
    activity.logger.warning(
        "%s %s answered HTTP %s", marketplace.value, operation, response.status_code
    )
    raise error_for_response(marketplace, operation, response)


def parse_retry_after(value: str | None) -> timedelta | None:
    """``Retry-After`` as delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - datetime.now(UTC))


def error_text(response: httpx.Response) -> str:
    """The marketplace's own error text: eBay ``errors[].errorId/message``, Etsy ``error``
    (or its ``[{path, type}]`` variant), Vinted ``errors[].code/message``; else the raw body."""
    try:
        body = response.json()
    except ValueError:
        return _clean(response.text) or response.reason_phrase
    parts: list[str] = []
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        for error in body["errors"]:
            if isinstance(error, dict):
                code = error.get("errorId", error.get("code"))
                message = error.get("message", "")
                parts.append(f"{code} {message}".strip() if code is not None else str(message))
    elif isinstance(body, dict) and "error" in body:
        parts.append(str(body["error"]))
    elif isinstance(body, list):
        for error in body:
            if isinstance(error, dict):
                parts.append(" ".join(f"{k}={v}" for k, v in error.items()))
    text = _clean("; ".join(p for p in parts if p))
    return text or _clean(response.text) or response.reason_phrase


def _clean(text: str) -> str:
    """One line, bounded, with anything that looks like a bearer credential removed."""
    text = _BEARER.sub(r"\1 [redacted]", " ".join(text.split()))
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
