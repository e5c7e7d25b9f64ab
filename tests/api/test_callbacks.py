"""``callback_url`` through the gateway (issue 16): a real dev server, the real worker (its
``callbacks`` queue), the simulator, and a local receiver that verifies every POST with the
Standard Webhooks reference library."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from tests.api.conftest import Keys
from tests.api.helpers import PAYMENT, assert_problem, create_job
from tests.factories import start_job_body
from tests.support.callback_receiver import callback_receiver


async def pay(api: httpx.AsyncClient, keys: Keys, job_id: str) -> None:
    body = {"job_id": job_id, "data": PAYMENT, "signature": keys.sign(job_id, PAYMENT)}
    response = await api.post("/provide_input", json=body, headers={"Prefer": "wait=0"})
    assert response.status_code in (200, 202), response.text


async def callback_settled(api: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    for _ in range(300):
        view: dict[str, Any] = (await api.get(f"/status/{job_id}")).json()
        callback = view["callback"]
        if view["status"] in ("completed", "failed", "cancelled") and callback["deliveries"]:
            if callback["status"] != "pending":
                return view
        await asyncio.sleep(0.1)
    raise AssertionError(view)


@asynccontextmanager
async def gateway(client: Client, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(client=client, settings=settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_a_receiver_failing_twice_gets_the_completed_event_once(
    api: httpx.AsyncClient, keys: Keys
):
    """Issue 16 "done when": delivered once per event to a receiver that fails the first two
    attempts, each attempt verified with ``standardwebhooks``; the job view shows it."""
    with callback_receiver([500, 502, 200]) as receiver:
        job = await create_job(api, marketplaces=["ebay"], callback_url=receiver.url)
        assert job["callback"] == {"status": "pending", "attempts": 0, "deliveries": []}
        await pay(api, keys, job["job_id"])
        view = await callback_settled(api, job["job_id"])
    assert view["status"] == "completed"
    assert [d.status for d in receiver.received] == [500, 502, 200]
    assert all(d.error is None and d.verified for d in receiver.received)
    assert len(receiver.by_webhook_id()) == 1
    (accepted,) = receiver.accepted()
    assert accepted.verified["type"] == "job.completed"
    assert accepted.verified["data"]["job_id"] == job["job_id"]
    assert accepted.verified["data"]["result"]["ebay"]["listing_id"]
    assert accepted.verified["timestamp"].endswith("Z")
    assert view["callback"]["status"] == "delivered" and view["callback"]["attempts"] == 3
    (delivery,) = view["callback"]["deliveries"]
    assert delivery["state"] == "delivered" and delivery["last_status"] == 200
    assert delivery["webhook_id"] == accepted.headers["webhook-id"]
    events = (await api.get(f"/jobs/{job['job_id']}/events")).json()
    assert [e["type"] for e in events][-1] == "callback.delivered"


async def test_410_stops_the_retries(api: httpx.AsyncClient, keys: Keys):
    """Issue 16 "done when": a 410 stops retries."""
    with callback_receiver([410, 200]) as receiver:
        job = await create_job(api, marketplaces=["ebay"], callback_url=receiver.url)
        await pay(api, keys, job["job_id"])
        view = await callback_settled(api, job["job_id"])
        await asyncio.sleep(2)  # past the next backoff: nothing more arrives
    assert len(receiver.received) == 1
    assert view["status"] == "completed"
    assert view["callback"]["status"] == "failed"
    (delivery,) = view["callback"]["deliveries"]
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == (
        "stopped",
        1,
        410,
    )


async def test_a_cancelled_job_is_announced(api: httpx.AsyncClient, keys: Keys):
    from tests.api.conftest import ADMIN_TOKEN

    with callback_receiver([200]) as receiver:
        job = await create_job(api, callback_url=receiver.url)
        response = await api.post(
            f"/jobs/{job['job_id']}/cancel",
            json={"reason": "shop closed"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert response.status_code == 200, response.text
        view = await callback_settled(api, job["job_id"])
    assert view["callback"]["status"] == "delivered"
    assert [d.verified["type"] for d in receiver.accepted()] == ["job.cancelled"]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.20.30.40/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
    ],
)
async def test_a_callback_url_pointing_to_a_private_address_is_refused_at_start(
    dev_client: Client, api_settings: Settings, url: str
):
    """Issue 16 "done when": 422 at start, naming the field, nothing started."""
    settings = api_settings.model_copy(update={"callback_allow_private": False})
    async with gateway(dev_client, settings) as api:
        response = await api.post("/start_job", json=start_job_body(callback_url=url))
        problem = assert_problem(response, 422)
        assert "callback_url" in problem["detail"] and "public address" in problem["detail"]
        batch = await api.post(
            "/batches", json={"jobs": [start_job_body(), start_job_body(callback_url=url)]}
        )
        problem = assert_problem(batch, 422)
        assert "jobs" in problem["detail"] and "callback_url" in problem["detail"]


async def test_http_is_refused_unless_callback_allow_http(
    dev_client: Client, api_settings: Settings
):
    settings = api_settings.model_copy(update={"callback_allow_http": False})
    async with gateway(dev_client, settings) as api:
        body = start_job_body(callback_url="http://hooks.example.com/jobs")
        assert "https" in assert_problem(await api.post("/start_job", json=body), 422)["detail"]


async def test_callbacks_are_refused_while_no_signing_secret_is_configured(
    dev_client: Client, api_settings: Settings
):
    settings = api_settings.model_copy(update={"callback_signing_secret": None})
    async with gateway(dev_client, settings) as api:
        body = start_job_body(callback_url="https://hooks.example.com/jobs")
        problem = assert_problem(await api.post("/start_job", json=body), 422)
        assert "CALLBACK_SIGNING_SECRET" in problem["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "https://user:secret@hooks.example.com/x",
        "https:///no-host",
        "hooks.example.com/x",
        "https://hooks.example.com:99999/x",
        "https://hooks.example.com/ x",
        "https://hööks.example.com/x",
        "https://hooks.example.com/" + "a" * 2100,
        "",
    ],
)
async def test_a_malformed_callback_url_is_422(api: httpx.AsyncClient, url: str):
    response = await api.post("/start_job", json=start_job_body(callback_url=url))
    problem = assert_problem(response, 422)
    assert "callback_url" in problem["detail"]
    assert "user:secret" not in response.text, "the URL's credentials are never echoed"


async def test_a_job_without_callback_url_has_no_callback_state(api: httpx.AsyncClient):
    job = await create_job(api)
    assert job["callback"] is None
