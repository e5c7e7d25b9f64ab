"""Per-marketplace rate limits hold under a burst: counted from the simulator's call log."""

from __future__ import annotations

import base64
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx

from domain.signatures import sign_hmac, signed_content
from tests.factories import start_job_body
from tests.integration.processes import running_stack

SECRET = base64.b64encode(os.urandom(32)).decode()
JOBS = 16
# Each activity starts by looking its listing up, once per activity: eBay's offers by SKU
# (404 for a new SKU; later calls of the same name answer 200), Vinted's items listed to find
# its reference (GetItems, one page for a new seller).
FIRST_CALL = {"ebay": ("get_offers", 404), "vinted": ("list_items", 200)}
LIMITS = {"ebay": 5.0, "vinted": 2.0}


def max_in_window(times: list[datetime], seconds: float) -> int:
    """The most events inside any window of ``seconds``."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while (t - times[start]).total_seconds() >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_a_burst_of_jobs_never_exceeds_the_marketplace_rate_limits(tmp_path: Path):
    """Issue 3: max_task_queue_activities_per_second per marketplace queue (eBay 5/s,
    Vinted 2/s by default), enforced by the server for every worker process.

    Both Temporal limiters (the server's per queue partition, the worker's own) are token
    buckets whose burst equals the rate: in any window of T seconds at most rate * (T + 1)
    activities start, and the sustained rate never exceeds the limit."""
    env = {
        "SIGNING_SECRETS": f"whsec_{SECRET}",
        "EBAY_RATE_LIMIT": str(LIMITS["ebay"]),
        "VINTED_RATE_LIMIT": str(LIMITS["vinted"]),
        "PROVIDE_INPUT_WAIT": "60",
    }
    with (
        running_stack(tmp_path, env) as stack,
        httpx.Client(base_url=stack.api_url, timeout=90) as api,
    ):

        def one_job(_: int) -> str:
            job_id = api.post(
                "/start_job", json=start_job_body(marketplaces=["ebay", "vinted"])
            ).json()["job_id"]
            data = {"payment_id": job_id}
            signature = sign_hmac(signed_content(job_id, data), base64.b64decode(SECRET))
            response = api.post(
                "/provide_input", json={"job_id": job_id, "data": data, "signature": signature}
            )
            return str(response.json()["status"])

        with ThreadPoolExecutor(JOBS) as pool:
            statuses = list(pool.map(one_job, range(JOBS)))
        calls = httpx.get(f"{stack.simulator_url}/__sim/calls").json()

    assert statuses == ["completed"] * JOBS
    for marketplace, (operation, status) in FIRST_CALL.items():
        starts = [
            datetime.fromisoformat(c["at"])
            for c in calls
            if c["marketplace"] == marketplace
            and c["operation"] == operation
            and c["status"] == status
        ]
        assert len(starts) == JOBS, f"{marketplace}: one lookup per job"
        limit = LIMITS[marketplace]
        for window in (1.0, 2.0, 4.0):
            peak = max_in_window(starts, window)
            assert peak <= limit * (window + 1), f"{marketplace}: {peak} starts in {window} s"
        span = (max(starts) - min(starts)).total_seconds()
        assert len(starts) <= limit * (span + 1), f"{marketplace}: {len(starts)} in {span:.2f} s"
