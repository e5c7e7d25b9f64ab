"""The HTTP status -> Temporal error mapping, answer by answer (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from activities.http_errors import (
    NON_RETRYABLE_ERROR_TYPES,
    error_for_response,
    error_text,
    parse_retry_after,
)
from domain.marketplaces import Marketplace


def _response(
    status: int, json: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=json, headers=headers)


@pytest.mark.parametrize(
    ("status", "error_type", "non_retryable"),
    [
        (400, "MarketplaceValidationError", True),
        (404, "MarketplaceValidationError", True),
        (409, "MarketplaceValidationError", True),
        (422, "MarketplaceValidationError", True),
        (401, "MarketplaceAuthError", True),
        (403, "MarketplaceAuthError", True),
        (408, "MarketplaceUnavailable", False),
        (429, "RateLimited", False),
        (500, "MarketplaceUnavailable", False),
        (502, "MarketplaceUnavailable", False),
        (503, "MarketplaceUnavailable", False),
        (504, "MarketplaceUnavailable", False),
    ],
)
def test_status_maps_to_error_type(status: int, error_type: str, non_retryable: bool) -> None:
    error = error_for_response(Marketplace.ETSY, "create_draft", _response(status, {"error": "x"}))
    assert error.type == error_type
    assert error.non_retryable is non_retryable
    assert (error_type in NON_RETRYABLE_ERROR_TYPES) is non_retryable
    assert error.details == (
        {"marketplace": "etsy", "operation": "create_draft", "status": status},
    )


def test_rate_limit_without_retry_after_uses_the_retry_policy() -> None:
    error = error_for_response(Marketplace.EBAY, "get_offers", _response(429))
    assert error.type == "RateLimited"
    assert error.next_retry_delay is None


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("86400") == timedelta(days=1)
    later = datetime.now(UTC) + timedelta(seconds=120)
    delay = parse_retry_after(format_datetime(later, usegmt=True))
    assert delay is not None and timedelta(seconds=100) < delay <= timedelta(seconds=120)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_error_text_reads_each_marketplace_body() -> None:
    ebay = {"errors": [{"errorId": 25002, "message": "Offer entity already exists."}]}
    assert error_text(_response(400, ebay)) == "25002 Offer entity already exists."
    assert error_text(_response(400, {"error": "Invalid price"})) == "Invalid price"
    etsy_array = [{"path": "/images", "type": "array_too_short"}]
    assert error_text(_response(400, etsy_array)) == "path=/images type=array_too_short"
    vinted = {"errors": [{"code": "invalid_signature", "message": "Signature does not match"}]}
    assert error_text(_response(401, vinted)) == "invalid_signature Signature does not match"
    assert (
        error_text(httpx.Response(502, text="<html>Bad gateway</html>"))
        == "<html>Bad gateway</html>"
    )
    assert error_text(httpx.Response(503)) == "Service Unavailable"


def test_error_text_is_one_bounded_line_without_bearer_tokens() -> None:
    body = {"error": "token Bearer abc.secret-token rejected\n" + "x" * 1000}
    text = error_text(_response(401, body))
    assert "secret-token" not in text
    assert "\n" not in text
    assert len(text) <= 300
