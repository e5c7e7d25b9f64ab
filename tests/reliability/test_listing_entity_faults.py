"""The listing entity under process faults (issue 13), with real processes: the worker killed
while the entity applies a revise, the dev server restarted while two jobs wait on one SKU.
Nothing is lost, nothing duplicated, and the live listing shows the last job's content."""

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
from tests.reliability.jobs import assert_one_listing_each, pay, publish, wait_for_statuses
from tests.support.simulator import sku_of

SECRET = base64.b64encode(os.urandom(32)).decode()
MARKETPLACES = ("ebay", "etsy", "vinted")
ENV = {
    "SIGNING_SECRETS": f"whsec_{SECRET}",
    "PUBLISH_HEARTBEAT_TIMEOUT": "3",
    "PUBLISH_RETRY_INITIAL_INTERVAL": "0.5",
    "EBAY_RATE_LIMIT": "100",
    "ETSY_RATE_LIMIT": "100",
    "VINTED_RATE_LIMIT": "100",
}


def _titles(simulator_url: str, sku: str) -> dict[str, list[str]]:
    listings = httpx.get(f"{simulator_url}/__sim/listings", timeout=10).json()
    found: dict[str, list[str]] = {}
    for marketplace in MARKETPLACES:
        for entry in listings[marketplace]:
            if sku_of(marketplace, entry) == sku and entry["live"]:
                found.setdefault(marketplace, []).append(entry["title"])
    return found


def _calls(simulator_url: str, operation: str) -> int:
    calls = httpx.get(f"{simulator_url}/__sim/calls", timeout=10).json()
    return sum(call["operation"] == operation for call in calls)


@pytest.mark.reliability
@pytest.mark.timeout(120)
def test_a_worker_killed_while_the_entity_revises_loses_and_duplicates_nothing(tmp_path: Path):
    with (
        running_stack(tmp_path, ENV) as stack,
        httpx.Client(base_url=stack.api_url, timeout=30) as api,
    ):
        first = start_job_body()
        sku = first["input_data"]["sku"]
        job = publish(api, first, SECRET)

        httpx.post(f"{stack.simulator_url}/__sim/latency", json={"delay_ms": 800})
        second = start_job_body()
        second["input_data"].update(sku=sku, title="Revised while the worker died")
        revise = api.post("/start_job", json=second).json()["job_id"]
        pay(api, revise, SECRET)
        wait_until(
            lambda: _calls(stack.simulator_url, "updateOffer") >= 1, 30, "the revise under way"
        )
        assert stack.stop("worker", signal.SIGKILL) == -signal.SIGKILL
        time.sleep(0.5)
        stack.start_worker()
        final = wait_for_statuses(api, [revise], {"completed", "failed"}, within=90)
        httpx.post(f"{stack.simulator_url}/__sim/latency", json={"delay_ms": 0})
        view = api.get(f"/status/{revise}").json()
        assert final[revise] == "completed", view
        assert {s["action"] for s in view["marketplaces"].values()} == {"revised"}, view
        assert_one_listing_each(stack.simulator_url, [sku])
        titles = _titles(stack.simulator_url, sku)
        assert titles == {m: ["Revised while the worker died"] for m in MARKETPLACES}, titles
        listing = api.get(f"/listings/{sku}").json()
        assert listing["job_ids"] == [job, revise], listing
    print("worker killed mid-revise: lost 0, duplicates 0, live content the revise's")


@pytest.mark.reliability
@pytest.mark.timeout(150)
def test_a_server_restart_while_two_jobs_wait_on_one_sku_loses_nothing(tmp_path: Path):
    with (
        running_stack(tmp_path, ENV) as stack,
        httpx.Client(base_url=stack.api_url, timeout=30) as api,
    ):
        httpx.post(f"{stack.simulator_url}/__sim/latency", json={"delay_ms": 600})
        first = start_job_body()
        sku = first["input_data"]["sku"]
        second = start_job_body()
        second["input_data"].update(sku=sku, title="The second job's title")
        jobs = [api.post("/start_job", json=body).json()["job_id"] for body in (first, second)]
        for job_id in jobs:
            pay(api, job_id, SECRET)
        wait_until(lambda: _calls(stack.simulator_url, "createDraftListing") >= 1, 30, "publishing")
        stack.restart_temporal(signal.SIGKILL, lambda: time.sleep(2))
        wait_until(lambda: api.get("/ready").status_code == 200, 30, "api ready after restart")
        final = wait_for_statuses(api, jobs, {"completed", "failed", "cancelled"}, within=100)
        assert set(final.values()) == {"completed"}, final
        assert_one_listing_each(stack.simulator_url, [sku])
        listing = api.get(f"/listings/{sku}").json()
        assert sorted(listing["job_ids"]) == sorted(jobs), listing
        last = listing["job_ids"][-1]
        expected = (first if last == jobs[0] else second)["input_data"]["title"]
        titles = _titles(stack.simulator_url, sku)
        assert titles == {m: [expected] for m in MARKETPLACES}, titles
    print("server restarted while two jobs waited on one SKU: lost 0, duplicates 0")
