"""``python -m bench.soak`` (``make soak``): many jobs through the full stack, then the damage.

Starts the stack as ``make run`` does (like ``make bench``), pushes SOAK_JOBS jobs through the
gateway (start, signed provide_input, wait for completed) at SOAK_CONCURRENCY, waits for
stragglers, then reports:

- jobs lost: started but not ``completed`` after the drain wait (must be 0);
- duplicate listings: a (marketplace, SKU) with more than one live listing in the simulator,
  and missing ones (a completed job's SKU with no live listing there);
- RSS of every process after the warm-up and at the end, with the growth in %;
- latency per tenth of the run (does it degrade as history piles up in Temporal?).

The jobs run in segments of SOAK_SEGMENT (default 1 000): each segment is drained and its
listings audited, then the simulator is reset. The worker, API and Temporal run on through the
whole soak; only the simulator's state starts again. Without the reset, the Etsy adapter's
recover lookup (Etsy has no filter by SKU: it pages through the shop's listings, 100 a call)
would make the run quadratic in the number of listings, so a 10 000-job soak would measure the
simulator, not the product.

Writes ``bench/results/soak-<UTC stamp>.json``; exit code 1 when a job was lost, a start
request failed, or a listing is duplicated or missing. Options: SOAK_* variables, see
bench/README.md.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.load import TERMINAL, GatewayPath, JobOutcome, closed_loop
from bench.provenance import git_state, machine
from bench.report import percentile, write_json
from bench.sampler import MB, Sampler
from bench.settings import DEFAULT_RESULTS_DIR, BenchConfigError, int_setting
from bench.simulator import SimulatorControl, audit_listings
from bench.stack import RunningStack, StackError, interrupt_on_signals, running_stack
from config.process import exit_process

SHOWN_PROCESSES = ("worker", "api", "temporal", "sim")
MARKETPLACES = ("ebay", "etsy", "vinted")


def say(message: str) -> None:
    print(f"[soak] {message}", flush=True)


@dataclass(frozen=True)
class SoakConfig:
    jobs: int
    concurrency: int
    latency_ms: int
    warmup_jobs: int
    segment_jobs: int
    drain_seconds: int
    rate_limit: float
    results_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SoakConfig:
        env = os.environ if env is None else env
        results = env.get("SOAK_RESULTS_DIR", "").strip() or env.get("BENCH_RESULTS_DIR", "")
        return cls(
            jobs=int_setting(env, "SOAK_JOBS", 10_000, minimum=1),
            concurrency=int_setting(env, "SOAK_CONCURRENCY", 32, minimum=1),
            latency_ms=int_setting(env, "SOAK_LATENCY_MS", 5),
            warmup_jobs=int_setting(env, "SOAK_WARMUP", 20),
            segment_jobs=int_setting(env, "SOAK_SEGMENT", 1_000, minimum=1),
            drain_seconds=int_setting(env, "SOAK_DRAIN_SECONDS", 300),
            rate_limit=float(int_setting(env, "BENCH_RATE_LIMIT", 10_000, minimum=1)),
            results_dir=Path(results.strip() or DEFAULT_RESULTS_DIR),
        )


def rss_snapshot(processes: Mapping[str, psutil.Process]) -> dict[str, float]:
    snapshot: dict[str, float] = {}
    for name, process in processes.items():
        try:
            snapshot[name] = round(process.memory_info().rss / MB, 1)
        except psutil.Error:
            pass
    return snapshot


class Progress:
    """A line every twentieth of the run: jobs done, recent rate and latency, RSS."""

    def __init__(self, total: int, processes: Mapping[str, psutil.Process]) -> None:
        self.total = total
        self.processes = processes
        self.every = max(1, total // 20)
        self.done = 0
        self.failed = 0
        self.window: list[float] = []
        self.window_started = time.monotonic()

    def __call__(self, outcome: JobOutcome) -> None:
        self.done += 1
        self.failed += 0 if outcome.ok else 1
        if outcome.latency_seconds is not None:
            self.window.append(outcome.latency_seconds)
        if self.done % self.every and self.done != self.total:
            return
        elapsed = time.monotonic() - self.window_started
        rate = len(self.window) / elapsed if elapsed else 0.0
        rss = rss_snapshot({n: p for n, p in self.processes.items() if n in SHOWN_PROCESSES})
        say(
            f"{self.done}/{self.total} jobs, {self.failed} not completed; last {len(self.window)}: "
            f"{rate:.1f} jobs/s, p50 {percentile(self.window, 50) * 1000:.0f} ms; RSS MB "
            + " ".join(f"{n}={v:.0f}" for n, v in rss.items())
        )
        self.window = []
        self.window_started = time.monotonic()


async def drain(
    http: httpx.AsyncClient, outcomes: list[JobOutcome], seconds: float
) -> dict[str, str]:
    """Final status of every started job that was not seen completed, polling up to ``seconds``."""
    pending = {o.job_id: o.status or "unknown" for o in outcomes if o.job_id and not o.ok}
    deadline = time.monotonic() + seconds
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            try:
                response = await http.get(f"/status/{job_id}")
            except httpx.HTTPError as err:
                pending[job_id] = f"status: {type(err).__name__}"
                continue
            if response.status_code != 200:
                pending[job_id] = f"status: HTTP {response.status_code}"
                continue
            status = response.json()["status"]
            pending[job_id] = status
            if status == "completed":
                del pending[job_id]
        if pending and all(s in TERMINAL for s in pending.values()):
            break  # failed or cancelled: waiting longer changes nothing
        await asyncio.sleep(2)
    return pending


def by_tenth(outcomes: list[JobOutcome]) -> list[dict[str, Any]]:
    """Latency of the jobs in each tenth of the run, in the order they finished."""
    size = max(1, len(outcomes) // 10)
    rows = []
    for start in range(0, len(outcomes), size):
        chunk = [o.latency_seconds for o in outcomes[start : start + size] if o.ok]
        chunk = [c for c in chunk if c is not None]
        rows.append(
            {
                "jobs": f"{start + 1}-{min(start + size, len(outcomes))}",
                "p50_ms": round(percentile(chunk, 50) * 1000, 1) if chunk else None,
                "p95_ms": round(percentile(chunk, 95) * 1000, 1) if chunk else None,
            }
        )
    return rows


class SoakAudit:
    """Live listings per (marketplace, SKU), added up over the segments of the soak."""

    def __init__(self) -> None:
        self.live = 0
        self.drafts = 0
        self.duplicates: list[Any] = []
        self.missing: list[Any] = []
        self.per_marketplace: dict[str, int] = {}
        self.fetch_seconds = 0.0
        self.last_duplicates = 0
        self.last_missing = 0

    def add(
        self,
        segment: list[JobOutcome],
        lost: Mapping[str, str],
        listings: dict[str, list[dict[str, Any]]],
        fetch_seconds: float,
    ) -> None:
        completed = {o.sku for o in segment if o.job_id and o.job_id not in lost and o.sku}
        audit = audit_listings(listings, {sku: list(MARKETPLACES) for sku in sorted(completed)})
        self.live += audit.live
        self.drafts += audit.drafts
        self.duplicates += audit.duplicates
        self.missing += audit.missing
        self.last_duplicates, self.last_missing = len(audit.duplicates), len(audit.missing)
        for name, entries in listings.items():
            self.per_marketplace[name] = self.per_marketplace.get(name, 0) + len(entries)
        self.fetch_seconds = max(self.fetch_seconds, fetch_seconds)

    def report(self) -> dict[str, Any]:
        return {
            "live": self.live,
            "duplicates": len(self.duplicates),
            "duplicate_examples": self.duplicates[:20],
            "missing": len(self.missing),
            "missing_examples": self.missing[:20],
            "drafts_left": self.drafts,
            "per_marketplace": self.per_marketplace,
            "fetch_seconds": round(self.fetch_seconds, 2),
        }


async def soak(stack: RunningStack, config: SoakConfig) -> dict[str, Any]:
    sim = SimulatorControl(stack.simulator_url)
    http = httpx.AsyncClient(
        base_url=stack.api_url,
        timeout=httpx.Timeout(90.0),
        limits=httpx.Limits(max_connections=config.concurrency + 10),
        trust_env=False,
    )
    path = GatewayPath(http, stack.signing_secret)
    try:
        sim_config = await sim.prepare(config.latency_ms)
        warm = await closed_loop(path, min(config.concurrency, 10), config.warmup_jobs)
        say(f"warm-up: {len(warm.outcomes)} jobs, {sum(not o.ok for o in warm.outcomes)} failed")
        processes = {**stack.processes(), "bench": psutil.Process()}
        rss_start = rss_snapshot(processes)
        sampler = Sampler(processes, interval=1.0, timeline_every=10.0)
        sampler.start()
        progress = Progress(config.jobs, processes)
        outcomes = list(warm.outcomes)
        load_outcomes: list[JobOutcome] = []
        unfinished: dict[str, str] = {}
        audit = SoakAudit()
        wall = 0.0
        segment_start = warm.outcomes
        remaining = config.jobs
        while remaining:
            size = min(config.segment_jobs, remaining)
            load = await closed_loop(path, config.concurrency, size, progress)
            wall += load.wall_seconds
            segment = [*segment_start, *load.outcomes]
            segment_start = []
            lost = await drain(http, segment, config.drain_seconds)
            unfinished.update(lost)
            began = time.monotonic()
            listings = await sim.listings()
            audit.add(segment, lost, listings, time.monotonic() - began)
            outcomes += load.outcomes
            load_outcomes += load.outcomes
            remaining -= size
            say(
                f"segment of {size}: {len(lost)} lost, {audit.last_duplicates} duplicated, "
                f"{audit.last_missing} missing listings; simulator reset"
            )
            if remaining:
                await sim.reset(config.latency_ms)
        usage = sampler.stop()
        rss_end = rss_snapshot(processes)
    finally:
        await http.aclose()
        await sim.aclose()

    started = [o for o in outcomes if o.job_id]
    done = [o for o in load_outcomes if o.ok and o.latency_seconds is not None]
    latencies = [o.latency_seconds for o in done if o.latency_seconds is not None]
    errors: dict[str, int] = {}
    for outcome in outcomes:
        if not outcome.ok:
            errors[outcome.error or "unknown"] = errors.get(outcome.error or "unknown", 0) + 1
    return {
        "simulator": sim_config,
        "jobs_requested": config.jobs + config.warmup_jobs,
        "jobs_started": len(started),
        "start_failures": len(outcomes) - len(started),
        "jobs_lost": len(unfinished),
        "lost_examples": dict(list(unfinished.items())[:20]),
        "not_completed_in_time": len([o for o in outcomes if o.job_id and not o.ok]),
        "retried_jobs": sum(1 for o in outcomes if o.retried),
        "error_kinds": errors,
        "listings": audit.report(),
        "wall_s": round(wall, 1),
        "jobs_per_s": round(len(done) / wall, 2) if wall else 0.0,
        "latency_ms": {
            "p50": round(percentile(latencies, 50) * 1000, 1),
            "p95": round(percentile(latencies, 95) * 1000, 1),
            "p99": round(percentile(latencies, 99) * 1000, 1),
        },
        "latency_by_tenth": by_tenth(load_outcomes),
        "rss_mb": {
            name: {
                "start": rss_start.get(name),
                "end": rss_end.get(name),
                "peak": round(usage.processes[name].peak_rss_mb, 1)
                if name in usage.processes
                else None,
                "growth_pct": round((rss_end[name] - rss_start[name]) / rss_start[name] * 100, 1)
                if rss_start.get(name) and name in rss_end
                else None,
            }
            for name in processes
        },
        "cpu_ms_per_job": {
            name: round(u.cpu_seconds / max(len(load_outcomes), 1) * 1000, 2)
            for name, u in usage.processes.items()
        },
        "other_cpu_s": round(usage.other_cpu_seconds, 1),
        "rss_timeline": usage.timeline,
    }


def summary(document: dict[str, Any]) -> str:
    listings = document["listings"]
    lines = [
        f"jobs: {document['jobs_started']} started, {document['jobs_lost']} lost, "
        f"{document['start_failures']} start failures, {document['retried_jobs']} with a retried "
        f"activity; {document['jobs_per_s']} jobs/s; "
        f"latency p50 {document['latency_ms']['p50']:.0f} ms p95 "
        f"{document['latency_ms']['p95']:.0f} ms",
        f"listings: {listings['live']} live, {listings['duplicates']} duplicated, "
        f"{listings['missing']} missing, {listings['drafts_left']} drafts left "
        f"(per marketplace over all segments: {listings['per_marketplace']})",
        "latency p50 by tenth of the run (ms): "
        + " ".join(f"{row['p50_ms']:.0f}" for row in document["latency_by_tenth"] if row["p50_ms"]),
        "RSS MB (after warm-up -> end, growth):",
    ]
    for name, rss in document["rss_mb"].items():
        growth = "n/a" if rss["growth_pct"] is None else f"{rss['growth_pct']:+.1f} %"
        lines.append(f"  {name:<9} {rss['start']} -> {rss['end']} ({growth}), peak {rss['peak']}")
    return "\n".join(lines)


def main() -> int:
    try:
        config = SoakConfig.from_env()
    except BenchConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        return 2
    interrupt_on_signals()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    began = time.monotonic()
    say(f"starting the stack; {config}")
    try:
        with running_stack(rate_limit=config.rate_limit) as stack:
            say(f"stack ready: API {stack.api_url}, log {stack.log_path}")
            result = asyncio.run(soak(stack, config))
            say("stopping the stack")
    except StackError as err:
        print(f"[soak] stack failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("[soak] interrupted; the stack was stopped", file=sys.stderr)
        return 130
    document = {
        "kind": "soak",
        "timestamp": stamp,
        "duration_s": round(time.monotonic() - began, 1),
        "config": {
            "jobs": config.jobs,
            "concurrency": config.concurrency,
            "simulator_latency_ms": config.latency_ms,
            "warmup_jobs": config.warmup_jobs,
            "segment_jobs": config.segment_jobs,
            "drain_seconds": config.drain_seconds,
            "marketplace_rate_limit_per_s": config.rate_limit,
        },
        "machine": machine(),
        "git": git_state(),
        **result,
    }
    config.results_dir.mkdir(parents=True, exist_ok=True)
    path = config.results_dir / f"soak-{stamp}.json"
    write_json(document, path)
    print(summary(document))
    say(f"wrote {path}; took {document['duration_s']} s")
    bad = (
        document["jobs_lost"]
        + document["start_failures"]
        + document["listings"]["duplicates"]
        + document["listings"]["missing"]
    )
    return 1 if bad else 0


if __name__ == "__main__":
    exit_process(main())
