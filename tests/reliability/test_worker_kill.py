"""Kill the worker (SIGKILL) while marketplace activities are in flight; nothing is lost or
duplicated. Real processes: dev server, simulator with latency, API, worker.py."""

from __future__ import annotations

import base64
import os
import signal
import time
from collections import Counter
from pathlib import Path

import httpx

from api.signatures import sign_hmac
from domain.signed_content import signed_content
from tests.factories import start_job_body
from tests.integration.processes import running_stack

SECRET = base64.b64encode(os.urandom(32)).decode()
JOBS = 8
KILLS = 3


def _pay(api: httpx.Client, job_id: str) -> None:
    data = {"payment_id": f"pay-{job_id}"}
    signature = sign_hmac(signed_content(job_id, data), base64.b64decode(SECRET))
    response = api.post(
        "/provide_input",
        json={"job_id": job_id, "data": data, "signature": signature},
        headers={"Prefer": "wait=0"},
    )
    assert response.status_code in (200, 202), response.text


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
            _pay(api, job_id)
        for _ in range(KILLS):
            time.sleep(1.5)  # activities are in flight: every call takes 0.7 s
            assert stack.stop("worker", signal.SIGKILL) == -signal.SIGKILL
            time.sleep(0.5)
            stack.start_worker()
        deadline = time.monotonic() + 90
        statuses: dict[str, str] = {}
        while time.monotonic() < deadline:
            statuses = {j: api.get(f"/status/{j}").json()["status"] for j in job_ids}
            if all(s == "completed" for s in statuses.values()):
                break
            time.sleep(1)
        listings = httpx.get(f"{stack.simulator_url}/__sim/listings").json()
        attempts = [
            sum(m["attempts"] for m in api.get(f"/status/{j}").json()["marketplaces"].values())
            for j in job_ids
        ]
    assert set(statuses.values()) == {"completed"}, statuses
    skus = [b["input_data"]["sku"] for b in bodies]
    ebay = Counter(i["sku"] for i in listings["ebay"] if i["status"] == "PUBLISHED")
    etsy = Counter(i["skus"][0] for i in listings["etsy"] if i["state"] == "active" and i["skus"])
    vinted = Counter(i["reference"].split("-")[0] for i in listings["vinted"])
    for counter in (ebay, etsy, vinted):
        assert all(counter[sku] == 1 for sku in skus), counter
    assert not [i for i in listings["etsy"] if i["state"] == "draft"], "no orphan drafts"
    assert not [i for i in listings["ebay"] if i["status"] != "PUBLISHED"], "no stray offers"
    assert sum(attempts) > 3 * JOBS, "the kills really interrupted attempts"
    total = sum(attempts)
    print(f"worker kills survived: {KILLS}; jobs {JOBS}, lost 0, duplicates 0, attempts {total}")
