"""``python -m bench.callbacks`` (a phase of ``make bench``): what completion callbacks cost a job
(issue 16).

On a stack of its own (as ``make run``, with ``CALLBACK_SIGNING_SECRET`` set and
``CALLBACK_ALLOW_HTTP`` / ``CALLBACK_ALLOW_PRIVATE`` so the worker may call a receiver on this
machine), ``BENCH_CALLBACK_JOBS`` (60) jobs run through the gateway at concurrency 10 without a
``callback_url``, then as many with one pointing to a receiver in this process, which verifies
every POST with the ``standardwebhooks`` library and answers 204. Reported for each run: jobs
per second and p50 latency (payment to ``completed`` seen by ``GET /status``), history events
of the job workflow per job (the entity's do not change), and for the callbacks: deliveries
received and verified, attempts per event, and the delay from the event's ``timestamp`` (the
workflow's time of the status) to its arrival, p50 / p95 / max. Writes
``bench/results/callbacks-<UTC stamp>.json``; exit 1 when an event was not delivered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from temporalio.client import Client

from bench.histories import history_events
from bench.load import GatewayPath, closed_loop
from bench.report import percentile
from bench.settings import BenchConfig, BenchConfigError
from bench.stack import RunningStack, StackError, interrupt_on_signals, running_stack
from config.process import exit_process
from config.temporal import connect
from domain.signatures import new_signing_secret

CONCURRENCY = 10
DELIVERY_WAIT_SECONDS = 60.0
"""After the last job completed, how long the receiver waits for the last deliveries."""


class Receiver:
    """The shop's end: verifies each POST with ``standardwebhooks`` and notes its arrival."""

    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)
        self.arrivals: dict[str, list[float]] = {}
        """webhook-id → arrival times (wall clock, seconds), one per POST."""
        self.delays: list[float] = []
        """Seconds from the event's ``timestamp`` to its first arrival."""
        self.rejected = 0
        self.expected = 0
        self.all_in = asyncio.Event()

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        arrived = time.time()
        try:
            payload = self.webhook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.rejected += 1
            return Response(status_code=400)
        webhook_id = request.headers["webhook-id"]
        if webhook_id not in self.arrivals:
            at = datetime.fromisoformat(payload["timestamp"]).timestamp()
            self.delays.append(arrived - at)
        self.arrivals.setdefault(webhook_id, []).append(arrived)
        if self.expected and len(self.arrivals) >= self.expected:
            self.all_in.set()
        return Response(status_code=204)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class CallbackPath(GatewayPath):
    """The gateway path with ``callback_url`` on every ``POST /start_job``."""

    def __init__(self, http: httpx.AsyncClient, signing_secret: str, url: str) -> None:
        super().__init__(http, signing_secret)
        self.extra = {"callback_url": url}


async def _run(path: GatewayPath, jobs: int, client: Client) -> dict[str, Any]:
    load = await closed_loop(path, CONCURRENCY, jobs)
    done = [o for o in load.outcomes if o.ok]
    latencies = [o.latency_seconds for o in done if o.latency_seconds is not None]
    events = await history_events(client, load.outcomes) or {}
    return {
        "jobs": jobs,
        "completed": len(done),
        "jobs_per_s": round(len(done) / load.wall_seconds, 2) if load.wall_seconds else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "job_history_events": events.get("job"),
        "job_events_by_type": (events.get("by_type") or {}).get("job"),
    }


async def measure(stack: RunningStack, secret: str, jobs: int) -> dict[str, Any]:
    receiver = Receiver(secret)
    port = _free_port()
    app = Starlette(routes=[Route("/callback", receiver.receive, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    client = await connect(_client_settings(stack), identity=f"bench-callbacks@{os.getpid()}")
    http = httpx.AsyncClient(base_url=stack.api_url, timeout=90, trust_env=False)
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn has no event for it)
            await asyncio.sleep(0.05)
        plain = GatewayPath(http, stack.signing_secret)
        await closed_loop(plain, 5, 5)  # warm-up
        without = await _run(plain, jobs, client)
        say(f"without callbacks: {without['jobs_per_s']} jobs/s, p50 {without['p50_ms']} ms")
        url = f"http://127.0.0.1:{port}/callback"
        with_callbacks = await _run(CallbackPath(http, stack.signing_secret, url), jobs, client)
        receiver.expected = with_callbacks["completed"]
        if len(receiver.arrivals) < receiver.expected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(receiver.all_in.wait(), DELIVERY_WAIT_SECONDS)
        say(
            f"with callbacks: {with_callbacks['jobs_per_s']} jobs/s, "
            f"p50 {with_callbacks['p50_ms']} ms"
        )
    finally:
        await http.aclose()
        server.should_exit = True
        await serving
    attempts = [len(times) for times in receiver.arrivals.values()]
    delivery: dict[str, Any] = {
        "events": len(receiver.arrivals),
        "verified_posts": sum(attempts),
        "rejected_posts": receiver.rejected,
        "attempts_per_event_max": max(attempts, default=0),
        "delay_ms": {
            name: round(percentile(receiver.delays, q) * 1000, 1)
            for name, q in (("p50", 50), ("p95", 95), ("max", 100))
        },
    }
    extra_events = _mean(with_callbacks) - _mean(without)
    say(
        f"callbacks: {delivery['events']} events delivered to {with_callbacks['completed']} "
        f"completed jobs ({delivery['verified_posts']} verified POSTs, "
        f"{delivery['rejected_posts']} rejected); event to arrival p50 "
        f"{delivery['delay_ms']['p50']} ms p95 {delivery['delay_ms']['p95']} ms max "
        f"{delivery['delay_ms']['max']} ms; job history +{extra_events:.1f} events per job"
    )
    return {
        "without": without,
        "with": with_callbacks,
        "delivery": delivery,
        "extra_job_events_per_job": round(extra_events, 1),
        "definition": __doc__,
    }


def _mean(run: dict[str, Any]) -> float:
    return float((run.get("job_history_events") or {}).get("mean", float("nan")))


def _client_settings(stack: RunningStack) -> Any:
    from bench.__main__ import client_settings  # the bench's one definition

    return client_settings(stack)


def say(message: str) -> None:
    print(f"[bench.callbacks] {message}", flush=True)


def callback_env(secret: str) -> dict[str, str]:
    """What the stack needs to call a receiver on this machine over plain HTTP."""
    return {
        "CALLBACK_SIGNING_SECRET": secret,
        "CALLBACK_ALLOW_HTTP": "true",
        "CALLBACK_ALLOW_PRIVATE": "true",
    }


def main() -> int:
    jobs = int(os.environ.get("BENCH_CALLBACK_JOBS", "60"))
    interrupt_on_signals()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    secret = new_signing_secret()
    try:
        config = BenchConfig.from_env()
        with running_stack(rate_limit=config.rate_limit, extra_env=callback_env(secret)) as stack:
            result = asyncio.run(measure(stack, secret, jobs))
    except BenchConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        return 2
    except StackError as err:
        print(f"[bench.callbacks] stack failed: {err}", file=sys.stderr)
        return 1
    results = os.path.join(os.path.dirname(__file__), "results")
    os.makedirs(results, exist_ok=True)
    path = os.path.join(results, f"callbacks-{stamp}.json")
    with open(path, "w") as out:
        json.dump({"kind": "callbacks", "timestamp": stamp, **result}, out, indent=1)
    say(f"wrote {path}")
    delivered = result["delivery"]
    once = delivered["events"] == result["with"]["completed"] and not delivered["rejected_posts"]
    return 0 if once else 1


if __name__ == "__main__":
    exit_process(main())
