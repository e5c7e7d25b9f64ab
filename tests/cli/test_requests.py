"""What the CLI sends: start_job or batch bodies with the flags applied, and signed payments."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import httpx
import pytest

from cli.client import ApiClient
from cli.errors import CliError
from cli.inputs import Submission
from cli.payment import is_batch_id, pay, payment_data
from cli.submit import send_submission, submit_request
from domain.signatures import signed_content, verify_signature
from tests.factories import listing_body, start_job_body

SECRET_KEY = os.urandom(32)
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()


def submission(jobs: list[dict[str, Any]], as_batch: bool) -> Submission:
    return Submission("f.json", jobs, [f"item {i + 1}" for i in range(len(jobs))], as_batch)


def test_one_listing_is_a_start_job_request_with_the_flags() -> None:
    job = {"input_data": listing_body()}

    request = submit_request(
        submission([job], as_batch=False),
        marketplaces=["ebay", "etsy"],
        identifier="order-1",
        idempotency_key="key-1",
    )

    assert request.path == "/start_job"
    assert request.body == {
        **job,
        "marketplaces": ["ebay", "etsy"],
        "identifier_from_purchaser": "order-1",
    }
    assert request.headers == {"Idempotency-Key": "key-1"}
    assert "marketplaces" not in job, "the submission itself is left alone"


def test_several_listings_are_one_batch_request_with_numbered_identifiers() -> None:
    jobs = [start_job_body(), start_job_body()]

    request = submit_request(submission(jobs, as_batch=True), identifier="order")

    assert request.path == "/batches"
    assert [job["identifier_from_purchaser"] for job in request.body["jobs"]] == [
        "order-1",
        "order-2",
    ]
    assert [job["input_data"] for job in request.body["jobs"]] == [j["input_data"] for j in jobs]
    assert request.headers == {}


def test_without_flags_the_bodies_are_sent_unchanged() -> None:
    jobs = [start_job_body()]

    assert submit_request(submission(jobs, as_batch=False)).body == jobs[0]


def test_send_submission_reads_the_id_and_whether_it_existed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/batches":
            return httpx.Response(200, json={"batch_id": "batch-1", "job_ids": ["a", "b"]})
        return httpx.Response(201, json={"job_id": "job-1", "status": "awaiting_payment"})

    with ApiClient("http://api", transport=httpx.MockTransport(answer)) as client:
        batch = send_submission(client, submit_request(submission([{}, {}], as_batch=True)))
        job = send_submission(client, submit_request(submission([{}], as_batch=False)))

    assert (batch.kind, batch.id, batch.jobs, batch.existing) == ("batch", "batch-1", 2, True)
    assert (job.kind, job.id, job.jobs, job.existing) == ("job", "job-1", 1, False)


def test_batch_ids_are_told_from_job_ids_and_batch_children() -> None:
    assert is_batch_id("batch-2b1f8f7e-0c1d-4e7a-9a51-1f1f4f1f9a10")
    assert not is_batch_id("batch-2b1f8f7e-0c1d-4e7a-9a51-1f1f4f1f9a10-00042")
    assert not is_batch_id("4b3f0c2e-8a51-4f0e-9d55-2f1f4f1f9a10")


def test_payment_data_defaults_to_a_fresh_payment_id_and_must_be_an_object() -> None:
    first, second = payment_data(None), payment_data(None)
    assert first["payment_id"].startswith("cli-") and first != second
    assert payment_data('{"payment_id": "p1", "amount": "45.00"}')["amount"] == "45.00"
    with pytest.raises(CliError, match="not JSON"):
        payment_data("{")
    with pytest.raises(CliError, match="JSON object"):
        payment_data("[1]")


@pytest.mark.parametrize(
    ("target", "path", "id_field", "prefer"),
    [
        ("4b3f0c2e-8a51-4f0e-9d55-2f1f4f1f9a10", "/provide_input", "job_id", "wait=0"),
        ("batch-2b1f8f7e", "/batches/batch-2b1f8f7e/provide_input", "batch_id", None),
    ],
)
def test_pay_signs_what_the_api_verifies(
    target: str, path: str, id_field: str, prefer: str | None
) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202, json={"status": "running"})

    data = {"payment_id": "pay_1", "amount": "45.00"}
    with ApiClient("http://api", transport=httpx.MockTransport(answer)) as client:
        status = pay(client, target, data, SECRET)

    body = json.loads(sent[0].content)
    assert status == "running"
    assert sent[0].url.path == path
    assert sent[0].headers.get("prefer") == prefer
    assert set(body) == {id_field, "data", "signature"}
    assert body[id_field] == target and body["data"] == data
    assert verify_signature(
        signed_content(target, data), body["signature"], hmac_keys=[SECRET_KEY], public_keys=[]
    )


def test_pay_without_a_secret_or_with_a_bad_one_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("SIGNING_SECRETS", raising=False)
    monkeypatch.chdir(tmp_path)
    client = ApiClient("http://api", transport=httpx.MockTransport(lambda r: httpx.Response(500)))

    with pytest.raises(CliError, match="no signing secret"):
        pay(client, "job-1", {}, None)
    with pytest.raises(CliError, match="signing secret: ") as caught:
        pay(client, "job-1", {}, "whsec_tooshort")
    assert "tooshort" not in caught.value.message, "the secret is never echoed"
