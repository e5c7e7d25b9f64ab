"""Issue 11: what a new user hit on ``make run``, each case asserting the expected value.

Real app over ASGI, a real dev server and a real worker (tests/api/conftest.py). Cases 9-11
(supervisor, worker start-up, rate limits under load) live with the stack and integration
tests; case 8 (Temporal down) in test_temporal_down.py.
"""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import httpx
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from cli.sign import webhook_request
from domain.signatures import sign_hmac
from tests.api.conftest import ADMIN_TOKEN, Keys
from tests.api.helpers import PAYMENT, assert_problem, create_job
from tests.factories import listing_body, start_job_body

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _batch(api: httpx.AsyncClient, size: int = 1) -> dict[str, Any]:
    response = await api.post("/batches", json={"jobs": [start_job_body() for _ in range(size)]})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _events(api: httpx.AsyncClient, job_id: str) -> list[str]:
    return [e["type"] for e in (await api.get(f"/jobs/{job_id}/events")).json()]


def _signed(keys: Keys, subject_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "signature": keys.sign(subject_id, data)}


# -- case 1: an id of the other kind is 404 and changes nothing ------------------------------


async def test_job_routes_answer_404_for_a_batch_id_and_change_nothing(
    api: httpx.AsyncClient, keys: Keys
):
    """Case 1: GET /status, /status?job_id=, /jobs/{id}/events, POST /provide_input, the
    payment webhook, admin cancel and retry, all naming a batch id -> 404; the batch still
    awaits its payment and has no cancel."""
    batch_id = (await _batch(api))["batch_id"]
    answers = [
        await api.get(f"/status/{batch_id}"),
        await api.get("/status", params={"job_id": batch_id}),
        await api.get(f"/jobs/{batch_id}/events"),
        await api.post(
            "/provide_input", json={"job_id": batch_id, **_signed(keys, batch_id, PAYMENT)}
        ),
        await api.post(f"/jobs/{batch_id}/cancel", headers=ADMIN),
        await api.post(f"/jobs/{batch_id}/retry", headers=ADMIN),
    ]
    headers, body = webhook_request(batch_id, PAYMENT, secret=keys.hmac_secrets[0])
    answers.append(await api.post("/webhooks/payments", content=body, headers=headers))
    for answer in answers:
        assert "not found" in assert_problem(answer, 404)["detail"]
    batch = (await api.get(f"/batches/{batch_id}")).json()
    assert batch["status"] == "awaiting_payment"
    assert batch["counts"]["awaiting_payment"] == 1


async def test_batch_routes_answer_404_for_a_job_id_and_change_nothing(
    api: httpx.AsyncClient, keys: Keys
):
    """Case 1: GET /batches/{job_id}, its provide_input and admin cancel -> 404; the job still
    awaits payment and was not cancelled (its events say so)."""
    job_id = (await create_job(api))["job_id"]
    answers = [
        await api.get(f"/batches/{job_id}"),
        await api.post(
            f"/batches/{job_id}/provide_input",
            json={"batch_id": job_id, **_signed(keys, job_id, PAYMENT)},
        ),
        await api.post(f"/batches/{job_id}/cancel", headers=ADMIN),
    ]
    for answer in answers:
        assert "not found" in assert_problem(answer, 404)["detail"]
    assert (await api.get(f"/status/{job_id}")).json()["status"] == "awaiting_payment"
    assert not {"cancel.requested", "input.received"} & set(await _events(api, job_id))


async def test_a_batch_child_id_on_batch_routes_is_404(api: httpx.AsyncClient, keys: Keys):
    """Case 1: a batch child is a job: batch routes do not know it."""
    child = (await _batch(api))["job_ids"][0]
    assert_problem(await api.get(f"/batches/{child}"), 404)
    assert_problem(await api.post(f"/batches/{child}/cancel", headers=ADMIN), 404)
    assert (await api.get(f"/status/{child}")).json()["status"] == "awaiting_payment"


# -- case 3: malformed webhook timestamps -----------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    [b"\xb2", "١٧٠٠٠٠٠٠٠٠".encode(), b"9" * 4301, b"+1700000000", b" 17 ", b"1e9", b"-5"],  # noqa: RUF001 - on purpose
    ids=["superscript-two", "arabic-indic", "4301-digits", "plus", "spaces", "exponent", "minus"],
)
async def test_a_webhook_timestamp_that_is_not_ascii_digits_is_400(
    api: httpx.AsyncClient, keys: Keys, timestamp: bytes
):
    """Case 3: a timestamp holding a non-ASCII digit or 4 301 digits was 500 -> 400."""
    job_id = (await create_job(api))["job_id"]
    headers, body = webhook_request(job_id, PAYMENT, secret=keys.hmac_secrets[0])
    raw_headers = [(k.encode(), v.encode()) for k, v in headers.items() if k != "webhook-timestamp"]
    raw_headers.append((b"webhook-timestamp", timestamp))
    response = await api.post("/webhooks/payments", content=body, headers=raw_headers)
    assert "webhook-timestamp" in assert_problem(response, 400)["detail"]
    assert (await api.get(f"/status/{job_id}")).json()["status"] == "awaiting_payment"


# -- case 4: ASCII digits only, the whole value -------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price.amount", "45.00\n"),
        ("price.amount", "٤٥.٠٠"),  # noqa: RUF001 - on purpose
        ("price.amount", "４５.００"),  # noqa: RUF001 - on purpose
        ("price.amount", "45.00 "),
        ("price.amount", "\n45.00"),
        ("price.currency", "EUR\n"),
        ("price.currency", "ＥＵＲ"),  # noqa: RUF001 - on purpose
        ("sku", "SKU1\n"),
        ("sku", "SKU١"),  # noqa: RUF001 - on purpose
        ("quantity", "٣"),
    ],
)
async def test_pattern_fields_match_the_whole_value_in_ascii(
    api: httpx.AsyncClient, field: str, value: str
):
    """Case 4: "45.00\\n", Arabic-Indic and fullwidth digits were 201 and sent as-is to three
    marketplaces -> 422 naming the field, for a job and for a batch entry."""
    listing = listing_body()
    if field.startswith("price."):
        listing["price"] = {**listing["price"], field.split(".")[1]: value}
    else:
        listing[field] = value
    body = {"input_data": listing}
    problem = assert_problem(await api.post("/start_job", json=body), 422)
    assert f"input_data.{field}" in problem["detail"]
    batch = assert_problem(await api.post("/batches", json={"jobs": [body]}), 422)
    assert f"jobs.0.input_data.{field}" in batch["detail"]


# -- case 5: exactly one input is taken -----------------------------------------------------


async def test_of_eight_different_signed_inputs_at_once_exactly_one_is_taken(
    api: httpx.AsyncClient, keys: Keys
):
    """Case 5: eight different, validly signed inputs at the same moment were eight 2xx ->
    exactly one 2xx, seven 409; the job took one input (one ``input.received``)."""
    job_id = (await create_job(api))["job_id"]
    inputs = [{**PAYMENT, "payment_id": f"pay_{i}"} for i in range(8)]
    answers = await asyncio.gather(
        *(
            api.post(
                "/provide_input",
                json={"job_id": job_id, **_signed(keys, job_id, data)},
                headers={"Prefer": "wait=0"},
            )
            for data in inputs
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [202] + [409] * 7, [a.text for a in answers]
    events = await _events(api, job_id)
    assert events.count("input.received") == 1
    assert "input.ignored" not in events


async def test_of_six_payment_webhooks_at_once_exactly_one_is_taken(
    api: httpx.AsyncClient, keys: Keys
):
    """Case 5: six payment webhooks with different webhook-ids were six 204 -> one 204, five
    409."""
    job_id = (await create_job(api))["job_id"]
    deliveries = [
        webhook_request(
            job_id, {**PAYMENT, "n": i}, secret=keys.hmac_secrets[0], webhook_id=f"msg_{i}"
        )
        for i in range(6)
    ]
    answers = await asyncio.gather(
        *(api.post("/webhooks/payments", content=b, headers=h) for h, b in deliveries)
    )
    assert sorted(a.status_code for a in answers) == [204] + [409] * 5
    assert (await _events(api, job_id)).count("input.received") == 1


# -- case 6: a re-send of the input taken is answered as the first was ------------------------


async def test_resending_the_input_taken_gets_the_first_answer(api: httpx.AsyncClient, keys: Keys):
    """Case 6: a caller cut off mid-request re-sends the very input that was taken (same data,
    same signature) -> 200 with the view, while running and after completion; another input
    is still 409."""
    job_id = (await create_job(api))["job_id"]
    body = {"job_id": job_id, **_signed(keys, job_id, PAYMENT)}
    first = await api.post("/provide_input", json=body, headers={"Prefer": "wait=0"})
    assert first.status_code == 202, first.text
    again = await api.post("/provide_input", json=body)  # running or completed by now
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "completed"
    after = await api.post("/provide_input", json=body)  # the workflow has closed
    assert after.status_code == 200 and after.json()["job_id"] == job_id
    other = {**PAYMENT, "payment_id": "pay_other"}
    assert_problem(
        await api.post("/provide_input", json={"job_id": job_id, **_signed(keys, job_id, other)}),
        409,
    )
    assert (await _events(api, job_id)).count("input.received") == 1


# -- case 7: several webhook-signature lines are one list -------------------------------------


async def test_two_webhook_signature_lines_are_one_list(api: httpx.AsyncClient, keys: Keys):
    """Case 7: the old key's signature on the first line and a valid one on the second -> 204
    (was 403); two lines that are both wrong stay 403."""
    job_id = (await create_job(api))["job_id"]
    headers, body = webhook_request(job_id, PAYMENT, secret=keys.hmac_secrets[0])
    retired = os.urandom(32)
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    old = sign_hmac(content, retired)
    base = [(k, v) for k, v in headers.items() if k != "webhook-signature"]
    wrong_only = [*base, ("webhook-signature", old), ("webhook-signature", old)]
    assert_problem(await api.post("/webhooks/payments", content=body, headers=wrong_only), 403)
    valid = headers["webhook-signature"]
    two_lines = [*base, ("webhook-signature", old), ("webhook-signature", valid)]
    response = await api.post("/webhooks/payments", content=body, headers=two_lines)
    assert response.status_code == 204, response.text


async def test_a_webhook_id_sent_twice_in_one_request_is_400(api: httpx.AsyncClient, keys: Keys):
    """Case 7's other side: a header that must be single (webhook-id) repeated -> 400."""
    job_id = (await create_job(api))["job_id"]
    headers, body = webhook_request(job_id, PAYMENT, secret=keys.hmac_secrets[0])
    doubled = [*headers.items(), ("webhook-id", "msg_other")]
    assert_problem(await api.post("/webhooks/payments", content=body, headers=doubled), 400)


# -- the Updates: cancel and retry are refused atomically ---------------------------------


async def test_cancel_of_a_completed_job_is_409_and_records_nothing(
    api: httpx.AsyncClient, keys: Keys
):
    """Check-then-signal is gone: the workflow's validator refuses, nothing is recorded."""
    job_id = (await create_job(api))["job_id"]
    paid = await api.post(
        "/provide_input", json={"job_id": job_id, **_signed(keys, job_id, PAYMENT)}
    )
    assert paid.json()["status"] == "completed"
    assert (
        "completed"
        in assert_problem(await api.post(f"/jobs/{job_id}/cancel", headers=ADMIN), 409)["detail"]
    )
    assert_problem(await api.post(f"/jobs/{job_id}/retry", headers=ADMIN), 409)


async def test_concurrent_cancels_of_an_awaiting_job_all_succeed_once(api: httpx.AsyncClient):
    """Five admins cancel at once: one cancel is applied, the others are no-ops; every one is
    answered with the cancelled view (cancelling is idempotent)."""
    job_id = (await create_job(api))["job_id"]
    answers = await asyncio.gather(
        *(api.post(f"/jobs/{job_id}/cancel", headers=ADMIN) for _ in range(5))
    )
    cancelled = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 409]
    assert len(cancelled) + len(refused) == 5 and cancelled
    assert all(a.json()["status"] == "cancelled" for a in cancelled)
    assert (await api.get(f"/status/{job_id}")).json()["status"] == "cancelled"


# -- case 12: an Idempotency-Key names one job while Temporal retains it ------------------


@pytest.mark.reliability  # the dev server takes ~35 s to delete an execution
async def test_an_idempotency_key_names_its_job_until_the_execution_is_gone(
    api: httpx.AsyncClient, dev_client: Client, keys: Keys
):
    """Case 12: the promise matches what is built. While Temporal keeps the execution (open,
    or closed and inside the namespace's retention), the same key and body answer 200 with
    the same job, even after it completed. Once the execution is gone (retention ran out;
    here it is deleted, which is what retention does), the key starts a new job (201)."""
    key = {"Idempotency-Key": f"order-{base64.b32encode(os.urandom(10)).decode()}"}
    body = start_job_body()
    first = await api.post("/start_job", json=body, headers=key)
    assert first.status_code == 201
    job_id = first.json()["job_id"]
    paid = await api.post(
        "/provide_input", json={"job_id": job_id, **_signed(keys, job_id, PAYMENT)}
    )
    assert paid.json()["status"] == "completed"
    again = await api.post("/start_job", json=body, headers=key)
    assert again.status_code == 200 and again.json()["job_id"] == job_id
    assert again.json()["status"] == "completed"
    await dev_client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=dev_client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=job_id),
        )
    )
    deadline = asyncio.get_running_loop().time() + 120
    while True:  # deletion is asynchronous on the server (~35 s on the dev server)
        try:
            await dev_client.get_workflow_handle(job_id).describe()
        except RPCError as err:
            assert err.status == RPCStatusCode.NOT_FOUND
            break
        assert asyncio.get_running_loop().time() < deadline, "the execution was never deleted"
        await asyncio.sleep(0.5)
    after = await api.post("/start_job", json=body, headers=key)
    assert after.status_code == 201, after.text
    assert after.json()["job_id"] == job_id  # the same ID, a new run
    assert after.json()["status"] == "awaiting_payment"
    assert after.json()["input_hash"] == first.json()["input_hash"]
