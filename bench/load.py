"""The two ways a job is driven, and the closed loop that drives them.

- ``gateway``: HTTP through the API: ``POST /start_job``, then a signed ``POST /provide_input``
  that waits for the outcome (PROVIDE_INPUT_WAIT; on 202 ``GET /status`` is polled, from every
  50 ms to every second).
- ``raw``: the same JobWorkflow on the same worker and task queue, started (same options and
  memo as the gateway) and signalled with one Temporal client, then ``handle.result()``.

Latency is measured from sending the payment (HTTP request or signal) to seeing the job
completed; any job that does not complete is an error.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from temporalio.client import Client

from api.schemas import StartJobRequest
from api.services.jobs import build_job_input, start_job_workflow
from api.services.temporal import Executions
from config.settings import Settings
from domain.messages import SignedInput
from domain.signatures import decode_signing_secret, sign_hmac, signed_content
from domain.status import JobStatus
from workflows.job import JobWorkflow

TERMINAL = {"completed", "failed", "cancelled"}
STATUS_POLL_SECONDS = 0.05
STATUS_POLL_MAX_SECONDS = 1.0
JOB_DEADLINE_SECONDS = 300.0


def start_job_body() -> dict[str, Any]:
    """A listing with a SKU of its own (one live listing per SKU and marketplace)."""
    return {
        "input_data": {
            "sku": "BENCH" + uuid.uuid4().hex[:16].upper(),
            "title": "Vintage denim jacket",
            "description": "Levi's trucker jacket, size M, light wash.",
            "price": {"amount": "45.00", "currency": "EUR"},
            "quantity": 1,
            "condition": "good",
            "images": ["https://example.com/a.jpg"],
        },
        "identifier_from_purchaser": "bench-" + uuid.uuid4().hex[:8],
        "marketplaces": ["ebay", "etsy", "vinted"],
    }


def payment(job_id: str, key: bytes) -> tuple[dict[str, Any], str]:
    data = {"payment_id": "pay_" + uuid.uuid4().hex[:12], "amount": "45.00", "currency": "EUR"}
    return data, sign_hmac(signed_content(job_id, data), key)


@dataclass
class JobOutcome:
    ok: bool
    job_id: str | None = None
    sku: str | None = None
    start_seconds: float | None = None  # start request / start_workflow
    latency_seconds: float | None = None  # payment sent -> completed seen
    status: str | None = None
    error: str | None = None
    retried: bool = False  # some marketplace needed more than one activity attempt


def _retried(marketplaces: dict[str, Any]) -> bool:
    return any(int(state.get("attempts") or 0) > 1 for state in marketplaces.values())


class JobPath(Protocol):
    name: str

    async def run_job(self) -> JobOutcome: ...


class GatewayPath:
    name = "gateway"

    def __init__(self, http: httpx.AsyncClient, signing_secret: str) -> None:
        self.http = http
        self.key = decode_signing_secret(signing_secret)
        self.extra: dict[str, Any] = {}
        """Fields added to every ``POST /start_job`` body (bench.callbacks: ``callback_url``)."""

    async def run_job(self) -> JobOutcome:
        body = start_job_body() | self.extra
        sku = body["input_data"]["sku"]
        began = time.perf_counter()
        try:
            started = await self.http.post("/start_job", json=body)
        except httpx.HTTPError as err:
            return JobOutcome(False, sku=sku, error=f"start_job: {type(err).__name__}")
        start_seconds = time.perf_counter() - began
        if started.status_code != 201:
            return JobOutcome(False, sku=sku, error=f"start_job: HTTP {started.status_code}")
        job_id = started.json()["job_id"]
        data, signature = payment(job_id, self.key)
        outcome = JobOutcome(False, job_id=job_id, sku=sku, start_seconds=start_seconds)
        sent = time.perf_counter()
        try:
            answer = await self.http.post(
                "/provide_input", json={"job_id": job_id, "data": data, "signature": signature}
            )
            if answer.status_code not in (200, 202):
                outcome.error = f"provide_input: HTTP {answer.status_code}"
                return outcome
            view = answer.json()
            status = view["status"]
            deadline = sent + JOB_DEADLINE_SECONDS
            interval = STATUS_POLL_SECONDS
            # Only after PROVIDE_INPUT_WAIT passed (202): each GET is a status query the worker
            # answers, so the interval grows rather than add load to an overloaded stack.
            while status not in TERMINAL and time.perf_counter() < deadline:
                await asyncio.sleep(interval)
                interval = min(interval * 1.5, STATUS_POLL_MAX_SECONDS)
                polled = await self.http.get(f"/status/{job_id}")
                if polled.status_code == 200:
                    view = polled.json()
                    status = view["status"]
        except httpx.HTTPError as err:
            outcome.error = f"provide_input: {type(err).__name__}"
            return outcome
        outcome.latency_seconds = time.perf_counter() - sent
        outcome.status = status
        outcome.retried = _retried(view.get("marketplaces") or {})
        outcome.ok = status == "completed"
        if not outcome.ok:
            outcome.error = f"job {status}"
        return outcome


class RawPath:
    name = "raw"

    def __init__(self, client: Client, settings: Settings, signing_secret: str) -> None:
        self.client = client
        self.settings = settings
        self.executions = Executions(client, settings)
        self.key = decode_signing_secret(signing_secret)

    async def run_job(self) -> JobOutcome:
        request = StartJobRequest.model_validate(start_job_body())
        sku = request.input_data.sku
        job_id = str(uuid.uuid4())
        job_input = build_job_input(request, self.settings, job_id=job_id, now=datetime.now(UTC))
        began = time.perf_counter()
        try:
            await start_job_workflow(self.executions, job_input, f"publish {sku}")
        except Exception as err:
            return JobOutcome(False, sku=sku, error=f"start_workflow: {type(err).__name__}")
        outcome = JobOutcome(
            False, job_id=job_id, sku=sku, start_seconds=time.perf_counter() - began
        )
        handle = self.client.get_workflow_handle_for(JobWorkflow.run, job_id)
        data, signature = payment(job_id, self.key)
        sent = time.perf_counter()
        try:
            await handle.signal(
                JobWorkflow.provide_input,
                SignedInput(data=data, signature=signature, received_at=datetime.now(UTC)),
            )
            view = await asyncio.wait_for(handle.result(), JOB_DEADLINE_SECONDS)
        except Exception as err:
            outcome.error = f"signal/result: {type(err).__name__}: {err}"[:200]
            return outcome
        outcome.latency_seconds = time.perf_counter() - sent
        outcome.status = view.status.value
        outcome.retried = any(state.attempts > 1 for state in view.marketplaces.values())
        outcome.ok = view.status is JobStatus.COMPLETED
        if not outcome.ok:
            outcome.error = f"job {view.status.value}"
        return outcome


@dataclass
class LoadResult:
    outcomes: list[JobOutcome]
    wall_seconds: float


async def closed_loop(
    path: JobPath,
    concurrency: int,
    jobs: int,
    on_outcome: Callable[[JobOutcome], None] | None = None,
) -> LoadResult:
    """``concurrency`` workers, each running jobs back to back until ``jobs`` have been run.

    Outcomes are kept in the order the jobs finished; ``on_outcome`` sees each as it comes.
    """
    outcomes: list[JobOutcome] = []
    remaining = jobs

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            try:
                outcome = await path.run_job()
            except Exception as err:  # a bug of ours must not stop the others
                outcome = JobOutcome(False, error=f"{type(err).__name__}: {err}"[:200])
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, jobs))))
    return LoadResult(outcomes, time.perf_counter() - began)
