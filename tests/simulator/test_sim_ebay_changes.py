"""Simulated eBay offer reads, revises and ends (issue 13): getOffer, updateOffer,
withdrawOffer, deleteOffer, as the Sell Inventory OAS lists them. Every answer is judged by
the OAS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from activities.ebay_bodies import offer_details
from config.settings import Settings
from domain.listing import Listing
from tests.factories import listing_body
from tests.simulator.test_sim_ebay import BASE, _error, _headers, _publish, item_body
from tests.support.answer_judge import AnswerJudge
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def judge() -> AnswerJudge:
    return AnswerJudge()


@pytest.fixture
async def http(simulator_url: str, judge: AnswerJudge) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=simulator_url, timeout=5.0, event_hooks={"response": [judge]}
    ) as client:
        yield client
    assert judge.rejected == [], judge.rejected


async def _live(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> tuple[Listing, str, str]:
    """A published listing: (listing, offerId, listingId)."""
    listing = Listing.model_validate(listing_body())
    published = await _publish(http, settings, listing)
    assert published.status_code == 200, published.text
    [entry] = (await sim.listings())["ebay"]
    return listing, entry["offerId"], published.json()["listingId"]


async def _update(
    http: httpx.AsyncClient, settings: Settings, offer_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await http.put(f"{BASE}/offer/{offer_id}", json=body, headers=_headers(settings))


async def test_get_offer_shows_the_listing_only_while_published(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    _, offer_id, listing_id = await _live(http, settings, sim)
    offer = (await http.get(f"{BASE}/offer/{offer_id}", headers=_headers(settings))).json()
    assert (offer["status"], offer["listing"]["listingId"]) == ("PUBLISHED", listing_id)
    await http.post(f"{BASE}/offer/{offer_id}/withdraw", headers=_headers(settings))
    offer = (await http.get(f"{BASE}/offer/{offer_id}", headers=_headers(settings))).json()
    assert offer["status"] == "UNPUBLISHED" and "listing" not in offer


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/offer/5999999999"),
        ("PUT", "/offer/5999999999"),
        ("DELETE", "/offer/5999999999"),
        ("POST", "/offer/5999999999/withdraw"),
    ],
)
async def test_an_unknown_offer_is_400_25713_as_the_oas_lists_it(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl, method: str, path: str
) -> None:
    listing = Listing.model_validate(listing_body())
    body = offer_details(listing, settings) if method == "PUT" else None
    response = await http.request(method, BASE + path, json=body, headers=_headers(settings))
    assert response.status_code == 400
    assert _error(response)["errorId"] == 25713


async def test_update_offer_replaces_the_offer_and_revises_the_live_listing(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing, offer_id, listing_id = await _live(http, settings, sim)
    cheaper = listing.model_copy(update={"quantity": 4})
    body = offer_details(cheaper, settings)
    body["pricingSummary"]["price"]["value"] = "30.00"
    response = await _update(http, settings, offer_id, body)
    assert response.status_code == 204, response.text
    [entry] = (await sim.listings())["ebay"]
    assert (entry["listingId"], entry["price"], entry["quantity"]) == (listing_id, "30.00", 4)
    offer = (await http.get(f"{BASE}/offer/{offer_id}", headers=_headers(settings))).json()
    assert offer["sku"] == listing.sku, "the keys stay"


async def test_a_revise_of_a_live_listing_is_checked_like_a_publish(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """eBay revises the live listing: what publishOffer refuses, updateOffer and
    createOrReplaceInventoryItem refuse too, and the listing keeps its content."""
    listing, offer_id, _ = await _live(http, settings, sim)
    body = offer_details(listing, settings)
    body["pricingSummary"]["price"]["currency"] = "USD"
    response = await _update(http, settings, offer_id, body)
    assert response.status_code == 400 and _error(response)["errorId"] == 25003
    no_brand = item_body(listing)
    no_brand["product"]["aspects"] = {}
    response = await http.put(
        f"{BASE}/inventory_item/{listing.sku}", json=no_brand, headers=_headers(settings)
    )
    assert response.status_code == 400 and _error(response)["errorId"] == 25029
    [entry] = (await sim.listings())["ebay"]
    assert entry["price"] == "45.00"


async def test_update_offer_needs_content_language(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing, offer_id, _ = await _live(http, settings, sim)
    headers = {"Authorization": _headers(settings)["Authorization"]}
    response = await http.put(
        f"{BASE}/offer/{offer_id}", json=offer_details(listing, settings), headers=headers
    )
    assert response.status_code == 400 and _error(response)["errorId"] == 25709


async def test_withdraw_ends_the_listing_and_publish_lists_it_again(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing, offer_id, listing_id = await _live(http, settings, sim)
    withdrawn = await http.post(f"{BASE}/offer/{offer_id}/withdraw", headers=_headers(settings))
    assert withdrawn.status_code == 200 and withdrawn.json()["listingId"] == listing_id
    [entry] = (await sim.listings())["ebay"]
    assert (entry["status"], entry["listingStatus"], entry["live"], entry["draft"]) == (
        "UNPUBLISHED",
        "ENDED",
        False,
        False,
    )
    again = await http.post(f"{BASE}/offer/{offer_id}/withdraw", headers=_headers(settings))
    assert again.status_code == 400 and _error(again)["errorId"] == 25002

    # A revise of the withdrawn offer is stored, and no listing shows it.
    response = await _update(http, settings, offer_id, offer_details(listing, settings))
    assert response.status_code == 204
    assert await sim.live_listings("ebay", listing.sku) == []

    relisted = await http.post(f"{BASE}/offer/{offer_id}/publish/", headers=_headers(settings))
    assert relisted.status_code == 200 and relisted.json()["listingId"] != listing_id
    [live] = await sim.live_listings("ebay", listing.sku)
    assert live["listingId"] == relisted.json()["listingId"]


async def test_delete_offer_ends_a_live_listing_and_forgets_the_offer(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing, offer_id, _ = await _live(http, settings, sim)
    response = await http.delete(f"{BASE}/offer/{offer_id}", headers=_headers(settings))
    assert response.status_code == 204
    assert (await sim.listings())["ebay"] == []
    offers = await http.get(
        f"{BASE}/offer", params={"sku": listing.sku}, headers=_headers(settings)
    )
    assert offers.status_code == 404


@pytest.mark.parametrize("operation", ["updateOffer", "withdrawOffer", "deleteOffer"])
async def test_a_ghost_write_on_a_new_operation_applies_and_answers_500(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl, operation: str
) -> None:
    """CONTRACT.md /__sim/faults: the new operations take fault rules by operationId."""
    listing, offer_id, _ = await _live(http, settings, sim)
    await sim.add_fault("ebay", "ghost_write", operation)
    if operation == "updateOffer":
        body = offer_details(listing.model_copy(update={"quantity": 7}), settings)
        response = await _update(http, settings, offer_id, body)
    elif operation == "withdrawOffer":
        response = await http.post(f"{BASE}/offer/{offer_id}/withdraw", headers=_headers(settings))
    else:
        response = await http.delete(f"{BASE}/offer/{offer_id}", headers=_headers(settings))
    assert response.status_code == 500
    listings = (await sim.listings())["ebay"]
    applied = {
        "updateOffer": lambda: listings[0]["quantity"] == 7,
        "withdrawOffer": lambda: listings[0]["live"] is False,
        "deleteOffer": lambda: listings == [],
    }
    assert applied[operation]()
    [call] = await sim.calls("ebay", operation)
    assert call["status"] == 500
