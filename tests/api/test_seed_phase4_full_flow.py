"""Seed 000 (Plan 4.3, Phase 4 test suite) TC-4.1 … TC-4.8, adapted to a real Temporal job.

Adaptations (DESIGN.md, "The seeds"): a real listing instead of ``{"task": "test_task"}``, a real
HMAC signature instead of the seed's placeholder, Temporal instead of the in-memory repository.
"""

from __future__ import annotations

import httpx

from tests.api.conftest import Keys
from tests.api.helpers import PAYMENT, assert_problem, create_job
from tests.factories import start_job_body
from tests.support.simulator import SimulatorControl


async def test_get_status_returns_job(api: httpx.AsyncClient):
    """TC-4.1: GET /status/{job_id} returns the correct job."""
    job = await create_job(api)
    response = await api.get(f"/status/{job['job_id']}")
    assert response.status_code == 200
    assert response.json()["job_id"] == job["job_id"]
    assert response.json()["status"] == "awaiting_payment"


async def test_get_status_unknown_job(api: httpx.AsyncClient):
    """TC-4.2: GET /status with an unknown ID returns 404 with "not found" in detail."""
    response = await api.get("/status/nonexistent-000")
    body = assert_problem(response, 404)
    assert "not found" in body["detail"].lower()


async def test_provide_input_valid_signature(api: httpx.AsyncClient, keys: Keys):
    """TC-4.3: POST /provide_input with a valid signature completes the job, result set."""
    job = await create_job(api)
    job_id = job["job_id"]
    response = await api.post(
        "/provide_input",
        json={"job_id": job_id, "signature": keys.sign(job_id, PAYMENT), "data": PAYMENT},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    assert response.json()["result"] is not None
    assert set(response.json()["result"]) == {"ebay", "etsy", "vinted"}


async def test_provide_input_invalid_signature(api: httpx.AsyncClient):
    """TC-4.4: POST /provide_input with an invalid signature returns 403."""
    job = await create_job(api)
    response = await api.post(
        "/provide_input",
        json={"job_id": job["job_id"], "signature": "wrong_signature", "data": {}},
    )
    assert_problem(response, 403)
    status = await api.get(f"/status/{job['job_id']}")
    assert status.json()["status"] == "awaiting_payment", "a rejected input changes nothing"


async def test_provide_input_unknown_job(api: httpx.AsyncClient, keys: Keys):
    """TC-4.5: POST /provide_input for an unknown job returns 404."""
    response = await api.post(
        "/provide_input",
        json={"job_id": "ghost-job-id", "signature": keys.sign("ghost-job-id", {}), "data": {}},
    )
    assert_problem(response, 404)


async def test_provide_input_rejects_extra_fields(api: httpx.AsyncClient, keys: Keys):
    """TC-4.6: POST /provide_input with extra fields returns 422."""
    job = await create_job(api)
    response = await api.post(
        "/provide_input",
        json={
            "job_id": job["job_id"],
            "signature": keys.sign(job["job_id"], {}),
            "data": {},
            "evil_extra": "hacked",
        },
    )
    body = assert_problem(response, 422)
    assert "evil_extra" in body["detail"]


async def test_422_response_shape(api: httpx.AsyncClient):
    """TC-4.7: a 422 response body is JSON with a "detail" key."""
    response = await api.post("/start_job", json={"bad_field": "no_inputs"})
    body = assert_problem(response, 422)
    assert "detail" in body
    assert {e["loc"] for e in body["errors"]} >= {"input_data", "bad_field"}


async def test_full_job_lifecycle(api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl):
    """TC-4.8: full lifecycle awaiting_payment -> running -> completed, status reflects it."""
    body = start_job_body()
    job = (await api.post("/start_job", json=body)).json()
    assert job["status"] == "awaiting_payment"
    job_id = job["job_id"]
    response = await api.post(
        "/provide_input",
        json={"job_id": job_id, "signature": keys.sign(job_id, PAYMENT), "data": PAYMENT},
    )
    assert response.json()["status"] == "completed"
    status = await api.get(f"/status/{job_id}")
    assert status.json()["status"] == "completed"
    events = (await api.get(f"/jobs/{job_id}/events")).json()
    job_events = [e["type"] for e in events if e["type"].startswith("job.")]
    assert job_events == ["job.created", "job.running", "job.completed"]
    # Seed 004 "verify the underlying state, not just the response": the marketplaces.
    result = status.json()["result"]
    id_field = {"ebay": "listingId", "etsy": "listing_id", "vinted": "item_id"}
    for marketplace, field in id_field.items():
        live = await sim.live_listings(marketplace, body["input_data"]["sku"])
        assert len(live) == 1, (marketplace, live)
        assert result[marketplace]["listing_id"] == str(live[0][field])
