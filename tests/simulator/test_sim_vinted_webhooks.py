"""The simulated Vinted sends its signed CREATE_ITEM_* webhooks, and only when asked to."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from config.settings import Settings, load_settings
from simulator.vinted_webhooks import SIGNATURE_HEADER
from tests.simulator.test_sim_vinted import BASE, _create, _signed, item
from tests.support.simulator import SimulatorControl, running_simulator
from tests.support.webhook_receiver import Received, webhook_receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")


def verify(signing_key: str, received: Received) -> dict[str, Any]:
    """Check the signature as a Vinted client does (``t=<ts>,v1=<hex>`` over ``<t>.<body>``,
    claude-ebay-prompts-etc ``verify_webhook``) and return the event."""
    header = {k.lower(): v for k, v in received.headers.items()}[SIGNATURE_HEADER.lower()]
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        signing_key.encode(), f"{fields['t']}.".encode() + received.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected), "bad webhook signature"
    event: dict[str, Any] = json.loads(received.body)
    return event


async def _register(
    http: httpx.AsyncClient, settings: Settings, url: str, *events: str
) -> dict[str, Any]:
    body = {"event_types": list(events), "url": url}
    response = await _signed(http, settings, "POST", f"{BASE}/webhooks", body)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


async def test_a_registered_webhook_gets_signed_create_item_events(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.configure(vinted_activation_delay_ms=50)
    with webhook_receiver() as receiver:
        webhook = await _register(
            http, settings, receiver.url, "CREATE_ITEM_SUCCESS", "CREATE_ITEM_FAILURE"
        )
        created = (await _create(http, settings, item("R-ok"), item("R-bad", price=0.5))).json()
        received = await asyncio.to_thread(receiver.wait_for, 2)
    events = {
        e["event_data"]["item_reference"]: e
        for e in (verify(webhook["signing_key"], r) for r in received)
    }
    ok, bad = created["items"]
    assert events["R-ok"] == {
        "webhook_id": webhook["id"],
        "event_type": "CREATE_ITEM_SUCCESS",
        "event_data": {"item_id": ok["item_id"], "item_reference": "R-ok"},
    }
    assert events["R-bad"]["event_type"] == "CREATE_ITEM_FAILURE"
    assert events["R-bad"]["event_data"]["item_id"] == bad["item_id"]
    assert "minimum" in events["R-bad"]["event_data"]["errors"][0]["message"]
    deliveries = (await http.get("/__sim/vinted/webhook_deliveries")).json()
    assert sorted((d["event_type"], d["status"]) for d in deliveries) == [
        ("CREATE_ITEM_FAILURE", 200),
        ("CREATE_ITEM_SUCCESS", 200),
    ]


async def test_only_subscribed_events_are_sent(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    await sim.configure(vinted_activation_delay_ms=0)
    with webhook_receiver() as receiver:
        await _register(http, settings, receiver.url, "CREATE_ITEM_FAILURE")
        await _create(http, settings, item("R-ok"), item("R-bad", price=0.5))
        [received] = await asyncio.to_thread(receiver.wait_for, 1)
        await asyncio.sleep(0.2)
    assert len(receiver.received) == 1
    assert json.loads(received.body)["event_type"] == "CREATE_ITEM_FAILURE"


async def test_unknown_event_types_are_refused(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    body = {"event_types": ["ITEM_TELEPORTED"], "url": "https://example.com/hook"}
    response = await _signed(http, settings, "POST", f"{BASE}/webhooks", body)
    assert response.status_code == 400
    assert "ITEM_TELEPORTED" in response.json()["errors"][0]["message"]


async def test_no_webhooks_are_sent_by_default(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    assert settings.vinted_webhook_url is None
    await sim.configure(vinted_activation_delay_ms=0)
    await _create(http, settings, item("R1"))
    await asyncio.sleep(0.2)
    assert (await http.get("/__sim/vinted/webhook_deliveries")).json() == []
    listed = (await _signed(http, settings, "GET", f"{BASE}/webhooks")).json()
    assert listed == {"webhooks": []}


async def test_vinted_webhook_url_setting_registers_a_webhook() -> None:
    """VINTED_WEBHOOK_URL: the simulator sends item events there, signed with
    VINTED_WEBHOOK_SIGNING_KEY (README "Talking to the real marketplaces")."""
    with webhook_receiver() as receiver:
        settings = load_settings(vinted_webhook_url=receiver.url)
        with running_simulator(settings) as url:
            async with httpx.AsyncClient(base_url=url, timeout=5.0) as http:
                await http.post("/__sim/config", json={"vinted_activation_delay_ms": 0})
                created = (await _create(http, settings, item("R1"))).json()["items"][0]
                [received] = await asyncio.to_thread(receiver.wait_for, 1)
    key = settings.vinted_webhook_signing_key.get_secret_value()
    event = verify(key, received)
    assert event["event_type"] == "CREATE_ITEM_SUCCESS"
    assert event["event_data"]["item_id"] == created["item_id"]


async def test_updates_and_deletes_send_their_events(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """UPDATE_ITEM_SUCCESS once an update is processed, DELETE_ITEM_SUCCESS on a delete."""
    await sim.configure(vinted_activation_delay_ms=0)
    [created] = (await _create(http, settings, item("R1"))).json()["items"]
    item_id = created["item_id"]
    entry = {"item_id": item_id, **item("R1", title="Washed denim jacket")}
    del entry["item_reference"]
    with webhook_receiver() as receiver:
        webhook = await _register(
            http, settings, receiver.url, "UPDATE_ITEM_SUCCESS", "DELETE_ITEM_SUCCESS"
        )
        await _signed(http, settings, "PUT", f"{BASE}/items", {"items": [entry]})
        [updated] = await asyncio.to_thread(receiver.wait_for, 1)
        await _signed(http, settings, "DELETE", f"{BASE}/items", {"item_ids": [item_id]})
        received = await asyncio.to_thread(receiver.wait_for, 2)
    events = [verify(webhook["signing_key"], r) for r in received]
    assert [e["event_type"] for e in events] == ["UPDATE_ITEM_SUCCESS", "DELETE_ITEM_SUCCESS"]
    assert {e["event_data"]["item_id"] for e in events} == {item_id}
    assert json.loads(updated.body)["event_data"]["item_reference"] == "R1"
