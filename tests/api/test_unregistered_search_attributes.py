"""A Temporal namespace without the service's search attributes (a server of one's own set up
before issue 16, or by hand): every job start and every search is refused by Temporal. The
gateway answers 502 naming the missing attribute and what to do, never a bare "Temporal
answered INVALID_ARGUMENT" nor a 422 that blames the caller's filters; nothing starts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config.settings import Settings
from domain.job_search import SEARCH_ATTRIBUTES, unregistered_search_attribute
from tests.factories import start_job_body
from tests.temporal_binaries import dev_server_path

ADMIN = {"authorization": "Bearer unregistered-admin"}


@pytest.fixture(scope="module")
async def bare() -> AsyncIterator[tuple[httpx.AsyncClient, WorkflowEnvironment]]:
    env = await WorkflowEnvironment.start_local(  # no search_attributes: none registered
        dev_server_existing_path=dev_server_path(),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    app = create_app(client=env.client, settings=Settings(admin_token="unregistered-admin"))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
                yield api, env
    finally:
        await env.shutdown()


def _names_an_attribute(response: httpx.Response) -> str:
    assert response.status_code == 502, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail: str = response.json()["detail"]
    assert "search attribute" in detail and "registers" in detail, detail
    assert any(key.name in detail for key in SEARCH_ATTRIBUTES), detail
    return detail


async def test_a_job_start_is_502_naming_the_missing_attribute_and_nothing_starts(bare):
    api, env = bare

    response = await api.post("/start_job", json=start_job_body())

    _names_an_attribute(response)
    assert [e async for e in env.client.list_workflows("WorkflowType = 'JobWorkflow'")] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/jobs?status=failed", None),
        ("GET", "/listings?status=live", None),
        ("POST", "/jobs/bulk", {"action": "retry", "filter": {"status": "failed"}}),
    ],
)
async def test_a_search_is_502_naming_the_missing_attribute_not_a_422(bare, method, path, body):
    api, _ = bare

    response = await api.request(method, path, json=body, headers=ADMIN)

    _names_an_attribute(response)


def test_the_messages_temporal_sends_for_a_missing_attribute():
    start = "Namespace default has no mapping defined for search attribute JobStatus"
    query = "invalid query: invalid search attribute: JobCreatedAt"
    assert unregistered_search_attribute(start) == "JobStatus"
    assert unregistered_search_attribute(query) == "JobCreatedAt"
    assert unregistered_search_attribute("invalid search attribute: CustomerTier") is None
    assert unregistered_search_attribute("workflow execution already started") is None
