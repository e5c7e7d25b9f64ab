"""publish_to_etsy against the simulator: found again by SKU, resumed by heartbeat, no orphans."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.etsy import EtsyActivities, draft_form, draft_marker
from config.settings import Settings
from domain.marketplaces import Marketplace
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

ETSY = Marketplace.ETSY
IMAGES = ["https://example.com/a.jpg", "https://example.com/b.jpg"]


def _attempts(settings: Settings, http: httpx.AsyncClient) -> Attempts:
    return Attempts(EtsyActivities(settings, http).publish_to_etsy, ETSY)


async def test_publish_creates_exactly_one_active_listing(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Seed: marketplace orchestrator - publish one listing to Etsy."""
    request = publish_request(ETSY, images=IMAGES)
    result = await _attempts(settings, http).run(request)

    [live] = await sim.live_listings("etsy", request.listing.sku)
    assert result.listing_id == str(live["listing_id"])
    assert result.listing_url == f"https://www.etsy.com/listing/{result.listing_id}"
    assert live["images"] == 2
    assert result.reused_existing is False
    assert await sim.drafts("etsy") == []


async def test_listing_id_is_heartbeated_as_soon_as_the_draft_exists(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    attempts = _attempts(settings, http)
    result = await attempts.run(publish_request(ETSY))
    steps = [details[0] for details in attempts.heartbeats if details]
    created = steps.index({"listing_id": int(result.listing_id), "step": "created"})
    assert all("listing_id" not in step for step in steps[:created])
    assert all(step.get("listing_id") == int(result.listing_id) for step in steps[created:])


async def test_rerun_finds_the_listing_by_sku(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Seed: marketplace orchestrator - idempotence (same key, no second listing)."""
    request = publish_request(ETSY)
    first = await Attempts(EtsyActivities(settings, http).publish_to_etsy, ETSY).run(request)
    second = await Attempts(EtsyActivities(settings, http).publish_to_etsy, ETSY).run(request)

    assert second.listing_id == first.listing_id
    assert second.reused_existing is True
    assert len(await sim.calls("etsy", "createDraftListing")) == 1
    assert len((await sim.listings())["etsy"]) == 1


async def test_retry_resumes_the_heartbeated_listing(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Activation failed once: the next attempt continues the same draft, it does not search."""
    await sim.add_fault("etsy", "error", "updateListing", status=503)
    request = publish_request(ETSY)
    attempts = _attempts(settings, http)
    with pytest.raises(ApplicationError) as failure:
        await attempts.run(request)
    assert failure.value.type == "MarketplaceUnavailable"
    searches = len(await sim.calls("etsy", "getListingsByShop"))

    result = await attempts.run(request)
    assert len(await sim.calls("etsy", "getListingsByShop")) == searches
    assert len(await sim.calls("etsy", "createDraftListing")) == 1
    assert [x["listing_id"] for x in await sim.live_listings("etsy", request.listing.sku)] == [
        int(result.listing_id)
    ]


async def test_ghost_write_on_create_adopts_the_orphan_draft(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Etsy open-api#162: a 500 on createDraftListing that still created the draft."""
    await sim.add_fault("etsy", "ghost_write", "createDraftListing")
    request = publish_request(ETSY)
    attempts = _attempts(settings, http)
    with pytest.raises(ApplicationError) as failure:
        await attempts.run(request)
    assert not failure.value.non_retryable

    await attempts.run(request)
    assert len(await sim.live_listings("etsy", request.listing.sku)) == 1
    assert await sim.drafts("etsy") == []
    assert len((await sim.listings())["etsy"]) == 1


async def test_another_jobs_orphan_draft_with_the_same_content_is_not_adopted(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Two jobs, same title and description, different SKUs: job A's create is ghost-written
    (draft made, 500 answered) and job B must not take A's draft as its own."""
    await sim.add_fault("etsy", "ghost_write", "createDraftListing")
    job_a = publish_request(ETSY)
    job_b = publish_request(ETSY)
    attempts_a = _attempts(settings, http)
    with pytest.raises(ApplicationError):
        await attempts_a.run(job_a)
    [orphan_of_a] = await sim.drafts("etsy")

    result_b = await _attempts(settings, http).run(job_b)
    assert result_b.listing_id != str(orphan_of_a["listing_id"])
    assert len(await sim.live_listings("etsy", job_b.listing.sku)) == 1

    result_a = await attempts_a.run(job_a)
    assert result_a.listing_id == str(orphan_of_a["listing_id"]), "A adopts its own draft"
    assert await sim.drafts("etsy") == []
    assert len((await sim.listings())["etsy"]) == 2


async def test_ghost_write_on_image_upload_does_not_add_a_second_image(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    await sim.add_fault("etsy", "ghost_write", "uploadListingImage")
    request = publish_request(ETSY)
    await _attempts(settings, http).run_until_done(request)
    [live] = await sim.live_listings("etsy", request.listing.sku)
    assert live["images"] == 1


async def test_price_below_etsy_minimum_is_a_validation_error(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    request = publish_request(ETSY, price={"amount": "0.10", "currency": "EUR"})
    with pytest.raises(ApplicationError) as failure:
        await _attempts(settings, http).run(request)
    assert failure.value.type == "MarketplaceValidationError"
    assert failure.value.non_retryable
    assert "Price" in failure.value.message
    assert (await sim.listings())["etsy"] == []


async def _orphan_draft(settings: Settings, http: httpx.AsyncClient, request: Any) -> int:
    """A draft carrying this request's marker and no SKU: what a lost create leaves behind."""
    response = await http.post(
        f"{settings.base_url(ETSY)}/shops/{settings.etsy_shop_id}/listings",
        data=draft_form(request.listing, settings, draft_marker(request.idempotency_key)),
        headers={
            "x-api-key": settings.etsy_api_key.get_secret_value(),
            "Authorization": f"Bearer {settings.etsy_access_token.get_secret_value()}",
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()["listing_id"])


async def test_extra_orphan_drafts_of_ours_are_deleted(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Two drafts with our marker (an abandoned attempt ran on): one is adopted and
    activated, the other deleted; no orphan drafts remain."""
    request = publish_request(ETSY)
    first = await _orphan_draft(settings, http, request)
    second = await _orphan_draft(settings, http, request)
    result = await _attempts(settings, http).run(request)
    assert result.listing_id in {str(first), str(second)}
    assert len(await sim.live_listings("etsy", request.listing.sku)) == 1
    assert await sim.drafts("etsy") == []
    assert len(await sim.calls("etsy", "deleteListing")) == 1


async def test_an_orphan_draft_next_to_our_live_listing_is_deleted(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    request = publish_request(ETSY)
    first = await _attempts(settings, http).run(request)
    await _orphan_draft(settings, http, request)
    again = await _attempts(settings, http).run(request)
    assert again.listing_id == first.listing_id and again.reused_existing
    assert await sim.drafts("etsy") == []
