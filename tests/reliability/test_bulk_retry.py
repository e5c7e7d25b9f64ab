"""A bulk retry survives its worker being killed and the API restarting midway (issue 16,
part 2), driven by the CLI (part 5). Real processes: dev server (search attributes registered
with ``--search-attribute``), simulator, worker.py, ``python -m api``, ``marketplace-jobs``."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import start_job_body
from tests.integration.processes import ROOT, running_stack, wait_until
from tests.reliability.jobs import pay, wait_for_statuses

SECRET = base64.b64encode(os.urandom(32)).decode()
ADMIN_TOKEN = "bulk-" + base64.urlsafe_b64encode(os.urandom(18)).decode()
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}
JOBS = 60


def _failed_on_etsy(api: httpx.Client) -> int:
    params = {"status": "failed", "marketplace": "etsy", "limit": 500}
    return len(api.get("/jobs", params=params, headers=ADMIN).json()["jobs"])


@pytest.mark.reliability
@pytest.mark.timeout(240)
def test_bulk_retry_of_failed_jobs_finishes_through_a_worker_kill_and_an_api_restart(
    tmp_path: Path,
):
    env = {
        "SIGNING_SECRETS": f"whsec_{SECRET}",
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "EBAY_RATE_LIMIT": "100",
        "ETSY_RATE_LIMIT": "100",
        "VINTED_RATE_LIMIT": "100",
        "UPDATE_TIMEOUT": "2",
    }
    with (
        running_stack(tmp_path, env) as stack,
        httpx.Client(base_url=stack.api_url, timeout=30) as api,
    ):
        sim = stack.simulator_url
        # Etsy refuses every listing (400, not retried): each job fails there.
        httpx.post(
            f"{sim}/__sim/faults", json={"marketplace": "etsy", "mode": "validation", "times": 0}
        )
        bodies = [start_job_body(marketplaces=["ebay", "etsy"]) for _ in range(JOBS)]
        job_ids = [api.post("/start_job", json=b).json()["job_id"] for b in bodies]
        for job_id in job_ids:
            pay(api, job_id, SECRET)
        assert set(wait_for_statuses(api, job_ids, {"failed"}, 90).values()) == {"failed"}
        wait_until(lambda: _failed_on_etsy(api) == JOBS, 30, "visibility shows the failures")
        httpx.delete(f"{sim}/__sim/faults")  # Etsy is fixed: a retry now completes

        cli = subprocess.Popen(
            [sys.executable, "-m", "cli", "--api", stack.api_url, "jobs", "retry",
             "--status", "failed", "--marketplace", "etsy", "--reason", "etsy fixed", "--no-tty"],
            cwd=ROOT, env={**stack.env, "ADMIN_TOKEN": ADMIN_TOKEN},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert cli.stdout is not None
        first = cli.stdout.readline()
        assert first.startswith(f"retry of {JOBS} jobs: operation op_"), first
        operation = f"/operations/{first.split()[-1]}"

        stack.stop("worker", signal.SIGKILL)  # at once: mid-operation
        at_kill = api.get(operation, headers=ADMIN).json()
        stack.stop("api")
        time.sleep(2)
        stack.start_api()
        stack.start_worker()

        output = first + cli.communicate(timeout=150)[0]
        assert cli.returncode == 0, output
        done = api.get(operation, headers=ADMIN).json()
        final = wait_for_statuses(api, job_ids, {"completed"}, 90)

    assert set(final.values()) == {"completed"}, final
    assert at_kill["status"] == "running" and at_kill["applied"] < JOBS, at_kill
    assert done["status"] == "completed" and done["matched"] == JOBS, done
    assert done["failed"] == 0, done
    # A retry the killed worker applied without reporting is refused the second time (409):
    # counted skipped, never applied twice.
    assert done["applied"] + done["skipped"] == JOBS, done
    assert f"completed: matched {JOBS}, applied {done['applied']}" in output
