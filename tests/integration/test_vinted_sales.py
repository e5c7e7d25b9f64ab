"""A Vinted sale through the real stack (issue 14): the simulator's buyer buys the item,
Vinted's signed ``ITEM_SOLD`` webhook reaches the gateway (``POST /webhooks/vinted``), the
SKU's entity counts it once, and the listing ends on eBay and Etsy."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import httpx

from tests.factories import start_job_body
from tests.integration.processes import running_stack, wait_until
from tests.reliability.jobs import publish
from tests.support.simulator import live_on

SECRET = base64.b64encode(os.urandom(32)).decode()
INTERVAL = 1.0


def test_a_vinted_sale_arrives_by_webhook_and_ends_the_listing_elsewhere(tmp_path: Path):
    env = {"SIGNING_SECRETS": f"whsec_{SECRET}", "SALES_SYNC_INTERVAL": str(INTERVAL)}
    with (
        running_stack(tmp_path, env, vinted_webhooks=True) as stack,
        httpx.Client(base_url=stack.api_url, timeout=30) as api,
    ):
        body = start_job_body()
        sku = body["input_data"]["sku"]
        publish(api, body, SECRET)
        assert sorted(live_on(stack.simulator_url, sku)) == ["ebay", "etsy", "vinted"]

        sold = httpx.post(
            f"{stack.simulator_url}/__sim/sales",
            json={"marketplace": "vinted", "sku": sku, "quantity": 1},
            timeout=10,
        )
        assert sold.status_code == 201, sold.text
        started = time.monotonic()
        wait_until(lambda: live_on(stack.simulator_url, sku) == [], INTERVAL + 5, "ended elsewhere")
        delay = time.monotonic() - started
        wait_until(
            lambda: api.get(f"/listings/{sku}").json()["status"] == "ended", 10, "listing ended"
        )

        deliveries = httpx.get(
            f"{stack.simulator_url}/__sim/vinted/webhook_deliveries", timeout=10
        ).json()
        listing = api.get(f"/listings/{sku}").json()
        events = [e["type"] for e in api.get(f"/listings/{sku}/events").json()]
    sales = [d for d in deliveries if d.get("event_type") == "ITEM_SOLD"]
    assert sales and all(d["status"] in (200, 202, 204) for d in sales), deliveries
    assert (listing["sold"], listing["quantity"], listing["status"]) == (1, 0, "ended"), listing
    assert events.count("listing.sold") == 1, events
    print(f"Vinted sale by webhook -> ended on eBay and Etsy after {delay:.1f} s")
