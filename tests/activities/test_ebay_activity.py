"""publish_to_ebay against the simulator: one listing per SKU, whatever fails in between."""

from __future__ import annotations

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.ebay import EbayActivities, inventory_item_body, offer_body
from config.settings import Settings
from domain.marketplaces import Marketplace
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

EBAY = Marketplace.EBAY


def _attempts(settings: Settings, http: httpx.AsyncClient) -> Attempts:
    return Attempts(EbayActivities(settings, http).publish_to_ebay, EBAY)


async def test_publish_creates_exactly_one_published_listing(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Seed: marketplace orchestrator - publish one listing to eBay."""
    request = publish_request(EBAY)
    result = await _attempts(settings, http).run(request)

    [live] = await sim.live_listings("ebay", request.listing.sku)
    assert result.listing_id == live["listingId"]
    assert result.listing_url == f"https://www.ebay.de/itm/{result.listing_id}"
    assert result.marketplace is EBAY
    assert result.attempt == 1
    assert result.reused_existing is False
    assert len((await sim.listings())["ebay"]) == 1


async def test_rerun_reuses_the_published_listing(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Seed: marketplace orchestrator - idempotence (same key, no second listing)."""
    request = publish_request(EBAY)
    attempts = _attempts(settings, http)
    first = await attempts.run(request)
    second = await attempts.run(request)

    assert second.listing_id == first.listing_id
    assert second.reused_existing is True
    assert second.attempt == 2
    assert len(await sim.calls("ebay", "createOffer")) == 1
    assert len(await sim.live_listings("ebay", request.listing.sku)) == 1


async def test_ghost_write_on_create_offer_still_ends_with_one_listing(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """The offer was created but eBay answered 500: the retry finds it by SKU and publishes it."""
    await sim.add_fault("ebay", "ghost_write", "createOffer")
    request = publish_request(EBAY)
    attempts = _attempts(settings, http)
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
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "ghost_write", "publishOffer")
    request = publish_request(EBAY)
    result = await _attempts(settings, http).run_until_done(request)

    [live] = await sim.live_listings("ebay", request.listing.sku)
    assert result.listing_id == live["listingId"]
    assert result.reused_existing is True
    assert len(await sim.calls("ebay", "publishOffer")) == 1


async def test_offer_created_meanwhile_is_reused_from_25002(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Another attempt created the offer between our lookup and our create: 25002 names it."""
    request = publish_request(EBAY)
    listing = request.listing
    activities = EbayActivities(settings, http)
    headers = {
        "Authorization": f"Bearer {settings.ebay_token.get_secret_value()}",
        "Content-Language": "en-US",
    }
    base = settings.base_url(EBAY)
    await http.put(
        f"{base}/inventory_item/{listing.sku}", json=inventory_item_body(listing), headers=headers
    )
    existing = await http.post(f"{base}/offer", json=offer_body(listing, settings), headers=headers)

    offer_id = await ActivityEnvironment().run(activities._create_offer, listing)
    assert offer_id == existing.json()["offerId"]
    assert len((await sim.listings())["ebay"]) == 1


async def test_publish_validation_error_is_not_retryable(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """A real publish check (no merchant location) fails the activity for good."""
    activities = EbayActivities(
        settings.model_copy(update={"ebay_merchant_location_key": ""}), http
    )
    with pytest.raises(ApplicationError) as failure:
        await Attempts(activities.publish_to_ebay, EBAY).run(publish_request(EBAY))
    assert failure.value.type == "MarketplaceValidationError"
    assert failure.value.non_retryable
    assert "25012" in failure.value.message
    assert await sim.live_listings("ebay", "x") == []


async def test_expired_token_is_refreshed_once_and_the_call_succeeds(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """401 errorId 1001: one refresh_token grant, then the call goes through."""
    activities = EbayActivities(settings, http)
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
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    await sim.add_fault("ebay", "auth", times=2)
    with pytest.raises(ApplicationError) as failure:
        await _attempts(settings, http).run(publish_request(EBAY))
    assert failure.value.type == "MarketplaceAuthError" and failure.value.non_retryable
    assert len(await sim.calls("ebay", "refresh_token")) == 1, "refreshed exactly once"


async def test_without_a_refresh_token_an_expired_token_fails_at_once(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    no_refresh = settings.model_copy(update={"ebay_refresh_token": None})
    await sim.expire_ebay_tokens()
    with pytest.raises(ApplicationError) as failure:
        await _attempts(no_refresh, http).run(publish_request(EBAY))
    assert failure.value.type == "MarketplaceAuthError" and failure.value.non_retryable
    assert await sim.calls("ebay", "refresh_token") == []


async def test_a_revoked_refresh_token_is_an_auth_error_without_secrets(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    from pydantic import SecretStr

    revoked = settings.model_copy(update={"ebay_refresh_token": SecretStr("revoked-refresh-42")})
    await sim.expire_ebay_tokens()
    with pytest.raises(ApplicationError) as failure:
        await _attempts(revoked, http).run(publish_request(EBAY))
    assert failure.value.type == "MarketplaceAuthError" and failure.value.non_retryable
    assert "invalid_grant" in failure.value.message
    assert "revoked-refresh-42" not in failure.value.message
