"""Simulated Etsy Open API v3: x-api-key and bearer checks, drafts, activation, lookup, quota."""

from __future__ import annotations

import httpx
import pytest

from activities.etsy import draft_form, inventory_body
from config.settings import Settings
from domain.listing import Listing
from tests.factories import listing_body
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

BASE = "/etsy/v3/application"


def _headers(settings: Settings) -> dict[str, str]:
    return {
        "x-api-key": settings.etsy_api_key.get_secret_value(),
        "Authorization": f"Bearer {settings.etsy_access_token.get_secret_value()}",
    }


def _shop(settings: Settings) -> str:
    return f"{BASE}/shops/{settings.etsy_shop_id}"


async def _draft(http: httpx.AsyncClient, settings: Settings, listing: Listing) -> int:
    response = await http.post(
        f"{_shop(settings)}/listings",
        data=draft_form(listing, settings),
        headers=_headers(settings),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "draft"
    assert body["url"].endswith(str(body["listing_id"]))
    return int(body["listing_id"])


async def test_api_key_without_shared_secret_is_403(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    headers = _headers(settings) | {"x-api-key": "keystring-only"}
    response = await http.get(f"{_shop(settings)}/listings", headers=headers)
    assert response.status_code == 403
    assert response.json() == {"error": "Shared secret is required in x-api-key header"}


async def test_wrong_api_key_is_403(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    headers = _headers(settings) | {"x-api-key": "other:secret"}
    response = await http.get(f"{_shop(settings)}/listings", headers=headers)
    assert response.status_code == 403


async def test_bearer_token_must_be_user_id_dot_token(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    token = settings.etsy_access_token.get_secret_value().partition(".")[2]
    for bad in (token, f"99.{token}", "abc.def"):
        headers = _headers(settings) | {"Authorization": f"Bearer {bad}"}
        response = await http.get(f"{_shop(settings)}/listings", headers=headers)
        assert response.status_code == 401, bad
        assert "error" in response.json()


async def test_create_draft_requires_every_field(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    form = draft_form(Listing.model_validate(listing_body()), settings)
    del form["who_made"], form["shipping_profile_id"]
    response = await http.post(f"{_shop(settings)}/listings", data=form, headers=_headers(settings))
    assert response.status_code == 400
    assert "who_made" in response.json()["error"]
    assert "shipping_profile_id" in response.json()["error"]
    assert (await sim.listings())["etsy"] == []


async def test_duplicate_drafts_are_allowed(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing = Listing.model_validate(listing_body())
    first = await _draft(http, settings, listing)
    second = await _draft(http, settings, listing)
    assert first != second
    assert len((await sim.listings())["etsy"]) == 2


async def test_activation_needs_an_image(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing = Listing.model_validate(listing_body())
    listing_id = await _draft(http, settings, listing)
    activate = f"{_shop(settings)}/listings/{listing_id}"
    refused = await http.patch(activate, data={"state": "active"}, headers=_headers(settings))
    assert refused.status_code == 400
    assert "image" in refused.json()["error"]

    image = await http.post(
        f"{activate}/images", data={"image_url": listing.images[0]}, headers=_headers(settings)
    )
    assert image.status_code == 201
    activated = await http.patch(activate, data={"state": "active"}, headers=_headers(settings))
    assert activated.status_code == 200
    assert activated.json()["state"] == "active"


async def test_image_upload_accepts_multipart_file(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing_id = await _draft(http, settings, Listing.model_validate(listing_body()))
    response = await http.post(
        f"{_shop(settings)}/listings/{listing_id}/images",
        files={"image": ("a.jpg", b"\xff\xd8\xff fake jpeg", "image/jpeg")},
        headers=_headers(settings),
    )
    assert response.status_code == 201
    assert response.json()["listing_image_id"]
    missing = await http.post(
        f"{_shop(settings)}/listings/{listing_id}/images",
        files={"other": ("a.txt", b"x", "text/plain")},
        headers=_headers(settings),
    )
    assert missing.status_code == 400


async def test_listings_by_state_show_skus_and_page(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listings = [Listing.model_validate(listing_body()) for _ in range(3)]
    for listing in listings:
        listing_id = await _draft(http, settings, listing)
        response = await http.put(
            f"{BASE}/listings/{listing_id}/inventory",
            json=inventory_body(listing),
            headers=_headers(settings),
        )
        assert response.status_code == 200
    page = await http.get(
        f"{_shop(settings)}/listings",
        params={"state": "draft", "limit": 2, "offset": 1},
        headers=_headers(settings),
    )
    assert page.status_code == 200
    assert page.json()["count"] == 3
    assert [r["skus"] for r in page.json()["results"]] == [[x.sku] for x in listings[1:]]
    active = await http.get(
        f"{_shop(settings)}/listings", params={"state": "active"}, headers=_headers(settings)
    )
    assert active.json() == {"count": 0, "results": []}


async def test_rate_limit_headers_on_every_answer(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    ok = await http.get(f"{_shop(settings)}/listings", headers=_headers(settings))
    denied = await http.get(f"{_shop(settings)}/listings", headers={"x-api-key": "a:b"})
    for response in (ok, denied):
        for header in (
            "x-limit-per-second",
            "x-remaining-this-second",
            "x-limit-per-day",
            "x-remaining-today",
        ):
            assert response.headers[header].isdigit(), header
    assert int(denied.headers["x-remaining-today"]) < int(ok.headers["x-remaining-today"])


async def test_delete_listing_removes_it(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    listing_id = await _draft(http, settings, Listing.model_validate(listing_body()))
    response = await http.delete(f"{BASE}/listings/{listing_id}", headers=_headers(settings))
    assert response.status_code == 204
    assert (await sim.listings())["etsy"] == []
    again = await http.delete(f"{BASE}/listings/{listing_id}", headers=_headers(settings))
    assert again.status_code == 404
