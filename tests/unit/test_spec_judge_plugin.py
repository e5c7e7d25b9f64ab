"""The spec judge plugin (tests/support/spec_judge.py) fails a test whose marketplace exchange
the official document rejects, passes a valid one, and prints the session's count."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[2]

INNER_TESTS = """
import asyncio

import httpx

ETSY = "http://127.0.0.1:1/etsy/v3/application"
HEADERS = {"x-api-key": "keystring:secret", "Authorization": "Bearer 1.token"}
DRAFT = {
    "quantity": "1", "title": "Jacket", "description": "Denim.", "price": "45.00",
    "who_made": "someone_else", "when_made": "2010_2019", "taxonomy_id": "2",
}


def answer(request):
    if request.url.path.startswith("/vinted"):
        return httpx.Response(202, json={"items": []})
    return httpx.Response(201, json={"listing_id": 7, "state": "draft"})


async def post(url, **kwargs):
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        return await client.post(url, headers=HEADERS, **kwargs)


def test_draft_without_is_supply():
    assert asyncio.run(post(f"{ETSY}/shops/1/listings", data=DRAFT)).status_code == 201


def test_draft_with_is_supply():
    draft = {**DRAFT, "is_supply": "false"}
    assert asyncio.run(post(f"{ETSY}/shops/1/listings", data=draft)).status_code == 201


def test_vinted_item():
    assert asyncio.run(post("http://127.0.0.1:1/vinted/api/v1/items", json={})).status_code == 202
"""


def test_a_rejected_exchange_fails_its_test_and_the_session_counts_all(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_inner=INNER_TESTS)

    result = pytester.runpytest_subprocess("-p", "tests.support.spec_judge", "-p", "no:randomly")

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_draft_without_is_supply _*",
            "spec judge: the official OpenAPI document rejects 1 marketplace exchange(s) this "
            "test made:",
            "etsy createDraftListing POST /v3/application/shops/1/listings: rejected by Etsy "
            "Open API v3 (2025-02):",
            "  - request body: 'who_made' requires 'is_supply' and 'when_made' *",
            "spec judge: 2 exchanges validated (eBay 0, Etsy 2), 1 rejected, 1 Vinted without spec",
            "FAILED test_inner.py::test_draft_without_is_supply*",
        ]
    )
