"""POST /provide_input: signatures (v1, v1a, rotation), 403/404/409, waiting, Prefer."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Keys
from tests.api.helpers import PAYMENT, assert_problem, create_job


async def _provide(api: httpx.AsyncClient, job_id: str, signature: str, data=PAYMENT, **headers):
    return await api.post(
        "/provide_input",
        json={"job_id": job_id, "data": data, "signature": signature},
        headers=headers,
    )


async def test_ed25519_v1a_signature_is_accepted(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    response = await _provide(api, job["job_id"], keys.sign_ed25519(job["job_id"], PAYMENT))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"


async def test_rotated_second_secret_is_accepted(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    response = await _provide(api, job["job_id"], keys.sign(job["job_id"], PAYMENT, index=1))
    assert response.status_code == 200, response.text


async def test_any_valid_entry_in_a_list_is_enough(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    good = keys.sign(job["job_id"], PAYMENT)
    header = f"v1,AAAA v1a,{'A' * 88} {good}"
    assert (await _provide(api, job["job_id"], header)).status_code == 200


@pytest.mark.parametrize(
    "tamper",
    ["other_data", "other_job", "truncated", "wrong_version", "unknown_key"],
)
async def test_signature_over_anything_else_is_403(api: httpx.AsyncClient, keys: Keys, tamper: str):
    job = await create_job(api)
    job_id = job["job_id"]
    signature = {
        "other_data": keys.sign(job_id, {**PAYMENT, "amount": "0.01"}),
        "other_job": keys.sign("another-job", PAYMENT),
        "truncated": keys.sign(job_id, PAYMENT)[:-4],
        "wrong_version": keys.sign(job_id, PAYMENT).replace("v1,", "v2,"),
        "unknown_key": "v1,"
        + __import__("base64").b64encode(__import__("hashlib").sha256(b"x").digest()).decode(),
    }[tamper]
    assert_problem(await _provide(api, job_id, signature), 403)
    assert (await api.get(f"/status/{job_id}")).json()["status"] == "awaiting_payment"


async def test_key_order_of_data_does_not_matter(api: httpx.AsyncClient, keys: Keys):
    """The signature covers JCS(data), so the caller's key order is irrelevant."""
    job = await create_job(api)
    reordered = dict(reversed(list(PAYMENT.items())))
    response = await _provide(api, job["job_id"], keys.sign(job["job_id"], PAYMENT), data=reordered)
    assert response.status_code == 200


async def test_another_input_for_a_completed_job_is_409(api: httpx.AsyncClient, keys: Keys):
    """Seed 001 TC-2.5 (illegal transition rejected), adapted: a second, different input is
    409 (re-sending the very input taken is not: see test_gateway_rules.py, issue 11 case 6)."""
    job = await create_job(api)
    signature = keys.sign(job["job_id"], PAYMENT)
    assert (await _provide(api, job["job_id"], signature)).status_code == 200
    other = {**PAYMENT, "payment_id": "pay_other"}
    response = await _provide(api, job["job_id"], keys.sign(job["job_id"], other), data=other)
    body = assert_problem(response, 409)
    assert "completed" in body["detail"]


async def test_prefer_wait_zero_answers_202_while_running(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    response = await _provide(
        api, job["job_id"], keys.sign(job["job_id"], PAYMENT), Prefer="wait=0"
    )
    assert response.status_code == 202, response.text
    assert response.headers["preference-applied"] == "wait=0"
    assert response.headers["location"] == f"/status/{job['job_id']}"
    assert response.json()["status"] in ("awaiting_payment", "running")
    other = {**PAYMENT, "payment_id": "pay_other"}
    second = await _provide(api, job["job_id"], keys.sign(job["job_id"], other), data=other)
    assert second.status_code == 409, "once an input is taken, another one is refused"


async def test_data_that_cannot_be_canonicalised_is_422(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    response = await _provide(api, job["job_id"], "v1,AAAA", data={"n": 2**60})
    assert_problem(response, 422)


async def test_missing_fields_are_422(api: httpx.AsyncClient):
    body = assert_problem(await api.post("/provide_input", json={"job_id": "x"}), 422)
    assert {e["loc"] for e in body["errors"]} == {"data", "signature"}


async def test_events_route_lists_transitions_in_order(api: httpx.AsyncClient, keys: Keys):
    """Seed 003 hardening "event ordering stability": seq strictly increasing, UTC Z."""
    job = await create_job(api)
    await _provide(api, job["job_id"], keys.sign(job["job_id"], PAYMENT))
    events = (await api.get(f"/jobs/{job['job_id']}/events")).json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["at"].endswith("Z") for e in events)
    assert events[0]["type"] == "job.created" and events[-1]["type"] == "job.completed"
    marketplace_done = [e for e in events if e["type"] == "marketplace.completed"]
    assert {e["detail"]["marketplace"] for e in marketplace_done} == {"ebay", "etsy", "vinted"}


async def test_events_of_unknown_job_is_404(api: httpx.AsyncClient):
    assert_problem(await api.get("/jobs/nope/events"), 404)
