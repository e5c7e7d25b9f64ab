"""``marketplace-jobs listing SKU`` (issue 13): the listing of one SKU, as ``GET /listings``
answers it, one line per marketplace."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cli.app import _listing
from cli.client import ApiClient
from cli.errors import ApiError, CliError

VIEW: dict[str, Any] = {
    "sku": "SKU1",
    "status": "partial",
    "quantity": 2,
    "sold": 1,
    "oversold": 0,
    "marketplaces": {
        "ebay": {
            "state": "live",
            "listing_id": "110",
            "listing_url": "https://www.ebay.de/itm/110",
            "quantity": 2,
            "job_id": "job-2",
            "updated_at": "2026-11-29T10:00:00Z",
            "error": None,
        },
        "etsy": {
            "state": "ended",
            "listing_id": "77",
            "listing_url": None,
            "quantity": 0,
            "job_id": "job-2",
            "updated_at": "2026-11-29T10:00:00Z",
            "error": None,
        },
    },
    "job_ids": ["job-1", "job-2"],
    "updated_at": "2026-11-29T10:00:00Z",
    "stale": False,
}


def _client(status: int, body: dict[str, Any], seen: list[str]) -> ApiClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(status, json=body)

    return ApiClient("http://api", transport=httpx.MockTransport(answer))


def test_the_listing_is_printed_with_each_marketplace(capsys: pytest.CaptureFixture[str]):
    seen: list[str] = []
    with _client(200, VIEW, seen) as client:
        assert _listing(client, "SKU1") == 0
    lines = capsys.readouterr().out.splitlines()
    assert seen == ["/listings/SKU1"]
    assert lines[0] == "listing SKU1: partial, quantity 2, sold 1, oversold 0"
    assert lines[1] == (
        "  ebay live (listing 110, quantity 2, job job-2) https://www.ebay.de/itm/110"
    )
    assert lines[2] == "  etsy ended (listing 77, quantity 0, job job-2)"
    assert lines[3] == "  jobs applied: job-1, job-2"


def test_an_unknown_sku_is_the_apis_404_and_a_bad_one_is_refused_before_any_request():
    seen: list[str] = []
    problem = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "nope"}
    with _client(404, problem, seen) as client:
        with pytest.raises(ApiError):
            _listing(client, "SKU2")
        with pytest.raises(CliError):
            _listing(client, "SKU 3/../x")
    assert seen == ["/listings/SKU2"]
