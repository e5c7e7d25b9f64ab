"""Simulated Vinted Pro Integrations API: signature and skew, UUID items created
asynchronously, no idempotency by reference, ontology ids, GetItems paging, slots, rate."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx
import pytest

from activities.vinted_api import signature_header
from config.settings import Settings
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

BASE = "/vinted/api/v1"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


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


def item(reference: str, **overrides: Any) -> dict[str, Any]:
    """A CreateItems entry the sources' schema accepts, ids from the simulator's ontology."""
    body: dict[str, Any] = {
        "item_reference": reference,
        "title": "Vintage denim jacket",
        "description": "Levi's trucker jacket, light wash.",
        "price": 45.0,
        "currency": "EUR",
        "catalog_id": 1206,
        "package_size_id": 2,
        "brand": "Levi's",
        "size_id": 208,
        "photo_urls": ["https://example.com/a.jpg"],
        "item_attributes": [{"id": "condition", "option_ids": [3]}],
        "is_draft": False,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


async def _create(
    http: httpx.AsyncClient, settings: Settings, *items: dict[str, Any]
) -> httpx.Response:
    return await _signed(http, settings, "POST", f"{BASE}/items", {"items": list(items)})


async def _status(http: httpx.AsyncClient, settings: Settings, item_id: str) -> dict[str, Any]:
    response = await _signed(http, settings, "GET", f"{BASE}/items/{item_id}/status")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_unsigned_request_is_401(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    headers = {"X-Vpi-Access-Key": settings.vinted_access_key.get_secret_value()}
    response = await http.post(f"{BASE}/items", json={"items": [item("R1")]}, headers=headers)
    assert response.status_code == 401
    assert (await sim.listings())["vinted"] == []


async def test_wrong_signing_key_is_401(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    response = await _signed(
        http, settings, "POST", f"{BASE}/items", {"items": [item("R1")]}, signing_key="x"
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_signature"


async def test_signature_covers_the_query(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    request = http.build_request("GET", f"{BASE}/items?limit=1")
    access_key = settings.vinted_access_key.get_secret_value()
    request.headers["X-Vpi-Access-Key"] = access_key
    request.headers["X-Vpi-Hmac-Sha256"] = signature_header(
        settings.vinted_signing_key.get_secret_value(),
        access_key,
        "GET",
        f"{BASE}/items?limit=2",
        b"",
        time.time(),
    )
    assert (await http.send(request)).status_code == 401


async def test_clock_skew_beyond_300_seconds_is_401(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    body = {"items": [item("R1")]}
    for skew in (-310, 310):
        response = await _signed(
            http, settings, "POST", f"{BASE}/items", body, now=time.time() + skew
        )
        assert response.status_code == 401, skew
    within = await _signed(http, settings, "POST", f"{BASE}/items", body, now=time.time() - 290)
    assert within.status_code == 202


async def test_item_ids_are_uuid_strings_and_items_activate_after_the_delay(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Issue 12: Vinted item ids are UUID strings (quick-vint-api), not integers."""
    await sim.configure(vinted_activation_delay_ms=300)
    response = await _create(http, settings, item("R1"))
    assert response.status_code == 202
    [accepted] = response.json()["items"]
    assert isinstance(accepted["item_id"], str) and UUID.match(accepted["item_id"])
    assert accepted["item_reference"] == "R1"
    assert (await _status(http, settings, accepted["item_id"]))["status"] == "IN_PROGRESS"
    await asyncio.sleep(0.35)
    status = await _status(http, settings, accepted["item_id"])
    assert status["status"] == "ACTIVE"
    assert status["url"].startswith("https://www.vinted.com/items/")
    [listed] = (await sim.listings())["vinted"]
    assert (listed["item_id"], listed["reference"]) == (accepted["item_id"], "R1")


async def test_the_same_reference_twice_makes_two_items(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """item_reference is no idempotency key (anicolao/vintage): a blind re-POST duplicates."""
    first = (await _create(http, settings, item("R1"))).json()["items"][0]
    second = (await _create(http, settings, item("R1"))).json()["items"][0]
    assert first["item_id"] != second["item_id"]
    assert [i["reference"] for i in (await sim.listings())["vinted"]] == ["R1", "R1"]


async def test_there_is_no_lookup_by_reference(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Issue 12 #3: ``GET /items/status?reference=`` is in no public source."""
    await _create(http, settings, item("R1"))
    response = await _signed(http, settings, "GET", f"{BASE}/items/status?reference=R1")
    assert response.status_code == 404


async def test_items_without_the_ontology_ids_are_rejected_naming_them(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Issue 12 #4: catalog_id, package_size_id and brand are required; nothing is created."""
    bare = item("R1", catalog_id=None, package_size_id=None, brand=None)
    response = await _create(http, settings, item("R0"), bare)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "validation_error"
    for field in ("items[1].catalog_id", "items[1].package_size_id", "items[1].brand"):
        assert field in error["message"]
    assert (await sim.listings())["vinted"] == []


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"quantity": 1}, "quantity: unknown field"),
        ({"photos": [{"url": "https://example.com/a.jpg"}]}, "photos: unknown field"),
        ({"title": "Coat"}, "title: must be 5-100 characters"),
        ({"description": "x" * 2001}, "description: must be 5-2000 characters"),
        ({"currency": "USD"}, "currency: must be one of EUR, GBP"),
        ({"price": "45.00"}, "price: must be a number"),
        ({"item_reference": "R" * 65}, "item_reference: must be 1-64 characters"),
        ({"photo_urls": ["http://example.com/a.jpg"]}, "photo_urls: 1-20 https URLs"),
        ({"photo_urls": [f"https://example.com/{i}.jpg" for i in range(21)]}, "photo_urls: 1-20"),
    ],
)
async def test_the_item_schema_is_enforced(
    http: httpx.AsyncClient,
    settings: Settings,
    sim: SimulatorControl,
    override: dict[str, Any],
    field: str,
) -> None:
    response = await _create(http, settings, item("R1", **override))
    assert response.status_code == 400
    assert field in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"catalog_id": 99999}, "catalog_id 99999 is not in the ontology"),
        ({"package_size_id": 77}, "package_size_id 77 is not in the ontology"),
        ({"size_id": None}, "size_id is required for catalog 1206"),
        ({"catalog_id": 1920}, "size_id 208 does not apply to catalog 1920"),
        ({"item_attributes": []}, "item attribute condition"),
        ({"price": 0.5}, "below the minimum"),
    ],
)
async def test_items_the_ontology_rejects_fail_after_acceptance(
    http: httpx.AsyncClient,
    settings: Settings,
    sim: SimulatorControl,
    override: dict[str, Any],
    reason: str,
) -> None:
    await sim.configure(vinted_activation_delay_ms=0)
    response = await _create(http, settings, item("R1", **override))
    [accepted] = response.json()["items"]
    assert accepted["accepted"] is True
    status = await _status(http, settings, accepted["item_id"])
    assert status["status"] == "FAILED"
    assert reason in status["errors"][0]["message"]


async def test_get_items_pages_by_after_item_id(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    created = (await _create(http, settings, *(item(f"R{n}") for n in range(5)))).json()["items"]
    ids = [entry["item_id"] for entry in created]
    first = (await _signed(http, settings, "GET", f"{BASE}/items?limit=2")).json()["items"]
    assert [(i["item_id"], i["item_reference"]) for i in first] == [(ids[0], "R0"), (ids[1], "R1")]
    path = f"{BASE}/items?limit=250&after_item_id={ids[1]}"
    rest = (await _signed(http, settings, "GET", path)).json()["items"]
    assert [i["item_id"] for i in rest] == ids[2:]
    assert {i["status"] for i in rest} == {"IN_PROGRESS"}
    too_many = await _signed(http, settings, "GET", f"{BASE}/items?limit=251")
    assert too_many.status_code == 400


async def test_status_of_an_unknown_item_is_404(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    path = f"{BASE}/items/00000000-0000-0000-0000-000000000000/status"
    response = await _signed(http, settings, "GET", path)
    assert response.status_code == 404


async def test_ontologies_hold_catalogs_sizes_package_sizes_and_conditions(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    response = await _signed(http, settings, "GET", f"{BASE}/ontologies")
    assert response.status_code == 200
    ontology = response.json()
    enumerations = ontology["enumerations"]
    assert ontology["version"]
    assert {c["id"] for c in enumerations["catalogs"]} >= {settings.vinted_catalog_id}
    assert settings.vinted_package_size_id in {p["id"] for p in enumerations["package_sizes"]}
    assert settings.vinted_default_size_id in {s["id"] for s in enumerations["sizes"]}
    [condition] = [a for a in enumerations["attributes"] if a["id"] == "condition"]
    assert {o["title"] for o in condition["options"]} >= {"New with tags", "Good"}


async def test_batch_exceeding_free_slots_is_rejected_in_full(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.configure(vinted_slots=2)
    assert (await _create(http, settings, item("R1"))).status_code == 202
    rejected = await _create(http, settings, item("R2"), item("R3"))
    assert rejected.status_code == 422
    assert rejected.json()["errors"][0]["code"] == "insufficient_slots"
    assert [i["reference"] for i in (await sim.listings())["vinted"]] == ["R1"]
    assert (await _create(http, settings, item("R2"))).status_code == 202


async def test_default_slots_are_500(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    assert (await http.get("/__sim/config")).json()["vinted_slots"] == 500


async def test_requests_beyond_the_rate_are_429_with_retry_after(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Vinted documents no request rate; the simulator enforces a chosen
    SIMULATOR_VINTED_REQUESTS_PER_SECOND (README "Vinted assumptions")."""
    limit = int(settings.simulator_vinted_requests_per_second)
    assert limit == 10
    answers = [
        (await _signed(http, settings, "GET", f"{BASE}/items?limit=1")) for _ in range(limit + 1)
    ]
    assert [a.status_code for a in answers[:limit]] == [200] * limit
    refused = answers[limit]
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "1"
    await asyncio.sleep(1.0)
    assert (await _signed(http, settings, "GET", f"{BASE}/items?limit=1")).status_code == 200
