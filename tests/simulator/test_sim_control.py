"""The simulator's control API: every fault mode, latency, reset, the call log, bad bodies."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from config.settings import Settings
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

EBAY = "/ebay/sell/inventory/v1"
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _ebay_headers(settings: Settings) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {settings.ebay_token.get_secret_value()}",
        "Content-Language": "en-US",
    }


async def _put_item(http: httpx.AsyncClient, settings: Settings, sku: str) -> httpx.Response:
    item = {"product": {"title": "Vintage denim jacket"}}  # incomplete items are accepted
    return await http.put(
        f"{EBAY}/inventory_item/{sku}", json=item, headers=_ebay_headers(settings)
    )


async def _get_offers(http: httpx.AsyncClient, settings: Settings) -> httpx.Response:
    return await http.get(f"{EBAY}/offer", params={"sku": "S1"}, headers=_ebay_headers(settings))


async def test_error_fault_answers_5xx_once_with_ebay_body(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "error", "getOffers", status=503)
    failed = await _get_offers(http, settings)
    assert failed.status_code == 503
    assert failed.json()["errors"][0]["errorId"] == 25001
    assert (await _get_offers(http, settings)).status_code == 404  # the fault was used up


async def test_rate_limit_fault_sends_retry_after_and_ebay_2001(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "rate_limit", retry_after=7)
    response = await _get_offers(http, settings)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["errors"][0]["errorId"] == 2001


async def test_etsy_rate_limit_fault_has_etsy_body_and_quota_headers(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.add_fault("etsy", "rate_limit", "getListingsByShop", retry_after=2)
    response = await http.get(
        f"/etsy/v3/application/shops/{settings.etsy_shop_id}/listings",
        headers={
            "x-api-key": settings.etsy_api_key.get_secret_value(),
            "Authorization": f"Bearer {settings.etsy_access_token.get_secret_value()}",
        },
    )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["x-remaining-this-second"] == "0"
    assert "error" in response.json()


async def test_timeout_fault_holds_the_connection_then_answers_504(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "timeout", "getOffers", delay_ms=300)
    started = time.monotonic()
    response = await _get_offers(http, settings)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 504


async def test_timeout_fault_by_default_outlasts_the_client_and_reset_releases_it(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "timeout", "getOffers")
    with pytest.raises(httpx.ReadTimeout):
        await http.get(
            f"{EBAY}/offer", params={"sku": "S1"}, headers=_ebay_headers(settings), timeout=0.3
        )
    [held] = await sim.calls()
    assert held["status"] is None  # still held by the simulator

    await sim.add_fault("ebay", "timeout", "getOffers")
    waiting = asyncio.create_task(
        http.get(f"{EBAY}/offer", params={"sku": "S1"}, headers=_ebay_headers(settings))
    )
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await sim.reset()
    response = await asyncio.wait_for(waiting, timeout=2)
    assert response.status_code == 504


async def test_ghost_write_applies_the_change_then_answers_500(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.add_fault("etsy", "ghost_write", "createDraftListing")
    response = await http.post(
        f"/etsy/v3/application/shops/{settings.etsy_shop_id}/listings",
        data={
            "quantity": "1",
            "title": "t",
            "description": "d",
            "price": "5.00",
            "who_made": "i_did",
            "when_made": "made_to_order",
            "is_supply": "false",
            "taxonomy_id": "1",
            "shipping_profile_id": "9001",
        },
        headers={
            "x-api-key": settings.etsy_api_key.get_secret_value(),
            "Authorization": f"Bearer {settings.etsy_access_token.get_secret_value()}",
        },
    )
    assert response.status_code == 500
    assert response.json() == {"error": "Server Error"}
    assert len((await sim.listings())["etsy"]) == 1


async def test_auth_and_validation_faults_are_marketplace_shaped(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "auth", "createOrReplaceInventoryItem")
    await sim.add_fault("ebay", "validation", "createOrReplaceInventoryItem")
    unauthorized = await _put_item(http, settings, "S1")
    assert unauthorized.status_code == 401
    assert unauthorized.json()["errors"][0]["errorId"] == 1001
    invalid = await _put_item(http, settings, "S1")
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["domain"] == "API_INVENTORY"
    assert (await _put_item(http, settings, "S1")).status_code == 204


async def test_fault_for_one_operation_leaves_the_others_alone(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "error", "publishOffer")
    assert (await _put_item(http, settings, "S1")).status_code == 204
    assert (await _get_offers(http, settings)).status_code == 404


async def test_times_counts_hits_and_null_means_until_reset(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "error", "getOffers", times=2)
    statuses = [(await _get_offers(http, settings)).status_code for _ in range(3)]
    assert statuses == [500, 500, 404]
    await sim.add_fault("ebay", "error", "getOffers", times=None)
    statuses = [(await _get_offers(http, settings)).status_code for _ in range(4)]
    assert statuses == [500] * 4
    await sim.reset()
    assert (await _get_offers(http, settings)).status_code == 404


async def test_latency_delays_every_call(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.set_latency(200)
    started = time.monotonic()
    await _get_offers(http, settings)
    assert time.monotonic() - started >= 0.2


async def test_reset_clears_listings_faults_latency_and_calls(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await _put_item(http, settings, "S1")
    await sim.add_fault("ebay", "error", times=0)
    await sim.set_latency(50)
    await sim.reset()
    assert await sim.calls() == []
    assert (await http.get("/__sim/faults")).json() == []
    started = time.monotonic()
    assert (await _put_item(http, settings, "S1")).status_code == 204
    assert time.monotonic() - started < 0.05
    assert await sim.listings() == {"ebay": [], "etsy": [], "vinted": []}


async def test_calls_log_records_each_marketplace_call(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await _put_item(http, settings, "S1")
    await _get_offers(http, settings)
    calls = await sim.calls()
    assert [(c["operation"], c["method"], c["status"]) for c in calls] == [
        ("createOrReplaceInventoryItem", "PUT", 204),
        ("getOffers", "GET", 404),
    ]
    assert all(c["marketplace"] == "ebay" and UTC_Z.match(c["at"]) for c in calls)
    assert calls[0]["path"] == f"{EBAY}/inventory_item/S1"


@pytest.mark.parametrize(
    "body",
    [
        {"marketplace": "ebay", "mode": "explode"},
        {"marketplace": "amazon", "mode": "error"},
        {"marketplace": "ebay", "mode": "error", "operation": "createDraftListing"},
        {"marketplace": "ebay", "mode": "error", "status": 404},
        {"marketplace": "ebay", "mode": "error", "surprise": True},
        {"marketplace": "ebay", "mode": "error", "times": -1},
    ],
)
async def test_bad_fault_bodies_are_422_with_detail(
    http: httpx.AsyncClient, sim: SimulatorControl, body: dict[str, object]
) -> None:
    response = await http.post("/__sim/faults", json=body)
    assert response.status_code == 422
    assert "detail" in response.json()


async def test_bad_latency_body_is_422(http: httpx.AsyncClient, sim: SimulatorControl) -> None:
    response = await http.post("/__sim/latency", json={"delay_ms": -5})
    assert response.status_code == 422
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {"marketplace": "ebay", "mode": "error", "operation": "create_offer"},
            "unknown operation 'create_offer' for ebay: not an operationId of eBay's Sell "
            "Inventory, Fulfillment, Taxonomy, Metadata or Notification API; did you mean "
            "createOffer",
        ),
        (
            {"marketplace": "etsy", "mode": "error", "operation": "activate"},
            "not an operationId of Etsy Open API v3",
        ),
        (
            {"marketplace": "vinted", "mode": "error", "operation": "CreateItems"},
            "known: create_items, create_webhook, delete_items, get_ontologies, item_status, "
            "list_items, list_webhooks, update_items",
        ),
        (
            {"marketplace": "ebay", "mode": "error", "operation": "getListingFees"},
            "operation 'getListingFees' is not simulated for ebay; served: "
            "bulkUpdatePriceQuantity, createOffer, createOrReplaceInventoryItem, deleteOffer, "
            "getDefaultCategoryTreeId, getItemAspectsForCategory, getItemConditionPolicies, "
            "getOffer, getOffers, getOrders, publishOffer, updateOffer, withdrawOffer",
        ),
    ],
)
async def test_fault_operations_are_official_operation_ids_the_simulator_serves(
    http: httpx.AsyncClient, sim: SimulatorControl, body: dict[str, object], says: str
) -> None:
    """CONTRACT.md /__sim/faults: ``operation`` is the official operationId (Vinted: its
    name); an unknown name, or one no route serves (it could never match), is 422."""
    response = await http.post("/__sim/faults", json=body)
    assert response.status_code == 422
    assert says in str(response.json()["detail"])


async def test_etsy_patch_and_put_of_a_listing_are_two_operations(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Etsy's spec: PATCH is updateListing, the older PUT updateListingDeprecated."""
    await sim.add_fault("etsy", "error", "updateListingDeprecated", status=503)
    url = f"/etsy/v3/application/shops/{settings.etsy_shop_id}/listings/1"
    headers = {
        "x-api-key": settings.etsy_api_key.get_secret_value(),
        "Authorization": f"Bearer {settings.etsy_access_token.get_secret_value()}",
    }
    assert (await http.patch(url, data={"state": "active"}, headers=headers)).status_code == 404
    assert (await http.put(url, data={"state": "active"}, headers=headers)).status_code == 503
    logged = [(c["operation"], c["method"]) for c in await sim.calls("etsy")]
    assert logged == [("updateListing", "PATCH"), ("updateListingDeprecated", "PUT")]
