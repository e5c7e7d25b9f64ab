"""GET /metrics on the gateway: requests by method, route template and status; latency."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from tests.factories import start_job_body

SETTINGS = Settings(signing_secrets="whsec_" + base64.b64encode(os.urandom(32)).decode())


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, keyed by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def requests(method: str, route: str, status: int) -> tuple[str, frozenset[tuple[str, str]]]:
    labels = {"method": method, "route": route, "status": str(status)}
    return "gateway_http_requests_total", frozenset(labels.items())


@pytest.fixture
async def gateway(dev_client: Client) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(client=dev_client, settings=SETTINGS)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_requests_are_counted_by_route_template_not_path(gateway: httpx.AsyncClient):
    job_ids = [str(uuid.uuid4()) for _ in range(3)]
    for job_id in job_ids:
        assert (await gateway.get(f"/status/{job_id}")).status_code == 404
    assert (await gateway.get("/health")).status_code == 200
    assert (await gateway.get(f"/no/such/{job_ids[0]}")).status_code == 404
    assert (await gateway.put("/start_job")).status_code == 405

    response = await gateway.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found[requests("GET", "/status/{job_id}", 404)] == 3
    assert found[requests("GET", "/health", 200)] == 1
    assert found[requests("GET", "<unmatched>", 404)] == 1, "unknown paths share one series"
    assert found[requests("PUT", "/start_job", 405)] == 1
    timed = frozenset({"method": "GET", "route": "/status/{job_id}"}.items())
    assert found[("gateway_http_request_duration_seconds_count", timed)] == 3
    assert not any(job_id in response.text for job_id in job_ids), "no job IDs in labels"


async def test_rejected_signatures_are_counted(gateway: httpx.AsyncClient, dev_client: Client):
    started = await gateway.post("/start_job", json=start_job_body())
    assert started.status_code == 201, started.text
    job_id = started.json()["job_id"]
    try:
        bad = {"job_id": job_id, "data": {"payment_id": "p"}, "signature": "v1,AAAA"}
        assert (await gateway.post("/provide_input", json=bad)).status_code == 403
        assert (await gateway.post("/provide_input", json=bad)).status_code == 403
        found = samples((await gateway.get("/metrics")).text)
        assert found[("gateway_signatures_rejected_total", frozenset())] == 2
        assert found[requests("POST", "/provide_input", 403)] == 2
        assert found[requests("POST", "/start_job", 201)] == 1
    finally:
        await dev_client.get_workflow_handle(job_id).terminate("test over")


async def test_each_app_has_its_own_registry(gateway: httpx.AsyncClient, dev_client: Client):
    await gateway.get("/health")
    other = create_app(client=dev_client, settings=SETTINGS)
    transport = httpx.ASGITransport(app=other)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        found = samples((await client.get("/metrics")).text)
    assert requests("GET", "/health", 200) not in found


async def test_metrics_route_is_not_in_the_openapi_schema(gateway: httpx.AsyncClient):
    assert "/metrics" not in (await gateway.get("/openapi.json")).json()["paths"]
