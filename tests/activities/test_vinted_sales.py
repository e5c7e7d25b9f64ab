"""Vinted's side of sales (issue 14) against the simulator: a sale arrives as the signed
``ITEM_SOLD`` webhook, the item is sold; set_quantity_vinted writes nothing and says ``ended``
once the item sold; a withdraw of a sold item ends nothing, at once."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from activities.vinted import VintedActivities
from activities.vinted_api import signature_header
from activities.vinted_sales import VintedSalesActivities
from config.settings import Settings
from domain.marketplaces import Marketplace
from domain.messages import PublishRequest, PublishResult, WithdrawResult
from domain.sales import SetQuantityRequest, SetQuantityResult
from domain.vinted_reference import item_reference, sku_of_reference
from domain.vinted_webhook import ITEM_SOLD, SIGNATURE_HEADER, item_sold, verify_webhook
from tests.activities.harness import Attempts, publish_request, withdraw_request
from tests.support.simulator import SimulatorControl
from tests.support.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")

VINTED = Marketplace.VINTED


async def _publish(settings: Settings, http: httpx.AsyncClient) -> tuple[PublishRequest, Any]:
    request = publish_request(VINTED)
    result = await Attempts(VintedActivities(settings, http).publish_to_vinted, VINTED).run(request)
    return request, result


async def register_webhook(settings: Settings, url: str, *events: str) -> str:
    """``POST /webhooks`` on the simulated Vinted, signed as every VPI request; its key."""
    body = json.dumps({"event_types": list(events), "url": url}).encode()
    access_key = settings.vinted_access_key.get_secret_value()
    target = "/vinted/api/v1/webhooks"
    headers = {
        "Content-Type": "application/json",
        "X-Vpi-Access-Key": access_key,
        "X-Vpi-Hmac-Sha256": signature_header(
            settings.vinted_signing_key.get_secret_value(),
            access_key,
            "POST",
            target,
            body,
            time.time(),
        ),
    }
    async with httpx.AsyncClient(base_url=settings.simulator_url) as client:
        response = await client.post(target, content=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["signing_key"])


def _quantity(result: PublishResult, sku: str) -> SetQuantityRequest:
    return SetQuantityRequest(marketplace=VINTED, sku=sku, current=result.ref(), quantity=2)


async def test_a_vinted_sale_is_the_signed_item_sold_webhook_naming_item_and_order(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Issue 14: Vinted reports sales by webhook. The simulator signs ``ITEM_SOLD`` as Vinted
    signs its webhooks (verified here with the gateway's own check), its data names the item,
    the reference our adapter gave it (which leads back to the SKU) and the order."""
    request, published = await _publish(settings, http)
    sku = request.listing.sku
    with webhook_receiver() as receiver:
        key = await register_webhook(settings, receiver.url, ITEM_SOLD)
        order_id = await sim.sell("vinted", sku)
        [received] = await asyncio.to_thread(receiver.wait_for, 1)
    headers = {k.lower(): v for k, v in received.headers.items()}
    check = verify_webhook(key, headers[SIGNATURE_HEADER.lower()], received.body, time.time())
    assert check.valid, check.problem
    event = json.loads(received.body)
    assert event["event_type"] == ITEM_SOLD
    sale = item_sold(event["event_data"])
    assert sale is not None
    assert (sale.item_id, sale.order_id) == (published.listing_id, order_id)
    assert sale.item_reference == item_reference(sku, request.idempotency_key)
    assert sku_of_reference(sale.item_reference) == sku
    [item] = (await sim.listings())["vinted"]
    assert (item["status"], item["live"]) == ("sold", False)


async def test_set_quantity_on_vinted_writes_nothing_while_the_item_is_listed(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """A Vinted item is one article without a stock quantity: quantity 1, one status read,
    no write."""
    request, published = await _publish(settings, http)
    before = len(await sim.calls("vinted"))
    sales = VintedSalesActivities(VintedActivities(settings, http).api)
    result: SetQuantityResult = await Attempts(sales.set_quantity_vinted, VINTED).run(
        _quantity(published, request.listing.sku)
    )
    assert (result.quantity, result.ended) == (1, False)
    assert [c["operation"] for c in (await sim.calls("vinted"))[before:]] == ["item_status"]
    assert len(await sim.live_listings("vinted", request.listing.sku)) == 1


async def test_set_quantity_on_an_item_sold_on_vinted_is_ended_not_an_error(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    request, published = await _publish(settings, http)
    await sim.sell("vinted", request.listing.sku)
    sales = VintedSalesActivities(VintedActivities(settings, http).api)
    result: SetQuantityResult = await Attempts(sales.set_quantity_vinted, VINTED).run(
        _quantity(published, request.listing.sku)
    )
    assert (result.ended, result.quantity) == (True, 0)


async def test_withdrawing_a_sold_item_ends_nothing_and_does_not_wait(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """A sold item is processed (status SOLD), not an item still being processed: the
    withdraw answers at once that nothing was live, and deletes nothing."""
    request, published = await _publish(settings, http)
    await sim.sell("vinted", request.listing.sku)
    started = time.monotonic()
    result: WithdrawResult = await Attempts(
        VintedActivities(settings, http).withdraw_from_vinted, VINTED
    ).run(withdraw_request(request, published.ref()))
    assert result.withdrawn is False
    assert time.monotonic() - started < 2
    assert await sim.calls("vinted", "delete_items") == []
