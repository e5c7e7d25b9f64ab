"""publish_to_ebay against the simulator: one listing per SKU, whatever fails in between; every
request the adapter sends validates against the Sell Inventory OAS 1.17.2 (``ebay_http``)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.ebay import EbayActivities, inventory_item_body
from config.settings import Settings
from domain.marketplaces import Marketplace
from tests.activities.ebay_support import Wire
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

EBAY = Marketplace.EBAY


def _attempts(settings: Settings, http: httpx.AsyncClient) -> Attempts:
    return Attempts(EbayActivities(settings, http).publish_to_ebay, EBAY)


async def test_publish_creates_exactly_one_published_listing(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl, wire: Wire
) -> None:
    """Seed: marketplace orchestrator - publish one listing to eBay."""
    request = publish_request(EBAY)
    result = await _attempts(settings, ebay_http).run(request)

    [live] = await sim.live_listings("ebay", request.listing.sku)
    assert result.listing_id == live["listingId"]
    assert result.listing_url == f"https://www.ebay.de/itm/{result.listing_id}"
    assert result.marketplace is EBAY
    assert result.attempt == 1
    assert result.reused_existing is False
    assert len((await sim.listings())["ebay"]) == 1
    assert len(wire.requests) >= 4


async def test_rerun_reuses_the_published_listing(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Seed: marketplace orchestrator - idempotence (same key, no second listing)."""
    request = publish_request(EBAY)
    attempts = _attempts(settings, ebay_http)
    first = await attempts.run(request)
    second = await attempts.run(request)

    assert second.listing_id == first.listing_id
    assert second.reused_existing is True
    assert second.attempt == 2
    assert len(await sim.calls("ebay", "createOffer")) == 1
    assert len(await sim.live_listings("ebay", request.listing.sku)) == 1


async def test_ghost_write_on_create_offer_still_ends_with_one_listing(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """The offer was created but eBay answered 500: the retry finds it by SKU and publishes it."""
    await sim.add_fault("ebay", "ghost_write", "createOffer")
    request = publish_request(EBAY)
    attempts = _attempts(settings, ebay_http)
    with pytest.raises(ApplicationError) as failure:
        await attempts.run(request)
    assert failure.value.type == "MarketplaceUnavailable"
    assert not failure.value.non_retryable

    result = await attempts.run(request)
    assert len(await sim.live_listings("ebay", request.listing.sku)) == 1
    assert await sim.drafts("ebay") == []
    assert len((await sim.listings())["ebay"]) == 1
    assert result.attempt == 2


async def test_ghost_write_on_publish_reuses_the_live_listing(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "ghost_write", "publishOffer")
    request = publish_request(EBAY)
    result = await _attempts(settings, ebay_http).run_until_done(request)

    [live] = await sim.live_listings("ebay", request.listing.sku)
    assert result.listing_id == live["listingId"]
    assert result.reused_existing is True
    assert len(await sim.calls("ebay", "publishOffer")) == 1


async def test_offer_created_meanwhile_is_reused_from_25002(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Another attempt created the offer between our lookup and our create: 25002 names it."""
    listing = publish_request(EBAY).listing
    activities = EbayActivities(settings, ebay_http)
    env = ActivityEnvironment()
    rules = await env.run(activities.catalog.rules, "EBAY_DE", settings.ebay_category_id)
    item = inventory_item_body(listing, rules, settings.ebay_brand_default())
    await env.run(_put, activities, listing.sku, item)
    existing, existed = await env.run(activities._create_offer, listing)
    assert not existed

    offer_id, existed = await env.run(activities._create_offer, listing)
    assert (offer_id, existed) == (existing, True)
    assert len((await sim.listings())["ebay"]) == 1


async def _put(activities: EbayActivities, sku: str, item: dict[str, Any]) -> None:
    await activities.client.call("put_inventory_item", "PUT", f"/inventory_item/{sku}", json=item)


async def test_publish_validation_error_is_not_retryable(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """A real publish check (no merchant location) fails the activity for good."""
    activities = EbayActivities(
        settings.model_copy(update={"ebay_merchant_location_key": ""}), ebay_http
    )
    with pytest.raises(ApplicationError) as failure:
        await Attempts(activities.publish_to_ebay, EBAY).run(publish_request(EBAY))
    assert failure.value.type == "MarketplaceValidationError"
    assert failure.value.non_retryable
    assert "25012" in failure.value.message
    assert await sim.live_listings("ebay", "x") == []


async def test_expired_token_is_refreshed_once_and_the_call_succeeds(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """401 errorId 1001: one refresh_token grant, then the call goes through."""
    activities = EbayActivities(settings, ebay_http)
    await Attempts(activities.publish_to_ebay, EBAY).run(publish_request(EBAY))
    await sim.expire_ebay_tokens()
    second = publish_request(EBAY)
    result = await Attempts(activities.publish_to_ebay, EBAY).run(second)
    [live] = await sim.live_listings("ebay", second.listing.sku)
    assert result.listing_id == str(live["listingId"])
    assert len(await sim.calls("ebay", "refresh_token")) == 1
    third = publish_request(EBAY)
    await Attempts(activities.publish_to_ebay, EBAY).run(third)
    assert len(await sim.calls("ebay", "refresh_token")) == 1, "the new token is kept"


async def test_a_401_after_the_refresh_is_not_retried(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "auth", times=2)
    with pytest.raises(ApplicationError) as failure:
        await _attempts(settings, ebay_http).run(publish_request(EBAY))
    assert failure.value.type == "MarketplaceAuthError" and failure.value.non_retryable
    assert len(await sim.calls("ebay", "refresh_token")) == 1, "refreshed exactly once"


async def test_without_a_refresh_token_an_expired_token_fails_at_once(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    no_refresh = settings.model_copy(update={"ebay_refresh_token": None})
    await sim.expire_ebay_tokens()
    with pytest.raises(ApplicationError) as failure:
        await _attempts(no_refresh, ebay_http).run(publish_request(EBAY))
    assert failure.value.type == "MarketplaceAuthError" and failure.value.non_retryable
    assert await sim.calls("ebay", "refresh_token") == []


async def test_a_revoked_refresh_token_is_an_auth_error_without_secrets(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    revoked = settings.model_copy(update={"ebay_refresh_token": SecretStr("revoked-refresh-42")})
    await sim.expire_ebay_tokens()
    with pytest.raises(ApplicationError) as failure:
        await _attempts(revoked, ebay_http).run(publish_request(EBAY))
    assert failure.value.type == "MarketplaceAuthError" and failure.value.non_retryable
    assert "invalid_grant" in failure.value.message
    assert "revoked-refresh-42" not in failure.value.message


async def test_listing_content_is_written_in_the_marketplace_language(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl, wire: Wire
) -> None:
    """Fault #5: EBAY_DE takes de-DE (the default configuration used to send en-US, and eBay
    answers 25604 at publish)."""
    request = publish_request(EBAY)
    await _attempts(settings, ebay_http).run(request)
    writes = wire.sent("PUT", f"/inventory_item/{request.listing.sku}") + wire.sent(
        "POST", "/offer"
    )
    assert len(writes) == 2
    assert {r.headers["content-language"] for r in writes} == {"de-DE"}
    assert len(await sim.live_listings("ebay", request.listing.sku)) == 1


async def test_an_english_site_gets_english_content_and_item_specifics(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl, wire: Wire
) -> None:
    """Fault #5 and #7 on EBAY_GB: en-GB, pounds, "Brand" (the tree's own name)."""
    gb = settings.model_copy(update={"ebay_marketplace_id": "EBAY_GB"})
    request = publish_request(EBAY, price={"amount": "39.00", "currency": "GBP"})
    result = await _attempts(gb, ebay_http).run(request)
    assert result.listing_url == f"https://www.ebay.co.uk/itm/{result.listing_id}"
    [put] = wire.sent("PUT", f"/inventory_item/{request.listing.sku}")
    assert put.headers["content-language"] == "en-GB"
    assert json.loads(put.content)["product"]["aspects"] == {"Brand": ["Unbranded"]}


def _lookup_answer(status: int, body: dict[str, Any] | None) -> Any:
    """Real eBay's possible answer to the first getOffers of a new SKU; later ones go through."""
    answered: list[bool] = []

    def responder(request: httpx.Request) -> httpx.Response | None:
        if request.method != "GET" or not request.url.path.endswith("/offer") or answered:
            return None
        answered.append(True)
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=body)

    return responder


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"errors": [{"errorId": 25713, "domain": "API_INVENTORY", "message": "x"}]}),
        (
            404,
            {
                "errors": [
                    {
                        "errorId": 25702,
                        "domain": "API_INVENTORY",
                        "category": "REQUEST",
                        "message": "SKU could not be found or is not available in the system.",
                    }
                ]
            },
        ),
        (200, {"total": 0, "size": 0, "limit": 25, "offers": []}),
        (200, {"total": 0}),
    ],
    ids=["404-25713", "404-25702-no-inventory-item", "200-empty-list", "200-no-offers-key"],
)
async def test_a_new_sku_publishes_whatever_ebay_answers_its_lookup(
    settings: Settings,
    ebay_http: httpx.AsyncClient,
    sim: SimulatorControl,
    wire: Wire,
    status: int,
    body: dict[str, Any],
) -> None:
    """Fault #10: eBay documents no answer for a SKU without offers (a bare 404 in the OAS);
    only 404 + 25713 used to mean "none", so any other answer failed every new SKU. (The
    lookup is a retry's, or an admin retry's: ``recover``.)"""
    wire.responders.append(_lookup_answer(status, body))
    request = publish_request(EBAY, recover=True)
    result = await _attempts(settings, ebay_http).run(request)
    [live] = await sim.live_listings("ebay", request.listing.sku)
    assert result.listing_id == live["listingId"]


async def test_a_404_without_a_body_is_no_offer_either(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl, wire: Wire
) -> None:
    """Fault #10: a lookup answered by a bare 404, no body at all (what the OAS lists)."""
    wire.responders.append(_lookup_answer(404, None))
    request = publish_request(EBAY, recover=True)
    await _attempts(settings, ebay_http).run(request)
    assert len(await sim.live_listings("ebay", request.listing.sku)) == 1
