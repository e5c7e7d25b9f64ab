"""Issue 12 item 5: every request each adapter makes to its marketplace goes through that
marketplace's pacer (token refreshes, eBay's category lookups, Vinted's ontologies included),
spaced at the share; image downloads do not.

Each adapter runs in full against the simulator over the worker's own clients
(``open_worker_http``) with fresh caches, and the simulator's request log is compared with
what the pacer let go.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from activities.ebay import EbayActivities
from activities.registry import WorkerHttp, marketplace_activities, open_worker_http
from activities.request_pacer import LocalLease, RequestPacer
from config.settings import Settings
from domain.marketplaces import Marketplace
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

SHARE = 40.0


@pytest.fixture
async def pacers() -> dict[Marketplace, RequestPacer]:
    pacers = {m: RequestPacer(m) for m in Marketplace}
    for pacer in pacers.values():
        pacer.set_lease(LocalLease(SHARE, time.monotonic() + 300))
    return pacers


@pytest.fixture
async def worker_http(
    settings: Settings, pacers: dict[Marketplace, RequestPacer]
) -> AsyncIterator[tuple[WorkerHttp, dict[Marketplace, list[float]]]]:
    """The worker's clients, and when each marketplace request left (after its pacer)."""
    left: dict[Marketplace, list[float]] = {m: [] for m in Marketplace}
    async with open_worker_http(settings, pacers) as http:
        for marketplace, client in http.marketplaces.items():

            async def note(request: httpx.Request, times: list[float] = left[marketplace]) -> None:
                times.append(time.monotonic())

            client.event_hooks["request"].append(note)
        yield http, left


def assert_spaced(times: list[float]) -> None:
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and min(gaps) >= 1 / SHARE - 0.002, gaps


@pytest.mark.parametrize("marketplace", list(Marketplace), ids=lambda m: m.value)
async def test_every_request_of_a_publish_goes_through_the_marketplaces_pacer(
    marketplace: Marketplace,
    settings: Settings,
    sim: SimulatorControl,
    pacers: dict[Marketplace, RequestPacer],
    worker_http: tuple[WorkerHttp, dict[Marketplace, list[float]]],
):
    http, left = worker_http
    if marketplace is Marketplace.EBAY:  # no configured token: the worker mints one first
        fresh = settings.model_copy(update={"ebay_token": SecretStr("")})
        publish = EbayActivities(fresh, http.marketplaces[marketplace]).publish_to_ebay
    else:
        publish = marketplace_activities(settings, http)[marketplace][0]
    await Attempts(publish, marketplace).run(publish_request(marketplace))

    logged = await sim.calls(marketplace.value)
    assert pacers[marketplace].sent == len(logged) == len(left[marketplace])
    assert_spaced(left[marketplace])
    operations = {call["operation"] for call in logged}
    assert {
        Marketplace.EBAY: {
            "refresh_token",
            "getItemConditionPolicies",
            "getItemAspectsForCategory",
        },
        Marketplace.ETSY: {"uploadListingImage"},
        Marketplace.VINTED: {"get_ontologies", "item_status"},
    }[marketplace] <= operations
    others = [m for m in Marketplace if m is not marketplace]
    assert all(pacers[m].sent == 0 for m in others)
    if marketplace is Marketplace.ETSY:
        assert await sim.calls("images"), "the image was downloaded, not through the pacer"
