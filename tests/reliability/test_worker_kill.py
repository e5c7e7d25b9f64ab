"""Kill the worker (SIGKILL) while marketplace activities are in flight; nothing is lost or
duplicated. Real processes: dev server, simulator with latency, API, worker.py."""

from __future__ import annotations

import base64
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import start_job_body
from tests.integration.processes import running_stack
from tests.reliability.jobs import (
    assert_one_listing_each,
    marketplace_views,
    pay,
    wait_for_statuses,
)

SECRET = base64.b64encode(os.urandom(32)).decode()
JOBS = 8
KILLS = 3


@pytest.mark.reliability  # ~45 s: out of make test, which CI ran in 540 s of its 600
def test_jobs_survive_repeated_worker_kills_with_one_listing_each(tmp_path: Path):
    env = {
        "SIGNING_SECRETS": f"whsec_{SECRET}",
        # A killed worker's activities stop heartbeating: retried after 2 s, not 30 s.
        "PUBLISH_HEARTBEAT_TIMEOUT": "2",
        "PUBLISH_RETRY_INITIAL_INTERVAL": "0.5",
        "EBAY_RATE_LIMIT": "100",
        "ETSY_RATE_LIMIT": "100",
        "VINTED_RATE_LIMIT": "100",
    }
    with (
        running_stack(tmp_path, env) as stack,
        httpx.Client(base_url=stack.api_url, timeout=30) as api,
    ):
        httpx.post(f"{stack.simulator_url}/__sim/latency", json={"delay_ms": 700})
        bodies = [start_job_body() for _ in range(JOBS)]
        job_ids = [api.post("/start_job", json=b).json()["job_id"] for b in bodies]
        for job_id in job_ids:
            pay(api, job_id, SECRET)
        for _ in range(KILLS):
            time.sleep(1.5)  # activities are in flight: every call takes 0.7 s
            assert stack.stop("worker", signal.SIGKILL) == -signal.SIGKILL
            time.sleep(0.5)
            stack.start_worker()
        statuses = wait_for_statuses(api, job_ids, {"completed"}, within=90)
        attempts = [
            sum(m["attempts"] for m in views.values())
            for views in marketplace_views(api, job_ids).values()
        ]
        assert set(statuses.values()) == {"completed"}, statuses
        # One live listing per (marketplace, SKU), no Etsy drafts, no unpublished eBay offers.
        assert_one_listing_each(stack.simulator_url, [b["input_data"]["sku"] for b in bodies])
    assert sum(attempts) > 3 * JOBS, "the kills really interrupted attempts"
    total = sum(attempts)
    print(f"worker kills survived: {KILLS}; jobs {JOBS}, lost 0, duplicates 0, attempts {total}")
