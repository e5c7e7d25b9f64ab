"""Simulated eBay Sell Inventory API: auth, required headers, offers, 25002, publish checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from activities.ebay import inventory_item_body, offer_body
from config.settings import Settings
from domain.listing import Listing
from tests.factories import listing_body
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

BASE = "/ebay/sell/inventory/v1"


def _headers(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {settings.ebay_token.get_secret_value()}",
        "Content-Language": "en-US",
        **extra,
    }


async def _put_item(http: httpx.AsyncClient, settings: Settings, listing: Listing) -> None:
    response = await http.put(
        f"{BASE}/inventory_item/{listing.sku}",
        json=inventory_item_body(listing),
        headers=_headers(settings),
    )
    assert response.status_code == 204


async def _create_offer(
    http: httpx.AsyncClient, settings: Settings, body: dict[str, Any]
) -> httpx.Response:
    return await http.post(f"{BASE}/offer", json=body, headers=_headers(settings))


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["errors"][0]
    return error


async def test_unknown_bearer_token_is_401_error_1001(
    http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    response = await http.get(
        f"{BASE}/offer", params={"sku": "X1"}, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert _error(response)["errorId"] == 1001


async def test_missing_bearer_token_is_401(http: httpx.AsyncClient, sim: SimulatorControl) -> None:
    response = await http.get(f"{BASE}/offer", params={"sku": "X1"})
    assert response.status_code == 401


async def test_inventory_item_requires_content_language(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    headers = _headers(settings)
    del headers["Content-Language"]
    response = await http.put(f"{BASE}/inventory_item/SKU1", json={}, headers=headers)
    assert response.status_code == 400
    assert "Content-Language" in _error(response)["message"]


async def test_create_offer_requires_sku_marketplace_and_format(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing = Listing.model_validate(listing_body())
    await _put_item(http, settings, listing)
    for missing in ("sku", "marketplaceId", "format"):
        body = offer_body(listing, settings)
        del body[missing]
        response = await _create_offer(http, settings, body)
        assert response.status_code == 400, missing
        assert missing in _error(response)["message"]


async def test_full_flow_publishes_one_listing(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing = Listing.model_validate(listing_body())
    await _put_item(http, settings, listing)
    created = await _create_offer(http, settings, offer_body(listing, settings))
    assert created.status_code == 201
    offer_id = created.json()["offerId"]
    published = await http.post(f"{BASE}/offer/{offer_id}/publish/", headers=_headers(settings))
    assert published.status_code == 200
    listing_id = published.json()["listingId"]

    offers = await http.get(
        f"{BASE}/offer", params={"sku": listing.sku}, headers=_headers(settings)
    )
    assert offers.status_code == 200
    [offer] = offers.json()["offers"]
    assert offer["status"] == "PUBLISHED"
    assert offer["listing"]["listingId"] == listing_id
    [entry] = (await sim.listings())["ebay"]
    assert entry == {
        "sku": listing.sku,
        "offerId": offer_id,
        "listingId": listing_id,
        "status": "PUBLISHED",
        "marketplaceId": settings.ebay_marketplace_id,
        "format": "FIXED_PRICE",
    }


async def test_publish_without_trailing_slash_is_accepted(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing = Listing.model_validate(listing_body())
    await _put_item(http, settings, listing)
    offer_id = (await _create_offer(http, settings, offer_body(listing, settings))).json()[
        "offerId"
    ]
    response = await http.post(f"{BASE}/offer/{offer_id}/publish", headers=_headers(settings))
    assert response.status_code == 200
    assert response.json()["listingId"]


async def test_duplicate_offer_is_400_25002_with_existing_offer_id(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing = Listing.model_validate(listing_body())
    await _put_item(http, settings, listing)
    first = await _create_offer(http, settings, offer_body(listing, settings))
    second = await _create_offer(http, settings, offer_body(listing, settings))
    assert second.status_code == 400
    error = _error(second)
    assert error["errorId"] == 25002
    assert error["parameters"] == [{"name": "offerId", "value": first.json()["offerId"]}]
    assert len((await sim.listings())["ebay"]) == 1


async def test_create_offer_for_unknown_sku_is_25702(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing = Listing.model_validate(listing_body())
    response = await _create_offer(http, settings, offer_body(listing, settings))
    assert response.status_code == 400
    assert _error(response)["errorId"] == 25702


async def test_get_offers_for_sku_without_offer_is_404_25713(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    response = await http.get(f"{BASE}/offer", params={"sku": "NOPE1"}, headers=_headers(settings))
    assert response.status_code == 404
    assert _error(response)["errorId"] == 25713


async def test_publish_checks_required_fields(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing = Listing.model_validate(listing_body())
    item = inventory_item_body(listing)
    del item["condition"]
    await http.put(f"{BASE}/inventory_item/{listing.sku}", json=item, headers=_headers(settings))
    offer = offer_body(listing, settings)
    del offer["merchantLocationKey"]
    offer_id = (await _create_offer(http, settings, offer)).json()["offerId"]

    response = await http.post(f"{BASE}/offer/{offer_id}/publish/", headers=_headers(settings))
    assert response.status_code == 400
    assert _error(response)["errorId"] == 25017  # condition is missing
    await _put_item(http, settings, listing)
    response = await http.post(f"{BASE}/offer/{offer_id}/publish/", headers=_headers(settings))
    assert _error(response)["errorId"] == 25012  # no inventory location
    assert (await sim.listings())["ebay"][0]["status"] == "UNPUBLISHED"
