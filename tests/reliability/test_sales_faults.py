"""Sales under process faults (issue 14), real processes with the orders readers running
(SALES_SYNC_INTERVAL 1 s): sales on eBay and Etsy while the worker is SIGKILLed and the dev
server restarted. No order is lost or counted twice, and nothing sold out is left live."""

from __future__ import annotations

import base64
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import start_job_body
from tests.integration.processes import running_stack, wait_until
from tests.reliability.jobs import publish
from tests.support.simulator import live_on

SECRET = base64.b64encode(os.urandom(32)).decode()
UNITS = 4


def _sell(simulator_url: str, marketplace: str, sku: str) -> None:
    response = httpx.post(
        f"{simulator_url}/__sim/sales",
        json={"marketplace": marketplace, "sku": sku, "quantity": 1},
        timeout=10,
    )
    assert response.status_code == 201, response.text


@pytest.mark.reliability
@pytest.mark.timeout(150)
def test_sales_survive_a_worker_kill_and_a_server_restart_counted_once(tmp_path: Path):
    env = {
        "SIGNING_SECRETS": f"whsec_{SECRET}",
        "SALES_SYNC_INTERVAL": "1",
        "PUBLISH_HEARTBEAT_TIMEOUT": "3",
        "EBAY_RATE_LIMIT": "100",
        "ETSY_RATE_LIMIT": "100",
        "VINTED_RATE_LIMIT": "100",
    }
    with (
        running_stack(tmp_path, env) as stack,
        httpx.Client(base_url=stack.api_url, timeout=30) as api,
    ):
        body = start_job_body()
        body["input_data"]["quantity"] = UNITS
        sku = body["input_data"]["sku"]
        publish(api, body, SECRET)

        _sell(stack.simulator_url, "ebay", sku)
        assert stack.stop("worker", signal.SIGKILL) == -signal.SIGKILL
        _sell(stack.simulator_url, "etsy", sku)  # sold while no worker runs
        stack.start_worker()
        wait_until(
            lambda: api.get(f"/listings/{sku}").json().get("sold") == 2, 60, "two sales counted"
        )
        _sell(stack.simulator_url, "ebay", sku)
        stack.restart_temporal(signal.SIGKILL, lambda: time.sleep(2))
        wait_until(lambda: api.get("/ready").status_code == 200, 30, "api ready after restart")
        wait_until(
            lambda: api.get(f"/listings/{sku}").json().get("sold") == 3, 60, "third sale counted"
        )
        _sell(stack.simulator_url, "etsy", sku)  # the last unit
        wait_until(lambda: live_on(stack.simulator_url, sku) == [], 60, "nothing left live")
        time.sleep(3)  # the readers' overlapping windows report the orders again
        listing = api.get(f"/listings/{sku}").json()
        assert (listing["sold"], listing["oversold"], listing["quantity"]) == (UNITS, 0, 0), listing
        assert listing["status"] == "ended", listing
        events = [e["type"] for e in api.get(f"/listings/{sku}/events").json()]
        assert events.count("listing.sold") == UNITS, events
    print(f"sales through a worker kill and a server restart: {UNITS} sold, lost 0, twice 0")
