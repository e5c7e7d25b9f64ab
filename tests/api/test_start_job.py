"""POST /start_job: validation, the job view, Idempotency-Key, concurrency."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from domain.canonical import input_hash
from tests.api.helpers import assert_problem, create_job
from tests.factories import listing_body, start_job_body

Z_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


async def test_start_returns_201_with_awaiting_payment_view(api: httpx.AsyncClient):
    body = start_job_body()
    response = await api.post("/start_job", json=body)
    assert response.status_code == 201
    job = response.json()
    assert job["status"] == "awaiting_payment"
    assert response.headers["location"] == f"/status/{job['job_id']}"
    assert job["input_hash"] == input_hash(body["identifier_from_purchaser"], body["input_data"])
    assert job["inputHash"] == job["input_hash"]
    assert job["blockchainIdentifier"] == job["blockchain_identifier"]
    assert job["id"] == job["job_id"]
    assert job["identifierFromPurchaser"] == body["identifier_from_purchaser"]
    assert job["identifier_from_purchaser"] == body["identifier_from_purchaser"]
    for field in ("created_at", "updated_at", "pay_by_time"):
        assert Z_TIMESTAMP.match(job[field]), job[field]
    assert job["pay_by_time"] > job["created_at"]
    assert job["marketplaces"] == {
        m: {
            "status": "pending",
            "attempts": 0,
            "listing_id": None,
            "listing_url": None,
            "error": None,
            "action": None,
        }
        for m in ("ebay", "etsy", "vinted")
    }
    assert job["result"] is None and job["error"] is None
    assert job["retry_count"] == 0 and job["max_retries"] == 3


async def test_inputs_alias_and_generated_identifier(api: httpx.AsyncClient):
    listing = listing_body()
    response = await api.post("/start_job", json={"inputs": listing, "marketplaces": ["etsy"]})
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["identifier_from_purchaser"]
    assert job["input_hash"] == input_hash(job["identifier_from_purchaser"], listing)
    assert list(job["marketplaces"]) == ["etsy"]


async def test_input_hash_follows_mip004_with_rfc8785(api: httpx.AsyncClient):
    """MIP-004: hash of identifier + ';' + JCS(input_data), independent of key order."""
    listing = listing_body()
    reordered = dict(reversed(list(listing.items())))
    a = await create_job(api, input_data=listing, identifier_from_purchaser="order-1")
    b = await create_job(api, input_data=reordered, identifier_from_purchaser="order-1")
    assert a["input_hash"] == b["input_hash"]
    assert len(a["input_hash"]) == 64 and a["input_hash"] == a["input_hash"].lower()


INVALID_LISTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("sku with a dash", {"sku": "SKU-1"}, "sku"),
    ("sku too long", {"sku": "A" * 51}, "sku"),
    ("empty title", {"title": ""}, "title"),
    ("title over 80", {"title": "x" * 81}, "title"),
    ("description over 5000", {"description": "x" * 5001}, "description"),
    ("price zero", {"price": {"amount": "0.00", "currency": "EUR"}}, "price.amount"),
    ("price three decimals", {"price": {"amount": "1.001", "currency": "EUR"}}, "price.amount"),
    ("price as number", {"price": {"amount": 45.0, "currency": "EUR"}}, "price.amount"),
    ("negative price", {"price": {"amount": "-1", "currency": "EUR"}}, "price.amount"),
    ("lower-case currency", {"price": {"amount": "1.00", "currency": "eur"}}, "price.currency"),
    ("unknown price field", {"price": {"amount": "1.00", "currency": "EUR", "x": 1}}, "price.x"),
    ("quantity zero", {"quantity": 0}, "quantity"),
    ("quantity 1000", {"quantity": 1000}, "quantity"),
    ("quantity as string", {"quantity": "1"}, "quantity"),
    ("unknown condition", {"condition": "broken"}, "condition"),
    ("no images", {"images": []}, "images"),
    ("eleven images", {"images": ["https://e.com/a.jpg"] * 11}, "images"),
    ("http image", {"images": ["http://e.com/a.jpg"]}, "images.0"),
    ("not a url", {"images": ["https://"]}, "images.0"),
    ("unknown listing field", {"colour": "blue"}, "input_data.colour"),
    ("brand too long", {"brand": "b" * 101}, "brand"),
]


@pytest.mark.parametrize(
    ("case", "override", "loc"), INVALID_LISTINGS, ids=[c[0] for c in INVALID_LISTINGS]
)
async def test_invalid_listing_is_rejected_with_the_field_named(
    api: httpx.AsyncClient, case: str, override: dict[str, Any], loc: str
):
    body = start_job_body(input_data=listing_body(**override))
    body_problem = assert_problem(await api.post("/start_job", json=body), 422)
    assert any(loc in e["loc"] for e in body_problem["errors"]), body_problem
    assert loc.split(".")[-1] in body_problem["detail"]


@pytest.mark.parametrize(
    ("override", "loc"),
    [
        ({"marketplaces": []}, "marketplaces"),
        ({"marketplaces": ["ebay", "ebay"]}, "marketplaces"),
        ({"marketplaces": ["amazon"]}, "marketplaces.0"),
        ({"identifier_from_purchaser": ""}, "identifier_from_purchaser"),
        ({"identifier_from_purchaser": "x" * 129}, "identifier_from_purchaser"),
        ({"extra": True}, "extra"),
    ],
)
async def test_invalid_job_fields_are_rejected(
    api: httpx.AsyncClient, override: dict[str, Any], loc: str
):
    body = assert_problem(await api.post("/start_job", json=start_job_body(**override)), 422)
    assert any(e["loc"] == loc for e in body["errors"]), body


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"\xff\xfe\x00", b"[]", b'"string"', b"null", b'{"input_data": []}'],
)
async def test_malformed_bodies_never_give_500(api: httpx.AsyncClient, raw: bytes):
    response = await api.post(
        "/start_job", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert_problem(response, response.status_code)


async def test_same_idempotency_key_and_body_returns_the_same_job(api: httpx.AsyncClient):
    body = start_job_body()
    key = "key-" + body["identifier_from_purchaser"]
    first = await api.post("/start_job", json=body, headers={"Idempotency-Key": key})
    second = await api.post("/start_job", json=body, headers={"Idempotency-Key": f'"{key}"'})
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["job_id"] == first.json()["job_id"]
    assert second.json()["input_hash"] == first.json()["input_hash"]


async def test_same_idempotency_key_with_another_body_is_422(api: httpx.AsyncClient):
    body = start_job_body()
    key = "key-" + body["identifier_from_purchaser"]
    assert (
        await api.post("/start_job", json=body, headers={"Idempotency-Key": key})
    ).status_code == 201
    other = start_job_body(identifier_from_purchaser=body["identifier_from_purchaser"])
    problem = assert_problem(
        await api.post("/start_job", json=other, headers={"Idempotency-Key": key}), 422
    )
    assert "Idempotency-Key" in problem["title"]


async def test_idempotency_key_must_be_1_to_255_characters(api: httpx.AsyncClient):
    response = await api.post(
        "/start_job", json=start_job_body(), headers={"Idempotency-Key": "k" * 256}
    )
    assert_problem(response, 400)


async def test_concurrent_duplicates_start_exactly_one_workflow(
    api: httpx.AsyncClient, dev_client: Client
):
    """20 concurrent starts with one key: one 201, the rest 200, one workflow on the server."""
    body = start_job_body()
    key = "concurrent-" + body["identifier_from_purchaser"]
    responses = await asyncio.gather(
        *(api.post("/start_job", json=body, headers={"Idempotency-Key": key}) for _ in range(20))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 19 + [201], codes
    job_ids = {r.json()["job_id"] for r in responses}
    assert len(job_ids) == 1
    (job_id,) = job_ids
    runs = [wf async for wf in dev_client.list_workflows(f"WorkflowId = '{job_id}'")]
    for _ in range(40):
        if runs:
            break
        await asyncio.sleep(0.1)
        runs = [wf async for wf in dev_client.list_workflows(f"WorkflowId = '{job_id}'")]
    assert len(runs) == 1


async def test_seed_100_concurrent_starts_give_100_unique_ids(api: httpx.AsyncClient):
    """Seed 001 TC-2.7 (thread safety: 100 concurrent creates -> 100 unique IDs), adapted."""
    responses = await asyncio.gather(
        *(api.post("/start_job", json=start_job_body()) for _ in range(100))
    )
    assert [r.status_code for r in responses] == [201] * 100
    ids = [r.json()["job_id"] for r in responses]
    assert len(ids) == 100
    assert len(set(ids)) == 100
