"""Simulated Etsy listing revises and ends (issue 13): getListingImages, deleteListingImage,
image overwrite, updateListing of an inactive or deleted listing; every answer judged by
Etsy's OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from activities.etsy import inventory_body
from config.settings import Settings
from domain.listing import Listing
from simulator.images import SAMPLE_JPEG
from simulator.spec import judge_exchange
from tests.factories import listing_body
from tests.simulator.test_sim_etsy import (
    BASE,
    PacedTransport,
    _draft,
    _headers,
    _shop,
)
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def http(simulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Every Etsy answer this client gets is judged by the document (the requests are the
    tests' own, some off-spec on purpose)."""
    rejected: list[str] = []

    async def judge(response: httpx.Response) -> None:
        await response.aread()
        verdict = judge_exchange(response.request, response)
        if verdict is not None and verdict.has_spec:
            rejected.extend(e for e in verdict.errors if e.startswith("response"))

    async with httpx.AsyncClient(
        base_url=simulator_url,
        timeout=5.0,
        transport=PacedTransport(),
        event_hooks={"response": [judge]},
    ) as client:
        yield client
    assert rejected == []


async def _upload(
    http: httpx.AsyncClient, settings: Settings, listing_id: int, rank: int, **form: str
) -> dict[str, Any]:
    response = await http.post(
        f"{_shop(settings)}/listings/{listing_id}/images",
        files={"image": (f"{rank}.jpg", SAMPLE_JPEG, "image/jpeg")},
        data={"rank": str(rank), **form},
        headers=_headers(settings),
    )
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()
    return image


async def _active(http: httpx.AsyncClient, settings: Settings, images: int) -> int:
    listing = Listing.model_validate(listing_body())
    listing_id = await _draft(http, settings, listing)
    for rank in range(1, images + 1):
        await _upload(http, settings, listing_id, rank)
    inventory = await http.put(
        f"{BASE}/listings/{listing_id}/inventory",
        json=inventory_body(listing),
        headers=_headers(settings),
    )
    assert inventory.status_code == 200, inventory.text
    activated = await http.patch(
        f"{_shop(settings)}/listings/{listing_id}",
        data={"state": "active"},
        headers=_headers(settings),
    )
    assert activated.status_code == 200, activated.text
    return listing_id


async def _images(http: httpx.AsyncClient, settings: Settings, listing_id: int) -> Any:
    response = await http.get(f"{BASE}/listings/{listing_id}/images", headers=_headers(settings))
    assert response.status_code == 200, response.text
    return response.json()


async def test_get_listing_images_lists_them_by_rank(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing_id = await _active(http, settings, images=2)
    images = await _images(http, settings, listing_id)
    assert images["count"] == 2
    assert [i["rank"] for i in images["results"]] == [1, 2]
    missing = await http.get(f"{BASE}/listings/999/images", headers=_headers(settings))
    assert missing.status_code == 404


async def test_an_overwrite_replaces_the_image_at_its_rank(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing_id = await _active(http, settings, images=2)
    before = (await _images(http, settings, listing_id))["results"]
    new = await _upload(http, settings, listing_id, 1, overwrite="true")
    after = (await _images(http, settings, listing_id))["results"]
    assert [i["listing_image_id"] for i in after] == [
        new["listing_image_id"],
        before[1]["listing_image_id"],
    ]


async def test_delete_listing_image_moves_the_next_ones_up(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing_id = await _active(http, settings, images=3)
    first, second, third = (await _images(http, settings, listing_id))["results"]
    url = f"{_shop(settings)}/listings/{listing_id}/images/{first['listing_image_id']}"
    assert (await http.delete(url, headers=_headers(settings))).status_code == 204
    after = (await _images(http, settings, listing_id))["results"]
    assert [(i["listing_image_id"], i["rank"]) for i in after] == [
        (second["listing_image_id"], 1),
        (third["listing_image_id"], 2),
    ]
    assert (await http.delete(url, headers=_headers(settings))).status_code == 404


async def test_the_last_image_of_an_active_listing_stays(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing_id = await _active(http, settings, images=1)
    [only] = (await _images(http, settings, listing_id))["results"]
    response = await http.delete(
        f"{_shop(settings)}/listings/{listing_id}/images/{only['listing_image_id']}",
        headers=_headers(settings),
    )
    assert response.status_code == 400 and "at least one image" in response.json()["error"]
    assert (await _images(http, settings, listing_id))["count"] == 1


async def test_a_deactivated_listing_is_not_live_and_still_takes_updates(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """updateListing ``state=inactive`` ends the listing; a later update of its title is
    taken (the OAS allows it) and leaves it inactive."""
    listing_id = await _active(http, settings, images=1)
    url = f"{_shop(settings)}/listings/{listing_id}"
    ended = await http.patch(url, data={"state": "inactive"}, headers=_headers(settings))
    assert ended.status_code == 200 and ended.json()["state"] == "inactive"
    [entry] = (await sim.listings())["etsy"]
    assert (entry["live"], entry["draft"]) == (False, False)

    updated = await http.patch(url, data={"title": "Renamed jacket"}, headers=_headers(settings))
    assert updated.status_code == 200
    assert (updated.json()["state"], updated.json()["title"]) == ("inactive", "Renamed jacket")


async def test_updating_a_deleted_listing_is_404(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing_id = await _active(http, settings, images=1)
    deleted = await http.delete(f"{BASE}/listings/{listing_id}", headers=_headers(settings))
    assert deleted.status_code == 204
    for response in (
        await http.patch(
            f"{_shop(settings)}/listings/{listing_id}",
            data={"title": "Renamed jacket"},
            headers=_headers(settings),
        ),
        await http.put(
            f"{BASE}/listings/{listing_id}/inventory",
            json=inventory_body(Listing.model_validate(listing_body())),
            headers=_headers(settings),
        ),
    ):
        assert response.status_code == 404


@pytest.mark.parametrize("operation", ["getListingImages", "deleteListingImage"])
async def test_the_new_operations_take_fault_rules(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl, operation: str
) -> None:
    listing_id = await _active(http, settings, images=2)
    [first, _] = (await _images(http, settings, listing_id))["results"]
    await sim.add_fault("etsy", "error", operation, status=503)
    if operation == "getListingImages":
        response = await http.get(
            f"{BASE}/listings/{listing_id}/images", headers=_headers(settings)
        )
    else:
        response = await http.delete(
            f"{_shop(settings)}/listings/{listing_id}/images/{first['listing_image_id']}",
            headers=_headers(settings),
        )
    assert response.status_code == 503
    assert (await _images(http, settings, listing_id))["count"] == 2
