"""Batch routes through the gateway with a real worker, real activities and the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from temporalio.client import Client

from tests.api.conftest import ADMIN_TOKEN, Keys
from tests.api.helpers import PAYMENT, assert_problem
from tests.factories import listing_body, start_job_body
from tests.support.simulator import SimulatorControl


def _batch(count: int) -> dict[str, Any]:
    return {"jobs": [start_job_body(marketplaces=["ebay", "etsy"]) for _ in range(count)]}


async def _pay(
    api: httpx.AsyncClient, keys: Keys, batch_id: str, data: dict[str, Any] = PAYMENT
) -> httpx.Response:
    return await api.post(
        f"/batches/{batch_id}/provide_input",
        json={"batch_id": batch_id, "data": data, "signature": keys.sign(batch_id, data)},
    )


async def _wait_done(api: httpx.AsyncClient, batch_id: str) -> dict[str, Any]:
    for _ in range(300):
        view = (await api.get(f"/batches/{batch_id}")).json()
        if view["progress"] == 100 and view["status"] != "running":
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(view)


async def test_a_batch_is_paid_once_and_publishes_every_listing(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl
):
    body = _batch(3)
    created = await api.post("/batches", json=body)
    assert created.status_code == 201, created.text
    batch_id = created.json()["batch_id"]
    job_ids = created.json()["job_ids"]
    assert job_ids == [f"{batch_id}-{i:05d}" for i in range(3)]
    before = (await api.get(f"/batches/{batch_id}")).json()
    assert before["status"] == "awaiting_payment" and before["progress"] == 0
    assert before["job_ids"] == job_ids
    paid = await _pay(api, keys, batch_id)
    assert paid.status_code == 202, paid.text
    done = await _wait_done(api, batch_id)
    assert done["status"] == "completed"
    assert done["counts"]["completed"] == 3
    for job in body["jobs"]:
        sku = job["input_data"]["sku"]
        assert len(await sim.live_listings("ebay", sku)) == 1
        assert len(await sim.live_listings("etsy", sku)) == 1
    child = (await api.get(f"/status/{job_ids[0]}")).json()
    assert child["status"] == "completed"


async def test_every_bad_entry_is_named_and_nothing_starts(api: httpx.AsyncClient):
    body = _batch(4)
    body["jobs"][1]["input_data"] = listing_body(sku="bad-sku")
    body["jobs"][3]["input_data"] = listing_body(quantity=0)
    problem = assert_problem(await api.post("/batches", json=body), 422)
    locations = {e["loc"] for e in problem["errors"]}
    assert "jobs.1.input_data.sku" in locations and "jobs.3.input_data.quantity" in locations
    assert "jobs.1.input_data.sku" in problem["detail"]


async def test_batch_idempotency_key(api: httpx.AsyncClient):
    body = _batch(2)
    key = {"Idempotency-Key": "batch-key-" + body["jobs"][0]["identifier_from_purchaser"]}
    first = await api.post("/batches", json=body, headers=key)
    again = await api.post("/batches", json=body, headers=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    other = await api.post("/batches", json=_batch(2), headers=key)
    assert_problem(other, 422)


async def test_batch_payment_rules(api: httpx.AsyncClient, keys: Keys):
    batch_id = (await api.post("/batches", json=_batch(1))).json()["batch_id"]
    wrong = await api.post(
        f"/batches/{batch_id}/provide_input",
        json={"batch_id": batch_id, "data": PAYMENT, "signature": keys.sign("other", PAYMENT)},
    )
    assert_problem(wrong, 403)
    mismatch = await api.post(
        f"/batches/{batch_id}/provide_input",
        json={"batch_id": "other", "data": PAYMENT, "signature": keys.sign("other", PAYMENT)},
    )
    assert_problem(mismatch, 422)
    unknown = await _pay(api, keys, "batch-nope")
    assert_problem(unknown, 404)
    assert (await _pay(api, keys, batch_id)).status_code == 202
    await _wait_done(api, batch_id)
    # Re-sending the input taken is answered alike (issue 11, case 6); another input is 409.
    assert (await _pay(api, keys, batch_id)).status_code == 202
    other = {**PAYMENT, "payment_id": "pay_other"}
    assert_problem(await _pay(api, keys, batch_id, other), 409)


async def test_a_batch_child_cannot_be_paid_on_its_own(api: httpx.AsyncClient, keys: Keys):
    created = (await api.post("/batches", json=_batch(1))).json()
    child = created["job_ids"][0]
    response = await api.post(
        "/provide_input",
        json={"job_id": child, "data": PAYMENT, "signature": keys.sign(child, PAYMENT)},
    )
    body = assert_problem(response, 409)
    assert "batch" in body["detail"]


async def test_cancel_batch_is_admin_only_and_cancels_children(api: httpx.AsyncClient):
    batch_id = (await api.post("/batches", json=_batch(2))).json()["batch_id"]
    assert_problem(await api.post(f"/batches/{batch_id}/cancel"), 403)
    response = await api.post(
        f"/batches/{batch_id}/cancel", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 202
    done = await _wait_done(api, batch_id)
    assert done["status"] == "cancelled" and done["counts"]["cancelled"] == 2


async def test_unknown_batch_is_404(api: httpx.AsyncClient):
    assert_problem(await api.get("/batches/batch-nope"), 404)


async def test_a_batch_that_closes_between_describe_and_update_is_409(
    api: httpx.AsyncClient, dev_client: Client
):
    """Found by tests/api/test_hostile_bodies.py: a cancel racing the batch's own end got 502
    (Temporal answers NOT_FOUND for a closed execution). Now 409, for batches and jobs alike:
    here the batch is closed before the admin's cancel reaches it."""
    batch_id = (await api.post("/batches", json=_batch(1))).json()["batch_id"]
    await dev_client.get_workflow_handle(batch_id).terminate("closed for the test")
    response = await api.post(
        f"/batches/{batch_id}/cancel", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    body = assert_problem(response, 409)
    assert "nothing to cancel" in body["detail"]
