"""POST /webhooks/payments: Standard Webhooks signatures, timestamps, replays, raw bytes."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import httpx
import pytest

from cli.sign import webhook_request
from tests.api.conftest import Keys
from tests.api.helpers import PAYMENT, assert_problem, create_job


def _whsk(keys: Keys) -> str:
    return "whsk_" + base64.b64encode(keys.ed25519_private).decode()


async def _deliver(
    api: httpx.AsyncClient, keys: Keys, job_id: str, **options: Any
) -> httpx.Response:
    headers, body = webhook_request(job_id, PAYMENT, secret=keys.hmac_secrets[0], **options)
    return await api.post("/webhooks/payments", content=body, headers=headers)


async def _wait_status(api: httpx.AsyncClient, job_id: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        view = (await api.get(f"/status/{job_id}")).json()
        if view["status"] == status:
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {status}: {view}")


async def _event_types(api: httpx.AsyncClient, job_id: str) -> list[str]:
    return [e["type"] for e in (await api.get(f"/jobs/{job_id}/events")).json()]


async def test_signed_webhook_confirms_payment_like_provide_input(
    api: httpx.AsyncClient, keys: Keys
):
    job = await create_job(api)
    response = await _deliver(api, keys, job["job_id"], webhook_id="msg_confirm_1")
    assert response.status_code == 204, response.text
    await _wait_status(api, job["job_id"], "completed")
    events = (await api.get(f"/jobs/{job['job_id']}/events")).json()
    received = next(e for e in events if e["type"] == "input.received")
    assert received["detail"] == {"source": "webhook", "webhook_id": "msg_confirm_1"}


async def test_ed25519_v1a_webhook_is_accepted(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    headers, body = webhook_request(job["job_id"], PAYMENT, ed25519_key=_whsk(keys))
    assert headers["webhook-signature"].startswith("v1a,")
    response = await api.post("/webhooks/payments", content=body, headers=headers)
    assert response.status_code == 204, response.text


async def test_repeated_webhook_id_is_acknowledged_and_applied_once(
    api: httpx.AsyncClient, keys: Keys
):
    job = await create_job(api)
    job_id = job["job_id"]
    assert (await _deliver(api, keys, job_id, webhook_id="msg_repeat")).status_code == 204
    await _wait_status(api, job_id, "completed")
    again = await _deliver(api, keys, job_id, webhook_id="msg_repeat")
    assert again.status_code == 204, "a redelivery is acknowledged, even after completion"
    assert (await _event_types(api, job_id)).count("input.received") == 1


async def test_concurrent_redeliveries_are_applied_once(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    job_id = job["job_id"]
    headers, body = webhook_request(job_id, PAYMENT, secret=keys.hmac_secrets[0])
    responses = await asyncio.gather(
        *(api.post("/webhooks/payments", content=body, headers=headers) for _ in range(5))
    )
    assert {r.status_code for r in responses} == {204}
    await _wait_status(api, job_id, "completed")
    types = await _event_types(api, job_id)
    assert types.count("input.received") == 1
    assert "input.ignored" not in types, "a redelivery is a duplicate, not a second input"


async def test_another_confirmation_for_a_paid_job_is_409(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    assert (await _deliver(api, keys, job["job_id"])).status_code == 204
    await _wait_status(api, job["job_id"], "completed")
    assert_problem(await _deliver(api, keys, job["job_id"]), 409)


@pytest.mark.parametrize("skew", [-360, 360])
async def test_timestamps_outside_five_minutes_are_rejected(
    api: httpx.AsyncClient, keys: Keys, skew: int
):
    """A minute beyond the 300 s tolerance: 301 failed once on a busy machine (the whole
    second int() drops plus the request's own time ate the 1 s margin)."""
    job = await create_job(api)
    response = await _deliver(api, keys, job["job_id"], timestamp=int(time.time()) + skew)
    body = assert_problem(response, 400)
    assert ("too old" if skew < 0 else "too new") in body["detail"]


async def test_signature_is_checked_on_the_raw_bytes(api: httpx.AsyncClient, keys: Keys):
    """Re-serialised JSON (same data, other bytes) does not verify."""
    job = await create_job(api)
    headers, body = webhook_request(job["job_id"], PAYMENT, secret=keys.hmac_secrets[0])
    pretty = body.replace(b",", b", ")
    assert_problem(await api.post("/webhooks/payments", content=pretty, headers=headers), 403)
    tampered = body.replace(b"45.00", b"0.01")
    assert_problem(await api.post("/webhooks/payments", content=tampered, headers=headers), 403)
    assert (await api.get(f"/status/{job['job_id']}")).json()["status"] == "awaiting_payment"


async def test_signature_covers_id_and_timestamp(api: httpx.AsyncClient, keys: Keys):
    job = await create_job(api)
    headers, body = webhook_request(job["job_id"], PAYMENT, secret=keys.hmac_secrets[0])
    for name, value in (
        ("webhook-id", "msg_other"),
        ("webhook-timestamp", str(int(time.time()) - 1)),
    ):
        altered = {**headers, name: value}
        assert_problem(await api.post("/webhooks/payments", content=body, headers=altered), 403)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
async def test_missing_headers_are_400(api: httpx.AsyncClient, keys: Keys, missing: str):
    job = await create_job(api)
    headers, body = webhook_request(job["job_id"], PAYMENT, secret=keys.hmac_secrets[0])
    del headers[missing]
    assert_problem(await api.post("/webhooks/payments", content=body, headers=headers), 400)


async def test_unknown_job_is_404(api: httpx.AsyncClient, keys: Keys):
    assert_problem(await _deliver(api, keys, "no-such-job"), 404)


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"type":"payment.refunded","data":{"job_id":"x"}}',
        b'{"type":"payment.confirmed"}',
        b'{"type":"payment.confirmed","data":{"job_id":1}}',
        b'{"type":"payment.confirmed","data":{"job_id":"x","n":NaN}}',
        "{}".encode("utf-16"),
    ],
)
async def test_bad_bodies_are_400_even_when_signed(api: httpx.AsyncClient, keys: Keys, raw: bytes):
    from domain.signatures import sign_hmac, webhook_signed_content

    stamp = str(int(time.time()))
    signature = sign_hmac(webhook_signed_content("msg_bad", stamp, raw), keys.hmac_key(0))
    headers = {"webhook-id": "msg_bad", "webhook-timestamp": stamp, "webhook-signature": signature}
    assert_problem(await api.post("/webhooks/payments", content=raw, headers=headers), 400)
