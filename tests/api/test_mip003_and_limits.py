"""MIP-003 availability, input schema and status route, status with no worker, body limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from config.settings import Settings
from domain.listing_form import LISTING_FORM
from tests.api.helpers import assert_problem, create_job
from tests.factories import listing_body, start_job_body
from tests.temporal_binaries import start_dev_env


@pytest.fixture
async def api_without_worker() -> AsyncIterator[httpx.AsyncClient]:
    """A gateway on its own dev server where no worker polls anything."""
    env = await start_dev_env()
    app = create_app(client=env.client, settings=Settings(status_query_timeout=0.5))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client
    finally:
        await env.shutdown()


async def test_availability_is_available_while_a_worker_polls(api: httpx.AsyncClient):
    for _ in range(50):  # the session worker may be starting its first poll
        body = (await api.get("/availability")).json()
        if body["status"] == "available":
            break
        await asyncio.sleep(0.1)
    assert body["status"] == "available" and body["type"] == "masumi-agent"


async def test_availability_is_unavailable_without_a_worker(api_without_worker: httpx.AsyncClient):
    body = (await api_without_worker.get("/availability")).json()
    assert body["status"] == "unavailable"
    assert "no worker" in body["message"]


async def test_status_without_a_worker_falls_back_to_the_memo(
    api_without_worker: httpx.AsyncClient,
):
    """Issue 4 "status with no worker": describe() + memo, marked stale, instead of failing."""
    job = await create_job(api_without_worker)
    response = await api_without_worker.get(f"/status/{job['job_id']}")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["stale"] is True
    assert view["status"] == "awaiting_payment"
    assert view["job_id"] == job["job_id"] and view["input_hash"] == job["input_hash"]
    mip = await api_without_worker.get("/status", params={"job_id": job["job_id"]})
    assert mip.status_code == 200 and mip.json()["status"] == "awaiting_payment"


async def test_input_schema_is_the_flat_listing_form(api: httpx.AsyncClient):
    """Issue 15 part 2: flat ids (Sokosumi nests a dotted id), one per listing field."""
    fields = {f["id"]: f for f in (await api.get("/input_schema")).json()["input_data"]}
    assert set(fields) == {field.id for field in LISTING_FORM}
    assert {"price_amount", "price_currency"} <= set(fields)
    assert not any("." in field_id for field_id in fields)
    assert fields["condition"]["type"] == "option"
    assert fields["condition"]["data"]["values"] == ["new", "like_new", "good", "fair"]
    assert fields["description"]["type"] == "textarea"
    assert fields["images"]["type"] == "textarea"
    assert {"validation": "max", "value": "80"} in fields["title"]["validations"]
    assert {"validation": "min", "value": "1"} in fields["quantity"]["validations"]
    assert {"validation": "optional", "value": "true"} in fields["brand"]["validations"]
    assert not any(v["validation"] == "optional" for v in fields["sku"]["validations"])
    allowed = {"text", "textarea", "number", "option", "boolean"}
    assert {f["type"] for f in fields.values()} <= allowed


async def test_mip003_status_route_takes_a_query_parameter(api: httpx.AsyncClient):
    """Issue 15 part 1: ``/status?job_id=`` is the MIP view; ``/status/{id}`` the job view."""
    job = await create_job(api)
    response = await api.get("/status", params={"job_id": job["job_id"]})
    assert response.status_code == 200
    mip = response.json()
    assert mip["job_id"] == job["job_id"] and mip["status"] == "awaiting_payment"
    assert mip["id"] and mip["id"] != job["job_id"], "the id of this status, not of the job"
    assert "result" not in mip and "input_schema" not in mip
    assert (await api.get(f"/status/{job['job_id']}")).json()["input_hash"] == job["input_hash"]
    assert_problem(await api.get("/status", params={"job_id": "nope"}), 404)
    assert_problem(await api.get("/status"), 422)


async def test_a_body_over_the_limit_is_413(api: httpx.AsyncClient):
    body = start_job_body(input_data=listing_body(description="x" * 2_000_000))
    response = await api.post("/start_job", json=body)
    problem = assert_problem(response, 413)
    assert "larger than" in problem["detail"]


async def test_a_streamed_body_over_the_limit_is_413(api: httpx.AsyncClient):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    response = await api.post(
        "/start_job", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def test_codec_routes_accept_bodies_over_the_general_limit(api: httpx.AsyncClient):
    """Temporal payloads reach 2 MB: /codec/* has its own, larger limit (auth still applies)."""
    big = b'{"payloads": [], "pad": "' + b"x" * 2_000_000 + b'"}'
    response = await api.post("/codec/decode", content=big)
    assert response.status_code == 403, "past the size check, stopped by the admin check"
