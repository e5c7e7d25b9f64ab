"""Health, readiness, unknown routes, and the OpenAPI document."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from tests.api.helpers import assert_problem


async def test_health_is_200(api: httpx.AsyncClient):
    response = await api.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_ready_is_200_when_temporal_answers(api: httpx.AsyncClient):
    assert (await api.get("/ready")).status_code == 200


async def test_ready_is_503_when_temporal_is_unreachable():
    """A lifespan that cannot reach Temporal must not stop /health, and /ready must say 503."""
    unreachable = await Client.connect("127.0.0.1:1", lazy=True)
    app = create_app(client=unreachable, settings=Settings())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as api:
            assert (await api.get("/health")).status_code == 200
            assert_problem(await api.get("/ready"), 503)


async def test_unknown_route_is_problem_json(api: httpx.AsyncClient):
    assert_problem(await api.get("/no/such/route"), 404)
    assert_problem(await api.put("/start_job"), 405)


async def test_openapi_documents_every_route(api: httpx.AsyncClient):
    paths = (await api.get("/openapi.json")).json()["paths"]
    for path in (
        "/start_job",
        "/provide_input",
        "/status/{job_id}",
        "/status",
        "/input_schema",
        "/demo",
        "/jobs/{job_id}/events",
        "/health",
        "/ready",
    ):
        assert path in paths


async def test_job_routes_answer_503_when_temporal_is_unreachable():
    """Seed 004 "External Integration: connection failure": a clear 503, never a 500."""
    unreachable = await Client.connect("127.0.0.1:1", lazy=True)
    app = create_app(client=unreachable, settings=Settings())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as api:
            assert_problem(await api.get("/status/some-job"), 503)
            body = {"job_id": "j", "data": {}, "signature": "v1,AA=="}
            assert_problem(await api.post("/provide_input", json=body), 503)
