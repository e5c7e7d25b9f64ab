"""Seed 001 (Plan 2.3, Phase 2 test suite) TC-2.1 … TC-2.8, adapted: the Temporal server is the
repository, reached through the gateway; TC-2.7 lives in test_start_job.py."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.client import Client

from tests.api.conftest import Keys
from tests.api.helpers import PAYMENT, assert_problem, create_job


async def test_create_job_initial_state(api: httpx.AsyncClient):
    """TC-2.1: a new job is awaiting_payment, with its hash and payment reference, no result."""
    job = await create_job(api)
    assert job["status"] == "awaiting_payment"
    assert len(job["input_hash"]) == 64
    assert job["blockchain_identifier"].startswith("pay_")
    assert job["result"] is None
    assert job["error"] is None


async def test_get_returns_created_job(api: httpx.AsyncClient):
    """TC-2.2: reading a job returns the one created."""
    job = await create_job(api)
    fetched = (await api.get(f"/status/{job['job_id']}")).json()
    assert fetched["job_id"] == job["job_id"]
    assert fetched["input_hash"] == job["input_hash"]
    assert fetched["created_at"] == job["created_at"]


async def test_get_unknown_job_raises(api: httpx.AsyncClient):
    """TC-2.3: an unknown ID is 404 (JobNotFoundError)."""
    assert_problem(await api.get("/status/nonexistent-id"), 404)


async def test_legal_transition_updates_job(api: httpx.AsyncClient, keys: Keys):
    """TC-2.4: a legal transition updates status and updated_at."""
    job = await create_job(api)
    response = await api.post(
        "/provide_input",
        json={
            "job_id": job["job_id"],
            "data": PAYMENT,
            "signature": keys.sign(job["job_id"], PAYMENT),
        },
        headers={"Prefer": "wait=0"},
    )
    assert response.status_code in (200, 202)
    for _ in range(100):
        now = (await api.get(f"/status/{job['job_id']}")).json()
        if now["status"] != "awaiting_payment":
            break
        await asyncio.sleep(0.05)
    assert now["status"] in ("running", "completed")
    assert now["updated_at"] >= job["updated_at"]


async def test_illegal_transition_raises(api: httpx.AsyncClient, keys: Keys):
    """TC-2.5: an illegal transition is rejected: another input to a completed job -> 409.

    The status machine itself is covered move by move in tests/unit/test_status_machine.py.
    (Re-sending the very input taken is not a transition: it is answered like the first.)
    """
    job = await create_job(api)
    await api.post(
        "/provide_input",
        json={
            "job_id": job["job_id"],
            "data": PAYMENT,
            "signature": keys.sign(job["job_id"], PAYMENT),
        },
    )
    other = {**PAYMENT, "payment_id": "pay_second"}
    again = await api.post(
        "/provide_input",
        json={"job_id": job["job_id"], "data": other, "signature": keys.sign(job["job_id"], other)},
    )
    assert "completed" in assert_problem(again, 409)["detail"]


async def test_count_reflects_stored_jobs(api: httpx.AsyncClient, dev_client: Client):
    """TC-2.6: the server counts exactly the jobs stored (visibility is eventually consistent)."""
    ids = [(await create_job(api))["job_id"] for _ in range(2)]
    query = " OR ".join(f"WorkflowId = '{i}'" for i in ids)
    count = 0
    for _ in range(50):
        count = (await dev_client.count_workflows(query)).count
        if count == 2:
            break
        await asyncio.sleep(0.1)
    assert count == 2


async def test_completed_job_stores_result(api: httpx.AsyncClient, keys: Keys):
    """TC-2.8: a completed job keeps its result (a listing per marketplace), error None."""
    job = await create_job(api)
    done = (
        await api.post(
            "/provide_input",
            json={
                "job_id": job["job_id"],
                "data": PAYMENT,
                "signature": keys.sign(job["job_id"], PAYMENT),
            },
        )
    ).json()
    assert done["status"] == "completed"
    assert done["error"] is None
    stored = (await api.get(f"/status/{job['job_id']}")).json()
    assert stored["result"] == done["result"]
    assert all(stored["result"][m]["listing_id"] for m in ("ebay", "etsy", "vinted"))
