"""Simulated Vinted UpdateItems and DeleteItems (issue 13): accepted per entry, processed
later, refused while an item is IN_PROGRESS; a deleted item is gone from every read."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from config.settings import Settings
from tests.simulator.test_sim_vinted import BASE, _create, _signed, _status, item
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")


def update(item_id: str, **overrides: Any) -> dict[str, Any]:
    """An UpdateItems entry: the item's id and the whole item, without a reference."""
    entry = {"item_id": item_id, **item("unused", **overrides)}
    del entry["item_reference"]
    return entry


async def _active_item(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl, reference: str = "R1"
) -> str:
    await sim.configure(vinted_activation_delay_ms=0)
    [accepted] = (await _create(http, settings, item(reference))).json()["items"]
    item_id: str = accepted["item_id"]
    assert (await _status(http, settings, item_id))["status"] == "ACTIVE"
    return item_id


async def _update(http: httpx.AsyncClient, settings: Settings, *entries: Any) -> httpx.Response:
    return await _signed(http, settings, "PUT", f"{BASE}/items", {"items": list(entries)})


async def _delete(http: httpx.AsyncClient, settings: Settings, *ids: str) -> httpx.Response:
    return await _signed(http, settings, "DELETE", f"{BASE}/items", {"item_ids": list(ids)})


async def test_an_update_is_processed_later_and_replaces_the_item(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    item_id = await _active_item(http, settings, sim)
    await sim.configure(vinted_activation_delay_ms=300)
    response = await _update(http, settings, update(item_id, title="Washed denim jacket"))
    assert response.status_code == 202
    assert response.json() == {"items": [{"item_id": item_id, "accepted": True}]}
    assert (await _status(http, settings, item_id))["status"] == "IN_PROGRESS"
    [listed] = (await sim.listings())["vinted"]
    assert (listed["live"], listed["title"]) == (True, "Vintage denim jacket"), "not yet"
    await asyncio.sleep(0.35)
    assert (await _status(http, settings, item_id))["status"] == "ACTIVE"
    [listed] = (await sim.listings())["vinted"]
    assert (listed["title"], listed["reference"]) == ("Washed denim jacket", "R1")


async def test_an_update_entry_is_the_whole_item_by_id(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    item_id = await _active_item(http, settings, sim)
    partial = {"item_id": item_id, "price": 30.0}
    with_reference = {**update(item_id), "item_reference": "R2"}
    for entry in (
        partial,
        with_reference,
        {k: v for k, v in update(item_id).items() if k != "item_id"},
    ):
        response = await _update(http, settings, entry)
        assert response.status_code == 400, entry
        assert response.json()["errors"][0]["code"] == "validation_error"


async def test_an_update_vinted_refuses_after_the_202_keeps_the_item(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    item_id = await _active_item(http, settings, sim)
    response = await _update(http, settings, update(item_id, price=0.5))
    assert response.json()["items"][0]["accepted"] is True
    status = await _status(http, settings, item_id)
    assert status["status"] == "ACTIVE"
    assert "minimum" in status["errors"][0]["message"]
    [listed] = (await sim.listings())["vinted"]
    assert (listed["live"], listed["price"]) == (True, "45.00")


async def test_unknown_in_progress_and_failed_items_take_no_update(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.configure(vinted_activation_delay_ms=60_000)
    [pending] = (await _create(http, settings, item("R1"))).json()["items"]
    await sim.configure(vinted_activation_delay_ms=0)
    [failed] = (await _create(http, settings, item("R2", price=0.5))).json()["items"]
    unknown = "00000000-0000-4000-8000-000000000000"
    response = await _update(
        http, settings, update(pending["item_id"]), update(failed["item_id"]), update(unknown)
    )
    assert response.status_code == 202
    codes = [(e["accepted"], e["errors"][0]["code"]) for e in response.json()["items"]]
    assert codes == [(False, "item_in_progress"), (False, "item_failed"), (False, "not_found")]


async def test_a_deleted_item_is_gone_from_every_read(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    item_id = await _active_item(http, settings, sim)
    other = await _active_item(http, settings, sim, "R2")
    response = await _delete(http, settings, item_id)
    assert response.status_code == 202
    assert response.json() == {"items": [{"item_id": item_id, "accepted": True}]}
    status = await _signed(http, settings, "GET", f"{BASE}/items/{item_id}/status")
    assert status.status_code == 404
    listed = (await _signed(http, settings, "GET", f"{BASE}/items")).json()["items"]
    assert [i["item_id"] for i in listed] == [other]
    entry = [i for i in (await sim.listings())["vinted"] if i["item_id"] == item_id]
    assert [(e["status"], e["live"]) for e in entry] == [("deleted", False)]
    gone = await _update(http, settings, update(item_id))
    assert gone.json()["items"][0]["errors"][0]["code"] == "not_found"


async def test_delete_refuses_an_item_in_progress_and_ignores_unknown_ids(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """claude-ebay-prompts-etc: "IN_PROGRESS ones can't [be deleted]. Unknown ids fail
    silently (202 regardless)"."""
    await sim.configure(vinted_activation_delay_ms=60_000)
    [pending] = (await _create(http, settings, item("R1"))).json()["items"]
    unknown = "00000000-0000-4000-8000-000000000000"
    response = await _delete(http, settings, pending["item_id"], unknown)
    assert response.status_code == 202
    first, second = response.json()["items"]
    assert (first["accepted"], first["errors"][0]["code"]) == (False, "item_in_progress")
    assert second == {"item_id": unknown, "accepted": True}
    [listed] = (await sim.listings())["vinted"]
    assert listed["live"] is True


@pytest.mark.parametrize("operation", ["update_items", "delete_items"])
async def test_a_ghost_write_on_a_change_applies_it_and_answers_500(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl, operation: str
) -> None:
    item_id = await _active_item(http, settings, sim)
    await sim.add_fault("vinted", "ghost_write", operation)
    if operation == "update_items":
        response = await _update(http, settings, update(item_id, title="Washed denim jacket"))
    else:
        response = await _delete(http, settings, item_id)
    assert response.status_code == 500
    [listed] = (await sim.listings())["vinted"]
    if operation == "update_items":
        assert listed["title"] == "Washed denim jacket"
    else:
        assert listed["live"] is False
