"""Sales through the real stack (issue 14): the simulator sells, the orders readers read the
order where the real API reports it, the SKU's entity counts it once and brings the other
marketplaces to the new quantity, or ends the listing everywhere at 0."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from config.settings import Settings
from tests.api.conftest import Keys
from tests.api.helpers import PAYMENT
from tests.factories import start_job_body
from tests.support.simulator import SimulatorControl
from worker import ORDER_READERS, start_order_readers
from workflows.orders_reader import orders_reader_id

INTERVAL = 1.0


@pytest.fixture
async def readers(dev_client: Client, api_settings: Settings) -> AsyncIterator[None]:
    """The eBay and Etsy orders readers, reading every second; stopped after the test (their
    reads would otherwise show in other tests' request logs)."""
    settings = api_settings.model_copy(update={"sales_sync_interval": INTERVAL})
    await start_order_readers(dev_client, settings)
    yield
    for marketplace in ORDER_READERS:
        await dev_client.get_workflow_handle(orders_reader_id(marketplace)).terminate("test done")


async def _entry(sim: SimulatorControl, marketplace: str, sku: str) -> dict[str, Any] | None:
    live = await sim.live_listings(marketplace, sku)
    return live[0] if live else None


async def _within(seconds: float, check: Callable[[], Any], what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")


async def test_a_sale_on_each_marketplace_reaches_the_others_and_the_last_ends_all(
    api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl, readers: None
):
    body = start_job_body()
    body["input_data"]["quantity"] = 3
    sku = body["input_data"]["sku"]
    job = (await api.post("/start_job", json=body)).json()["job_id"]
    paid = await api.post(
        "/provide_input",
        json={"job_id": job, "data": PAYMENT, "signature": keys.sign(job, PAYMENT)},
    )
    assert paid.json()["status"] == "completed", paid.text
    bound = INTERVAL + 5

    async def etsy_at(quantity: int) -> bool:
        entry = await _entry(sim, "etsy", sku)
        return entry is not None and entry["quantity"] == quantity

    await sim.sell("ebay", sku, 1)
    ebay_delay = await _within(bound, lambda: etsy_at(2), "the eBay sale on Etsy")

    async def ebay_at(quantity: int) -> bool:
        entry = await _entry(sim, "ebay", sku)
        return entry is not None and entry["quantity"] == quantity

    await sim.sell("etsy", sku, 1)
    etsy_delay = await _within(bound, lambda: ebay_at(1), "the Etsy sale on eBay")
    listing = (await api.get(f"/listings/{sku}")).json()
    assert (listing["sold"], listing["quantity"], listing["status"]) == (2, 1, "live"), listing

    async def nothing_live() -> bool:
        return all([await sim.live_listings(m, sku) == [] for m in ("ebay", "etsy", "vinted")])

    await sim.sell("ebay", sku, 1)
    end_delay = await _within(bound, nothing_live, "the last sale ending the listing")
    await asyncio.sleep(INTERVAL * 2)  # the readers' overlapping windows read it again
    listing = (await api.get(f"/listings/{sku}")).json()
    assert (listing["sold"], listing["oversold"], listing["quantity"]) == (3, 0, 0), listing
    assert listing["status"] == "ended", listing
    events = [e["type"] for e in (await api.get(f"/listings/{sku}/events")).json()]
    assert events.count("listing.sold") == 3, events
    assert "listing.ended" in events
    print(
        f"sale to elsewhere (SALES_SYNC_INTERVAL {INTERVAL:g} s): eBay->Etsy {ebay_delay:.1f} s, "
        f"Etsy->eBay {etsy_delay:.1f} s, last sale->ended everywhere {end_delay:.1f} s"
    )
