"""Etsy token renewal across worker processes: one refresh at a time, never a spent token.

The shop's EtsyTokenWorkflow runs on a real Temporal dev server, polled by two Workers; the
callers are activity executions of two "processes" (each its own EtsyTokens, as each worker
process has), all finding the access token expired at once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.etsy import EtsyActivities
from activities.etsy_oauth import EtsyTokens
from config.settings import Settings
from domain.marketplaces import Marketplace
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl
from workflows.etsy_tokens import EtsyTokenWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOKEN = "/etsy/v3/public/oauth/token"


class Process:
    """One worker process's Etsy client: its own EtsyTokens, the shared token workflow."""

    def __init__(
        self, settings: Settings, http: httpx.AsyncClient, client: Client, ids: dict[str, str]
    ) -> None:
        self.client = client
        self.tokens = EtsyTokens(
            settings, http, workflow_id=ids["workflow_id"], task_queue=ids["task_queue"]
        )
        self.etsy = EtsyActivities(settings, http)
        self.etsy.client.tokens = self.tokens

    async def in_activity(self, call: Callable[[], Awaitable[Any]]) -> Any:
        async def run() -> Any:
            return await call()

        return await ActivityEnvironment(client=self.client).run(run)

    async def list_listings(self) -> int:
        """getListingsByShop through the adapter's own request path (401 -> renew -> again)."""

        async def call() -> int:
            response = await self.etsy._call(
                "list_listings", "GET", f"{self.etsy.shop}/listings", params={"limit": "1"}
            )
            return response.status_code

        result: int = await self.in_activity(call)
        return result


@pytest.fixture
async def ids() -> dict[str, str]:
    key = uuid.uuid4().hex[:10]
    return {"workflow_id": f"etsy-tokens-test-{key}", "task_queue": f"etsy-tokens-{key}"}


@pytest.fixture
async def other_client(dev_client: Client) -> Client:
    """A second connection to the same cluster: the second worker process's."""
    return await Client.connect(
        dev_client.service_client.config.target_host,
        namespace=dev_client.namespace,
        data_converter=pydantic_data_converter,
    )


@pytest.fixture
async def workers(
    dev_client: Client, other_client: Client, ids: dict[str, str]
) -> AsyncIterator[None]:
    """Two workers polling the token workflow's queue, one per worker process."""
    async with AsyncExitStack() as stack:
        for client in (dev_client, other_client):
            await stack.enter_async_context(
                Worker(client, task_queue=ids["task_queue"], workflows=[EtsyTokenWorkflow])
            )
        yield


async def _token_calls(sim: SimulatorControl) -> list[dict[str, Any]]:
    return [c for c in await sim.calls("etsy") if c["path"] == TOKEN]


async def _history_bytes(client: Client, workflow_id: str) -> bytes:
    """Every event as stored (payload data raw, not base64), continued-as-new runs too."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return b"".join(event.SerializeToString() for event in history.events)


async def test_two_workers_racing_a_refresh_refresh_once(
    settings: Settings,
    http: httpx.AsyncClient,
    sim: SimulatorControl,
    dev_client: Client,
    other_client: Client,
    workers: None,
    ids: dict[str, str],
) -> None:
    """Issue 12 fault 8: the access token expired; ten calls on two worker processes find out
    at once. Exactly one refresh reaches Etsy, every call goes on with the new token, the
    spent refresh token is never sent again (a third, restarted process does not reuse the
    configured one), and no token is in the workflow's history in plaintext."""
    first = Process(settings, http, dev_client, ids)
    second = Process(settings, http, other_client, ids)
    assert await first.list_listings() == 200  # the configured token: no workflow needed
    assert await sim.calls("etsy") and await _token_calls(sim) == []

    await sim.http.post(f"{sim.base_url}/__sim/etsy/expire_tokens")
    statuses = await asyncio.gather(
        *(process.list_listings() for process in (first, second) for _ in range(5))
    )
    assert statuses == [200] * 10
    [refresh] = await _token_calls(sim)
    assert refresh["status"] == 200
    renewed = {first.tokens._current[0], second.tokens._current[0]}
    assert len(renewed) == 1 and settings.etsy_access_token.get_secret_value() not in renewed

    restarted = Process(settings, http, dev_client, ids)
    assert await restarted.list_listings() == 200, "configured token refused, then the current one"
    assert len(await _token_calls(sim)) == 1, "the spent configured refresh token is not sent"

    await sim.http.post(f"{sim.base_url}/__sim/etsy/expire_tokens")
    assert await restarted.list_listings() == 200
    calls = await _token_calls(sim)
    assert [c["status"] for c in calls] == [200, 200], "the rotated refresh token was good"

    history = await _history_bytes(dev_client, ids["workflow_id"])
    assert b"refresh" in history and len(history) > 1000, "payloads are there, raw"
    assert settings.etsy_refresh_token is not None
    secrets = {
        settings.etsy_refresh_token.get_secret_value(),
        settings.etsy_access_token.get_secret_value(),
        *renewed,
        restarted.tokens._current[0],
    }
    for secret in secrets:
        assert secret.partition(".")[2].encode() not in history


async def test_a_refused_refresh_stops_the_shop_until_a_new_token_is_configured(
    settings: Settings,
    http: httpx.AsyncClient,
    sim: SimulatorControl,
    dev_client: Client,
    workers: None,
    ids: dict[str, str],
) -> None:
    """The configured refresh token was spent elsewhere: Etsy answers invalid_grant. The
    publish fails at once (non-retryable) saying to authorize again, without retrying the
    refresh; a new ETSY_REFRESH_TOKEN is adopted by the next request."""
    assert settings.etsy_refresh_token is not None
    keystring = settings.etsy_api_key.get_secret_value().partition(":")[0]
    elsewhere = await http.post(
        f"{sim.base_url}{TOKEN}",
        data={
            "grant_type": "refresh_token",
            "client_id": keystring,
            "refresh_token": settings.etsy_refresh_token.get_secret_value(),
        },
    )
    assert elsewhere.status_code == 200
    await sim.http.post(f"{sim.base_url}/__sim/etsy/expire_tokens")

    process = Process(settings, http, dev_client, ids)
    with pytest.raises(ApplicationError) as failure:
        await process.list_listings()
    assert failure.value.type == "MarketplaceAuthError" and failure.value.non_retryable
    assert "authorize the shop again" in failure.value.message
    with pytest.raises(ApplicationError):
        await Process(settings, http, dev_client, ids).list_listings()
    assert [c["status"] for c in await _token_calls(sim)] == [200, 400], "refused once, not retried"

    fresh = elsewhere.json()
    reauthorized = settings.model_copy(
        update={
            "etsy_access_token": type(settings.etsy_access_token)(fresh["access_token"]),
            "etsy_refresh_token": type(settings.etsy_access_token)(fresh["refresh_token"]),
        }
    )
    await sim.http.post(f"{sim.base_url}/__sim/etsy/expire_tokens")
    assert await Process(reauthorized, http, dev_client, ids).list_listings() == 200
    assert [c["status"] for c in await _token_calls(sim)] == [200, 400, 200]


async def test_a_publish_renews_an_expired_token_and_completes(
    settings: Settings,
    http: httpx.AsyncClient,
    sim: SimulatorControl,
    dev_client: Client,
    workers: None,
    ids: dict[str, str],
) -> None:
    """The whole publish activity, started with an expired token, renews it and completes."""
    process = Process(settings, http, dev_client, ids)
    await sim.http.post(f"{sim.base_url}/__sim/etsy/expire_tokens")
    request = publish_request(Marketplace.ETSY)

    class WithClient(Attempts):
        async def run(self, request: Any) -> Any:
            env = ActivityEnvironment(client=dev_client)
            self.attempt += 1
            return await env.run(self.activity_fn, request)

    result = await WithClient(process.etsy.publish_to_etsy, Marketplace.ETSY).run(request)
    assert result.listing_id
    assert len(await sim.live_listings("etsy", request.listing.sku)) == 1
    assert len(await _token_calls(sim)) == 1
    assert json.dumps(result.model_dump(mode="json"))  # nothing secret in the result either
