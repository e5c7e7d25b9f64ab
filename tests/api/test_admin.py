"""Admin routes: bearer auth (seed 003 test D), cancel, retry, workers."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, Keys
from tests.api.helpers import PAYMENT, assert_problem, create_job
from tests.factories import start_job_body
from tests.support.simulator import SimulatorControl

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ADMIN_ROUTES = [
    ("POST", "/jobs/{job_id}/cancel"),
    ("POST", "/jobs/{job_id}/retry"),
    ("GET", "/admin/workers"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": ADMIN_TOKEN},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
    ],
    ids=["missing", "wrong", "no-scheme", "wrong-scheme"],
)
async def test_admin_routes_are_403_without_the_token(
    api: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
):
    """Seed 003 Test D (admin endpoints auth): 403 without a valid token, for every route."""
    job = await create_job(api)
    response = await api.request(method, path.format(job_id=job["job_id"]), headers=headers)
    assert_problem(response, 403)
    assert (await api.get(f"/status/{job['job_id']}")).json()["status"] == "awaiting_payment"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_are_403_when_no_admin_token_is_configured(
    dev_client: Client, method: str, path: str
):
    """ADMIN_TOKEN unset: admin routes answer 403 to everyone, even a guessed empty token."""
    app = create_app(client=dev_client, settings=Settings())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as api:
            for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
                response = await api.request(method, path.format(job_id="x"), headers=headers)
                body = assert_problem(response, 403)
    assert "ADMIN_TOKEN" in body["detail"]


async def test_admin_workers_is_200_with_the_token_and_lists_pollers(api: httpx.AsyncClient):
    """Seed 003 Test D: 200 with the token. Every queue shows our session worker polling."""
    response = await api.get("/admin/workers", headers=ADMIN)
    assert response.status_code == 200
    queues = response.json()["task_queues"]
    assert set(queues) == {
        "jobs",
        "marketplace-ebay",
        "marketplace-etsy",
        "marketplace-vinted",
        "callbacks",
    }
    assert queues["callbacks"]["pollers"], "the session worker serves completion callbacks"
    assert queues["marketplace-vinted"]["configured_rate_limit_per_second"] == 1000
    for queue in queues.values():
        assert queue["pollers"], queue
        assert all(p["last_access_time"].endswith("Z") for p in queue["pollers"])


async def test_cancel_awaiting_job_ends_cancelled(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    response = await api.post(
        f"/jobs/{job['job_id']}/cancel", headers=ADMIN, json={"reason": "out of stock"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    late = await api.post(
        "/provide_input",
        json={
            "job_id": job["job_id"],
            "data": PAYMENT,
            "signature": keys.sign(job["job_id"], PAYMENT),
        },
    )
    assert_problem(late, 409)
    assert_problem(await api.post(f"/jobs/{job['job_id']}/cancel", headers=ADMIN), 409)


async def test_cancel_unknown_job_is_404(api: httpx.AsyncClient):
    assert_problem(await api.post("/jobs/nope/cancel", headers=ADMIN), 404)


async def test_retry_is_409_unless_failed(api: httpx.AsyncClient):
    job = await create_job(api)
    body = assert_problem(await api.post(f"/jobs/{job['job_id']}/retry", headers=ADMIN), 409)
    assert "awaiting_payment" in body["detail"]


async def test_retry_after_a_marketplace_validation_failure_completes(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl
):
    """Seed 002 test_partial_failure_recovery through the API: Etsy rejects once (400, not
    retried), the job fails with eBay and Vinted published; the admin retry finishes Etsy
    only, and each marketplace ends with exactly one live listing."""
    await sim.add_fault("etsy", "validation", "createDraftListing", times=1)
    body = start_job_body()
    job = (await api.post("/start_job", json=body)).json()
    failed = await api.post(
        "/provide_input",
        json={
            "job_id": job["job_id"],
            "data": PAYMENT,
            "signature": keys.sign(job["job_id"], PAYMENT),
        },
    )
    assert failed.status_code == 200, failed.text
    view = failed.json()
    assert view["status"] == "failed"
    assert view["marketplaces"]["etsy"]["status"] == "failed"
    assert view["marketplaces"]["etsy"]["attempts"] == 1, "a 400 is never retried"
    assert view["marketplaces"]["etsy"]["error"]["code"] == "validation_error"
    assert view["marketplaces"]["ebay"]["status"] == "completed"

    retried = await api.post(f"/jobs/{job['job_id']}/retry", headers=ADMIN)
    assert retried.status_code == 202
    for _ in range(100):
        now = (await api.get(f"/status/{job['job_id']}")).json()
        if now["status"] == "completed":
            break
        await asyncio.sleep(0.1)
    assert now["status"] == "completed" and now["retry_count"] == 1
    assert now["marketplaces"]["ebay"]["status"] == "skipped"
    sku = body["input_data"]["sku"]
    for marketplace in ("ebay", "etsy", "vinted"):
        assert len(await sim.live_listings(marketplace, sku)) == 1
    assert await sim.drafts("etsy") == []
