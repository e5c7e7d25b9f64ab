"""Encryption at rest, end to end: a job through the gateway and a real worker on a dev server,
then the raw history and memo as the server stores them.

With ``PAYLOAD_ENCRYPTION_KEYS`` the listing text, SKU, purchaser reference, payment data and a
marketplace's error text appear nowhere in what the server holds, yet the job runs, the status
query answers and the memo reads back. The same run without keys is the control: the markers
are found, so the assertions can fail.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.api.history.v1 import History
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config.settings import Settings
from config.temporal import connect
from domain.job import JobView
from domain.job_search import SEARCH_ATTRIBUTES
from domain.marketplace_errors import MARKETPLACE_VALIDATION_ERROR
from domain.marketplaces import Marketplace, publish_activity_name
from domain.messages import PublishRequest, PublishResult
from domain.signatures import sign_hmac, signed_content
from tests.codec.keys import key_entry, new_key
from tests.factories import start_job_body
from tests.temporal_binaries import dev_server_path
from tests.workflow.harness import running_workers
from tests.workflow.stand_ins import StandInMarketplaces
from workflows.job import JobWorkflow

SIGNING_KEY = b"s" * 32
ADMIN_TOKEN = "encryption-test-admin"


@pytest.fixture(scope="module")
async def server_target() -> AsyncIterator[str]:
    """A dev server of its own: the session server's API worker polls the same task queues
    with the plain converter and would pick up (and fail on) encrypted tasks."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(),
        dev_server_log_level="error",
        search_attributes=SEARCH_ATTRIBUTES,
    )
    try:
        yield env.client.service_client.config.target_host
    finally:
        await env.shutdown()


@dataclass
class Markers:
    title: str
    description: str
    sku: str
    purchaser: str
    payment: str
    error: str

    @classmethod
    def new(cls) -> Markers:
        tag = uuid.uuid4().hex[:10]
        return cls(
            title=f"TitleMarker{tag}",
            description=f"DescriptionMarker{tag}",
            sku=f"SKU{tag.upper()}",
            purchaser=f"PurchaserMarker{tag}",
            payment=f"PaymentMarker{tag}",
            error=f"ErrorMarker{tag}",
        )

    def all(self) -> dict[str, str]:
        return dict(vars(self))


@dataclass
class StoredJob:
    view: JobView
    stored: bytes
    """The history events and the memo exactly as the server returns them (protobuf)."""
    history_json: str
    memo: dict[str, Any]
    """The memo read back through the client's converter, as the gateway reads it."""
    memo_encodings: set[bytes]


@dataclass
class RejectingEbay(StandInMarketplaces):
    """Stand-ins where eBay rejects the listing with an error text that quotes it."""

    rejection: str = ""

    def activities(self) -> dict[Marketplace, list[Callable[..., Any]]]:
        activities = super().activities()

        @activity.defn(name=publish_activity_name(Marketplace.EBAY))
        async def reject(request: PublishRequest) -> PublishResult:
            raise ApplicationError(
                self.rejection, type=MARKETPLACE_VALIDATION_ERROR, non_retryable=True
            )

        activities[Marketplace.EBAY] = [reject]
        return activities


def _settings(target: str, encrypted: bool) -> Settings:
    keys = f"{key_entry('k2026', new_key())} {key_entry('k2025', new_key())}" if encrypted else ""
    return Settings(
        temporal_address=target,
        payload_encryption_keys=keys,
        signing_secrets="whsec_" + base64.b64encode(SIGNING_KEY).decode(),
        admin_token=ADMIN_TOKEN,
        provide_input_wait=20,
    )


async def _run_job(
    settings: Settings, stand_ins: StandInMarketplaces, markers: Markers
) -> StoredJob:
    """Start and pay a job through the gateway; the real worker runs it with ``stand_ins``.

    The client comes from ``connect()``, as in the gateway and worker processes.
    """
    client = await connect(settings)
    body = start_job_body(identifier_from_purchaser=markers.purchaser)
    body["input_data"].update(
        sku=markers.sku,
        title=f"Denim jacket {markers.title}",
        description=f"Size M, light wash. {markers.description}",
    )
    payment = {"payment_id": markers.payment, "amount": "45.00", "currency": "EUR"}
    app = create_app(client=client, settings=settings)
    async with running_workers(client, stand_ins), app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
            key = {"Idempotency-Key": str(uuid.uuid4())}
            started = await api.post("/start_job", json=body, headers=key)
            assert started.status_code == 201, started.text
            job_id = started.json()["job_id"]
            again = await api.post("/start_job", json=body, headers=key)
            assert again.status_code == 200, "the fingerprint in the encrypted memo reads back"
            signature = sign_hmac(signed_content(job_id, payment), SIGNING_KEY)
            paid = await api.post(
                "/provide_input", json={"job_id": job_id, "data": payment, "signature": signature}
            )
            assert paid.status_code == 200, paid.text
            status = await api.get(f"/status/{job_id}")
            assert status.status_code == 200 and not status.json().get("stale")

        handle: WorkflowHandle[JobWorkflow, JobView] = client.get_workflow_handle_for(
            JobWorkflow.run, job_id
        )
        view = await handle.query(JobWorkflow.status)
        history = await handle.fetch_history()
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.RUNNING:  # a failed job stays open
            await handle.terminate("test done")
    memo = description.raw_description.workflow_execution_info.memo
    return StoredJob(
        view=view,
        stored=History(events=history.events).SerializeToString() + memo.SerializeToString(),
        history_json=history.to_json(),
        memo=dict(await description.memo()),
        memo_encodings={p.metadata["encoding"] for p in memo.fields.values()},
    )


def _found(markers: Markers, job: StoredJob) -> set[str]:
    return {
        name
        for name, marker in markers.all().items()
        if marker.encode() in job.stored or marker in job.history_json
    }


def _sku_only_in_workflow_ids(sku: str, history_json: str) -> bool:
    """Every occurrence of the SKU is the listing's workflow id, ``"workflowId": "listing-…"``."""
    total = history_json.count(sku)
    as_id = history_json.count(f'"workflowId": "listing-{sku}"')
    return total > 0 and total == as_id


@pytest.mark.parametrize("encrypted", [True, False], ids=["with_keys", "without_keys_control"])
async def test_completed_job_stores_no_listing_or_payment_plaintext(
    server_target: str, encrypted: bool
):
    markers = Markers.new()
    job = await _run_job(_settings(server_target, encrypted), StandInMarketplaces(), markers)

    assert job.view.status == "completed", "the worker decrypted its input and the signal"
    assert job.view.identifier_from_purchaser == markers.purchaser, "the query result decrypts"
    assert job.view.marketplaces[Marketplace.EBAY].listing_id == f"ebay-{markers.sku}"
    assert job.memo["view"]["identifier_from_purchaser"] == markers.purchaser
    assert job.memo["status"] == "completed"
    leaked = _found(markers, job)
    if encrypted:
        # The SKU is an identifier, not content: it names the listing entity's workflow
        # (listing-<sku>, issue 13), which signals the job; it appears nowhere else.
        assert leaked == {"sku"}
        assert _sku_only_in_workflow_ids(markers.sku, job.history_json)
        assert job.memo_encodings == {b"binary/encrypted"}, "the SDK encrypts memo fields too"
    else:
        # Control: the same run without keys stores every marker (the error one is not used).
        assert leaked == {"title", "description", "sku", "purchaser", "payment"}
        assert job.memo_encodings == {b"json/plain"}


@pytest.mark.parametrize("encrypted", [True, False], ids=["with_keys", "without_keys_control"])
async def test_marketplace_error_text_is_encrypted_in_the_failure(
    server_target: str, encrypted: bool
):
    markers = Markers.new()
    stand_ins = RejectingEbay(rejection=f"title rejected: {markers.error}")
    job = await _run_job(_settings(server_target, encrypted), stand_ins, markers)

    assert job.view.status == "failed"
    ebay = job.view.marketplaces[Marketplace.EBAY]
    assert ebay.error is not None and markers.error in ebay.error.message, "decrypted"
    if encrypted:
        assert _found(markers, job) == {"sku"}
        assert _sku_only_in_workflow_ids(markers.sku, job.history_json)
    else:
        assert "error" in _found(markers, job)
