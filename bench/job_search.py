"""``python -m bench.job_search`` (``make bench-search``, and the last phase of ``make bench``):
``GET /jobs`` latency with 10 000 jobs in a dev server (issue 16; target p50 under 100 ms).

A dev server of its own on a SQLite file (as ``make run``), the search attributes registered
with ``--search-attribute``, and ``BENCH_SEARCH_JOBS`` (10 000) jobs started the way the gateway
starts them (``start_job_workflow``: memo and search attributes at start). No worker runs:
three in five close two seconds after they start (marked completed), one in five waits for
payment and one in five is marked failed on Etsy, so the selective filter has something to
find (``fill``). The gateway (``create_app``) is called in process over ASGITransport, so a
figure is the route's own time: the app and the lists it sends to Temporal, not a network.
Each case runs ``BENCH_SEARCH_REQUESTS`` (50) times after 5 warm-up requests. Writes
``bench/results/job_search-<UTC stamp>.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.schemas import StartJobRequest
from api.services.jobs import build_job_input, start_job_workflow
from api.services.temporal import Executions
from config.settings import Settings
from domain.job import Job, initial_view
from domain.job_search import JOB_MARKETPLACES, JOB_STATUS, SEARCH_ATTRIBUTES
from domain.memo import JobMemo
from stack.temporal_dev_server import find_temporal_binary
from workflows.job import JobWorkflow

RESULTS = Path(__file__).parent / "results"
ADMIN = {"authorization": "Bearer bench-search"}


def say(message: str) -> None:
    print(f"[bench.search] {message}", flush=True)


def _body(i: int) -> StartJobRequest:
    return StartJobRequest.model_validate(
        {
            "input_data": {
                "sku": f"BENCH{i:06d}",
                "title": "Vintage denim jacket",
                "description": "Levi's trucker jacket, size M, light wash.",
                "price": {"amount": "45.00", "currency": "EUR"},
                "quantity": 1,
                "condition": "good",
                "images": ["https://example.com/a.jpg"],
            },
            "identifier_from_purchaser": f"bench-{i}",
        }
    )


CLOSES_AFTER = timedelta(seconds=2)
"""A closed bench job's run time: started with this execution timeout, it closes on its own."""


async def fill(executions: Executions, settings: Settings, jobs: int) -> None:
    """Three in five jobs close ``CLOSES_AFTER`` after they start (marked completed), one in
    five waits for payment and one in five is marked failed on Etsy (both stay open): most of
    a shop's jobs are closed, and visibility lists open and closed runs apart."""
    slots = asyncio.Semaphore(50)

    async def one(i: int) -> None:
        async with slots:  # stamped as the gateway stamps a job: just before its start
            job_input = build_job_input(
                _body(i), settings, job_id=f"bench-{i:06d}", now=datetime.now(UTC)
            )
            if i % 5 == 1:
                await start_job_workflow(executions, job_input, "bench")
                return
            # As a failed or completed job shows itself (no worker runs to get it there).
            keep = [p for p in Job(job_input, job_input.created_at).search_attributes()]
            keep = [p for p in keep if p.key.name not in (JOB_STATUS.name, JOB_MARKETPLACES.name)]
            failed = i % 5 == 0
            marked = ["ebay", "etsy", "vinted", "etsy:failed"] if failed else ["ebay"]
            attributes = TypedSearchAttributes(
                [
                    *keep,
                    SearchAttributePair(JOB_STATUS, "failed" if failed else "completed"),
                    SearchAttributePair(JOB_MARKETPLACES, marked),
                ]
            )
            await executions.client.start_workflow(
                JobWorkflow.run,
                job_input,
                id=job_input.job_id,
                task_queue="bench-no-worker",
                search_attributes=attributes,
                memo=JobMemo.at_start(initial_view(job_input), None),
                execution_timeout=None if failed else CLOSES_AFTER,
            )

    await asyncio.gather(*(one(i) for i in range(jobs)))


async def visible(env: WorkflowEnvironment, jobs: int) -> None:
    """Visibility catches up with the starts and the closes (it is written asynchronously)."""
    closing = sum(1 for i in range(jobs) if i % 5 > 1)
    for _ in range(600):
        started = await env.client.count_workflows("JobCreatedAt IS NOT NULL")
        closed = await env.client.count_workflows("ExecutionStatus != 'Running'")
        if started.count >= jobs and closed.count >= closing:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("visibility did not show every job within 5 minutes")


async def timed(api: httpx.AsyncClient, params: dict[str, Any], runs: int) -> dict[str, Any]:
    for _ in range(5):
        assert (await api.get("/jobs", params=params, headers=ADMIN)).status_code == 200
    latencies, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = await api.get("/jobs", params=params, headers=ADMIN)
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        rows = len(response.json()["jobs"])
    latencies.sort()
    return {
        "rows": rows,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
        "max_ms": round(latencies[-1], 1),
    }


async def measure(jobs: int, runs: int) -> dict[str, Any]:
    binary = find_temporal_binary()
    assert binary is not None, "temporal CLI not found (make install)"
    with tempfile.TemporaryDirectory() as data:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(binary),
            dev_server_database_filename=str(Path(data) / "temporal.db"),
            data_converter=pydantic_data_converter,
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_log_level="error",
        )
        try:
            settings = Settings(admin_token=ADMIN["authorization"].removeprefix("Bearer "))
            started = time.perf_counter()
            await fill(Executions(env.client, settings), settings, jobs)
            say(f"{jobs} jobs started in {time.perf_counter() - started:.1f} s")
            await visible(env, jobs)
            app = create_app(client=env.client, settings=settings)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://b") as api:
                    return await cases(api, jobs, runs)
        finally:
            await env.shutdown()


async def cases(api: httpx.AsyncClient, jobs: int, runs: int) -> dict[str, Any]:
    first = (await api.get("/jobs", params={"limit": 100}, headers=ADMIN)).json()
    middle = first["jobs"][0]["created_at"]
    token = first["next_page_token"]
    pages = max(1, min(10, jobs // 200))
    for _ in range(pages - 1):  # the token of a page in the middle (the 11th of 10 000)
        token = (
            await api.get("/jobs", params={"limit": 100, "page_token": token}, headers=ADMIN)
        ).json()["next_page_token"]
    plans = {
        "first page (limit 100)": {"limit": 100},
        f"page {pages + 1} (limit 100, page_token)": {"limit": 100, "page_token": token},
        "limit 500": {"limit": 500},
        "status=failed&marketplace=etsy": {"status": "failed", "marketplace": "etsy"},
        "status=awaiting_payment": {"status": "awaiting_payment"},
        "status=completed": {"status": "completed"},
        "sku (one job)": {"sku": f"BENCH{jobs // 2:06d}"},
        "created_before (the oldest)": {"created_before": middle, "limit": 100},
        "no match (sku)": {"sku": "NOSUCHSKU"},
    }
    results = {}
    for name, params in plans.items():
        results[name] = await timed(api, params, runs)
        r = results[name]
        say(f"{name:<36} rows {r['rows']:>3}  p50 {r['p50_ms']:>6} ms  p95 {r['p95_ms']:>6} ms")
    return results


def main() -> int:
    jobs = int(os.environ.get("BENCH_SEARCH_JOBS", "10000"))
    runs = int(os.environ.get("BENCH_SEARCH_REQUESTS", "50"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    cases_ = asyncio.run(measure(jobs, runs))
    p50 = cases_["first page (limit 100)"]["p50_ms"]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"job_search-{stamp}.json"
    path.write_text(json.dumps({"jobs": jobs, "requests": runs, "cases": cases_}, indent=1) + "\n")
    say(f"wrote {path}")
    say(f"get_jobs_p50_ms={p50} target=100 {'met' if p50 < 100 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    code = main()
    os._exit(code)  # temporalio/sdk-python#300: skip interpreter finalisation
