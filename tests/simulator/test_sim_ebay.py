"""Simulated eBay Sell Inventory API: auth, required headers, offers, 25002, publish checks, and
every check eBay makes at publish that the simulator used to let through
(real_api_fidelity.md #5, #6, #7, #11, #12). Every answer is judged by the Inventory OAS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from activities.ebay import offer_body
from config.settings import Settings
from domain.listing import Listing
from tests.factories import listing_body
from tests.support.answer_judge import AnswerJudge
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

BASE = "/ebay/sell/inventory/v1"


@pytest.fixture
def judge() -> AnswerJudge:
    return AnswerJudge()


@pytest.fixture
async def http(simulator_url: str, judge: AnswerJudge) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every eBay answer is judged by the official documents (requests are not:
    some tests send what eBay must refuse)."""
    async with httpx.AsyncClient(
        base_url=simulator_url, timeout=5.0, event_hooks={"response": [judge]}
    ) as client:
        yield client
    assert judge.rejected == [], judge.rejected


def _headers(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {settings.ebay_token.get_secret_value()}",
        "Content-Language": "de-DE",
        **extra,
    }


def item_body(listing: Listing, **changes: Any) -> dict[str, Any]:
    """An inventory item that fits category 57988 on EBAY_DE."""
    body: dict[str, Any] = {
        "availability": {"shipToLocationAvailability": {"quantity": listing.quantity}},
        "condition": "USED_EXCELLENT",
        "product": {
            "title": listing.title,
            "description": listing.description,
            "imageUrls": list(listing.images),
            "aspects": {"Marke": ["Markenlos"]},
        },
    }
    body.update(changes)
    return body


async def _put_item(
    http: httpx.AsyncClient,
    settings: Settings,
    listing: Listing,
    body: dict[str, Any] | None = None,
    language: str = "de-DE",
) -> None:
    response = await http.put(
        f"{BASE}/inventory_item/{listing.sku}",
        json=body or item_body(listing),
        headers=_headers(settings, **{"Content-Language": language}),
    )
    assert response.status_code == 204, response.text


async def _create_offer(
    http: httpx.AsyncClient, settings: Settings, body: dict[str, Any]
) -> httpx.Response:
    return await http.post(f"{BASE}/offer", json=body, headers=_headers(settings))


async def _publish(
    http: httpx.AsyncClient,
    settings: Settings,
    listing: Listing,
    item: dict[str, Any] | None = None,
) -> httpx.Response:
    """PUT the item, create the offer, publish it: the publish answer."""
    await _put_item(http, settings, listing, item)
    created = await _create_offer(http, settings, offer_body(listing, settings))
    assert created.status_code == 201, created.text
    offer_id = created.json()["offerId"]
    return await http.post(f"{BASE}/offer/{offer_id}/publish/", headers=_headers(settings))


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
    published = await _publish(http, settings, listing)
    assert published.status_code == 200, published.text
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
        "offerId": offer["offerId"],
        "listingId": listing_id,
        "status": "PUBLISHED",
        "listingStatus": "ACTIVE",
        "live": True,
        "draft": False,
        "marketplaceId": settings.ebay_marketplace_id,
        "format": "FIXED_PRICE",
        "title": listing.title,
        "price": listing.price.amount,
        "quantity": listing.quantity,
        "sold": 0,
    }


async def test_publish_without_trailing_slash_is_accepted(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl, judge: AnswerJudge
) -> None:
    """The OAS path ends in "/" (our adapter sends it); third-party clients omit it. Whether
    eBay takes both is unverified, so the simulator does, and the judge cannot weigh it."""
    listing = Listing.model_validate(listing_body())
    await _put_item(http, settings, listing)
    offer_id = (await _create_offer(http, settings, offer_body(listing, settings))).json()[
        "offerId"
    ]
    response = await http.post(f"{BASE}/offer/{offer_id}/publish", headers=_headers(settings))
    assert response.status_code == 200
    assert response.json()["listingId"]
    assert judge.rejected == []


async def test_publish_of_an_unknown_offer_is_400_25713_as_the_oas_lists_it(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """real_api_fidelity.md: "an unknown eBay offer gets 404 where the OAS says 400"."""
    response = await http.post(f"{BASE}/offer/5999999999/publish/", headers=_headers(settings))
    assert response.status_code == 400
    assert _error(response)["errorId"] == 25713


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
    item = item_body(listing)
    del item["condition"]
    await _put_item(http, settings, listing, item)
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


async def test_an_item_written_in_another_language_than_the_marketplace_is_25604(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Fault #5: Content-Language en-US sent to EBAY_DE fails at publish with errorId 25604
    (bhushankummar/eBay-node-client#15)."""
    listing = Listing.model_validate(listing_body())
    await _put_item(http, settings, listing, language="en-US")
    offer_id = (await _create_offer(http, settings, offer_body(listing, settings))).json()[
        "offerId"
    ]
    response = await http.post(f"{BASE}/offer/{offer_id}/publish/", headers=_headers(settings))
    assert response.status_code == 400
    error = _error(response)
    assert error["errorId"] == 25604
    assert "de-DE" in error["message"] and "en-US" in error["message"]
    assert await sim.live_listings("ebay", listing.sku) == []


@pytest.mark.parametrize("condition", ["USED_GOOD", "LIKE_NEW", "USED_ACCEPTABLE"])
async def test_a_condition_the_category_does_not_allow_is_25021(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl, condition: str
) -> None:
    """Fault #6: what the old mapping sent (good -> USED_GOOD, like_new -> LIKE_NEW, fair ->
    USED_ACCEPTABLE) is not among clothing category 57988's conditions."""
    listing = Listing.model_validate(listing_body())
    response = await _publish(http, settings, listing, item_body(listing, condition=condition))
    assert response.status_code == 400
    error = _error(response)
    assert error["errorId"] == 25021
    assert condition in error["message"]


async def test_a_missing_required_aspect_is_25029_under_its_localized_name(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Fault #7: no item specifics, or English names on EBAY_DE, lack the required "Marke"."""
    listing = Listing.model_validate(listing_body(brand="Levi's"))
    for aspects in ({}, {"Brand": ["Levi's"]}):
        item = item_body(listing)
        item["product"]["aspects"] = aspects
        response = await _publish(http, settings, listing, item)
        assert response.status_code == 400
        error = _error(response)
        assert error["errorId"] == 25029
        assert error["message"] == "Marke is required for this category."
        await sim.reset()


async def test_a_description_over_4000_characters_is_25080(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Fault #11: Product.description has "Max Length: 4000" (OAS 1.17.2)."""
    listing = Listing.model_validate(listing_body(description="x" * 4001))
    response = await _publish(http, settings, listing)
    assert response.status_code == 400
    error = _error(response)
    assert error["errorId"] == 25080
    assert "4000" in error["message"]


async def test_a_price_in_another_currency_than_the_marketplace_is_25003(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Fault #12: EBAY_DE prices in EUR."""
    listing = Listing.model_validate(listing_body(price={"amount": "45.00", "currency": "USD"}))
    response = await _publish(http, settings, listing)
    assert response.status_code == 400
    error = _error(response)
    assert error["errorId"] == 25003
    assert "EUR" in error["message"] and "USD" in error["message"]
