"""Simulated Vinted Pro Integrations API: HMAC signature and skew, async items, slots."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from activities.vinted import item_body, signature_header
from config.settings import Settings
from domain.listing import Listing
from tests.factories import listing_body
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

BASE = "/vinted/api/v1"


async def _signed(
    http: httpx.AsyncClient,
    settings: Settings,
    method: str,
    path: str,
    body: Any = None,
    *,
    now: float | None = None,
    signing_key: str | None = None,
) -> httpx.Response:
    content = json.dumps(body).encode() if body is not None else b""
    request = http.build_request(method, path, content=content)
    access_key = settings.vinted_access_key.get_secret_value()
    request.headers["X-Vpi-Access-Key"] = access_key
    request.headers["X-Vpi-Hmac-Sha256"] = signature_header(
        signing_key or settings.vinted_signing_key.get_secret_value(),
        access_key,
        method,
        request.url.raw_path.decode(),
        content,
        time.time() if now is None else now,
    )
    return await http.send(request)


def _items(*references: str, price: str = "45.00") -> dict[str, Any]:
    listing = Listing.model_validate(listing_body(price={"amount": price, "currency": "EUR"}))
    return {"items": [item_body(listing, ref) for ref in references]}


async def _status(http: httpx.AsyncClient, settings: Settings, ref: str) -> dict[str, Any]:
    response = await _signed(http, settings, "GET", f"{BASE}/items/status?reference={ref}")
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["items"][0]
    return item


async def test_unsigned_request_is_401(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    headers = {"X-Vpi-Access-Key": settings.vinted_access_key.get_secret_value()}
    response = await http.post(f"{BASE}/items", json=_items("R1"), headers=headers)
    assert response.status_code == 401
    assert (await sim.listings())["vinted"] == []


async def test_wrong_signing_key_is_401(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    response = await _signed(http, settings, "POST", f"{BASE}/items", _items("R1"), signing_key="x")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_signature"


async def test_signature_covers_the_query(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    request = http.build_request("GET", f"{BASE}/items/status?reference=A")
    access_key = settings.vinted_access_key.get_secret_value()
    request.headers["X-Vpi-Access-Key"] = access_key
    request.headers["X-Vpi-Hmac-Sha256"] = signature_header(
        settings.vinted_signing_key.get_secret_value(),
        access_key,
        "GET",
        f"{BASE}/items/status?reference=B",
        b"",
        time.time(),
    )
    assert (await http.send(request)).status_code == 401


async def test_clock_skew_beyond_300_seconds_is_401(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    for skew in (-310, 310):
        response = await _signed(
            http, settings, "POST", f"{BASE}/items", _items("R1"), now=time.time() + skew
        )
        assert response.status_code == 401, skew
    within = await _signed(
        http, settings, "POST", f"{BASE}/items", _items("R1"), now=time.time() - 290
    )
    assert within.status_code == 202


async def test_item_is_pending_then_active_after_the_delay(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.configure(vinted_activation_delay_ms=300)
    response = await _signed(http, settings, "POST", f"{BASE}/items", _items("R1"))
    assert response.status_code == 202
    [accepted] = response.json()["items"]
    assert accepted["accepted"] is True
    assert (await _status(http, settings, "R1"))["status"] == "pending"
    await asyncio.sleep(0.35)
    item = await _status(http, settings, "R1")
    assert item["status"] == "active"
    assert item["item_id"] == accepted["item_id"]
    assert str(accepted["item_id"]) in item["url"]


async def test_same_reference_returns_the_existing_item(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    first = await _signed(http, settings, "POST", f"{BASE}/items", _items("R1"))
    second = await _signed(http, settings, "POST", f"{BASE}/items", _items("R1"))
    assert first.json()["items"][0]["item_id"] == second.json()["items"][0]["item_id"]
    assert len((await sim.listings())["vinted"]) == 1


async def test_batch_exceeding_free_slots_is_rejected_in_full(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.configure(vinted_slots=2)
    assert (await _signed(http, settings, "POST", f"{BASE}/items", _items("R1"))).status_code == 202
    rejected = await _signed(http, settings, "POST", f"{BASE}/items", _items("R2", "R3"))
    assert rejected.status_code == 422
    assert rejected.json()["errors"][0]["code"] == "insufficient_slots"
    assert [i["reference"] for i in (await sim.listings())["vinted"]] == ["R1"]
    fits = await _signed(http, settings, "POST", f"{BASE}/items", _items("R1", "R2"))
    assert fits.status_code == 202


async def test_default_slots_are_500(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    assert (await http.get("/__sim/config")).json()["vinted_slots"] == 500


async def test_item_below_minimum_price_fails_after_acceptance(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.configure(vinted_activation_delay_ms=0)
    response = await _signed(http, settings, "POST", f"{BASE}/items", _items("R1", price="0.50"))
    assert response.json()["items"][0]["accepted"] is True
    item = await _status(http, settings, "R1")
    assert item["status"] == "failed"
    assert "minimum" in item["error"]["message"]


async def test_invalid_item_is_not_accepted(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    body = _items("R1")
    del body["items"][0]["title"]
    response = await _signed(http, settings, "POST", f"{BASE}/items", body)
    assert response.status_code == 202
    assert response.json()["items"][0]["accepted"] is False
    assert (await sim.listings())["vinted"] == []


async def test_status_of_unknown_reference_is_404(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    response = await _signed(http, settings, "GET", f"{BASE}/items/status?reference=NOPE")
    assert response.status_code == 404
