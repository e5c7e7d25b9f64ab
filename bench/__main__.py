"""``python -m bench`` (``make bench``): gateway vs raw Temporal client on the real local stack.

Starts the stack as ``make run`` does (fresh data directory, free ports), counts the requests
each marketplace gets per publish in an empty shop and in one holding 10 000 listings, then for
each concurrency level runs N jobs through each path in a closed loop and records throughput,
latency percentiles, CPU per job and peak RSS of every process. Writes
``bench/results/<UTC stamp>.json`` and ``.png`` (and ``latest.*``), prints a table, and ends
with the line ``ratio_throughput=<gateway/raw jobs/s at c=10> ratio_p50_c1=<gateway/raw p50
at c=1>``. Options: BENCH_* variables, see bench/README.md.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import psutil
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from bench import request_counts
from bench.histories import activity_retries, history_events
from bench.load import GatewayPath, JobPath, RawPath, closed_loop, start_job_body
from bench.profiler import Profiler
from bench.provenance import git_state, machine
from bench.report import phase_result, ratio_line, ratios, save, table
from bench.sales import sales_phase
from bench.sampler import Sampler
from bench.settings import BenchConfig, BenchConfigError
from bench.shop import fill_shops
from bench.simulator import SimulatorControl
from bench.stack import (
    ALL_QUEUES,
    MARKETPLACE_QUEUES,
    WORKER_QUEUES_VARIABLE,
    RunningStack,
    StackError,
    interrupt_on_signals,
    running_stack,
    worker_queue_setting_exists,
)
from config.process import exit_process
from config.settings import Settings, load_settings
from config.temporal import connect
from domain.marketplaces import JOB_TASK_QUEUE
from stack.marketplace_defaults import make_run_marketplace_defaults

PROFILED_LEVEL = 10


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def client_settings(stack: RunningStack) -> Settings:
    """The settings the stack's processes run with, for the raw path's client and job inputs."""
    names: tuple[str, ...] = ("TEMPORAL_ADDRESS", "SIGNING_SECRETS", "EBAY_RATE_LIMIT")
    names += ("ETSY_RATE_LIMIT",)
    names += ("VINTED_RATE_LIMIT", "SIMULATOR_URL")
    return load_settings(**{name.lower(): stack.env[name] for name in names})


def worker_plan(config: BenchConfig) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Environment of the stack's worker and of each extra worker process."""
    if not config.split_queues:
        return {}, [{} for _ in range(config.workers - 1)]
    marketplaces = {WORKER_QUEUES_VARIABLE: " ".join(MARKETPLACE_QUEUES)}
    return {WORKER_QUEUES_VARIABLE: JOB_TASK_QUEUE}, [marketplaces] * (config.workers - 1)


def start_workers(stack: RunningStack, config: BenchConfig, extra: list[dict[str, str]]) -> None:
    for overrides in extra:
        stack.add_worker(overrides)
    expected: dict[int, tuple[str, ...]] = {}
    workers = {n: p for n, p in stack.processes().items() if n.startswith("worker")}
    for name, process in workers.items():
        queues = ALL_QUEUES
        if config.split_queues:
            queues = (JOB_TASK_QUEUE,) if name == "worker" else MARKETPLACE_QUEUES
        expected[process.pid] = queues
    stack.wait_for_pollers(expected)
    say(f"{len(workers)} worker process(es) polling: " + ", ".join(sorted(workers)))


async def run_phases(stack: RunningStack, config: BenchConfig, stamp: str) -> dict[str, Any]:
    settings = client_settings(stack)
    sim = SimulatorControl(stack.simulator_url)
    top = max(config.levels)
    http = httpx.AsyncClient(
        base_url=stack.api_url,
        timeout=httpx.Timeout(90.0),
        limits=httpx.Limits(max_connections=top + 10, max_keepalive_connections=top + 10),
        trust_env=False,
    )
    client = await connect(settings, identity=f"bench@{os.getpid()}")
    paths: dict[str, JobPath] = {
        "raw": RawPath(client, settings, stack.signing_secret),
        "gateway": GatewayPath(http, stack.signing_secret),
    }
    results: list[dict[str, Any]] = []
    profiles: dict[str, str] = {}
    try:
        sim_config = await sim.prepare(config.latency_ms)
        # First, while the worker's caches are cold: their fills show as amortised calls.
        requests = await measure_requests(config, paths["raw"], sim, settings)
        for name in config.paths:
            if config.warmup_jobs:
                warm = await closed_loop(
                    paths[name], min(5, config.warmup_jobs), config.warmup_jobs
                )
                failed = [o.error for o in warm.outcomes if not o.ok]
                say(f"warm-up {name}: {len(warm.outcomes)} jobs, {len(failed)} failed {failed[:3]}")
        for index, level in enumerate(config.levels):
            # Alternate which path goes first, so neither always runs on a warmer stack.
            order = config.paths if index % 2 == 0 else list(reversed(config.paths))
            for name in order:
                results.append(
                    await run_phase(stack, config, paths[name], level, sim, stamp, profiles, client)
                )
        gateway = GatewayPath(http, stack.signing_secret)
        sales = await sales_phase(config, client, settings, gateway, sim, say)
    finally:
        await http.aclose()
        await sim.aclose()
    return {
        "simulator": sim_config,
        "profiles": profiles,
        "results": results,
        "requests": requests,
        "sales": sales,
    }


async def measure_requests(
    config: BenchConfig, path: JobPath, sim: SimulatorControl, settings: Settings
) -> dict[str, Any] | None:
    """Requests per publish per marketplace (``bench.request_counts``): the empty shop, then
    the shop filled with ``config.shop_listings`` listings per marketplace."""
    if not config.request_jobs:
        return None
    images = len(start_job_body()["input_data"]["images"])
    states = [("empty", 0)] + ([("full", config.shop_listings)] if config.shop_listings else [])
    shops = []
    for shop, listings in states:
        fill = None
        held = dict.fromkeys(request_counts.MARKETPLACES, 0)
        if listings:
            await sim.reset(0)
            say(f"filling the shop: {listings} listings per marketplace through their APIs")
            # The worker's eBay token endpoint is the simulator's (make run names it).
            oauth_url = make_run_marketplace_defaults(settings.simulator_url)["EBAY_OAUTH_URL"]
            try:
                fill = await fill_shops(
                    settings.model_copy(update={"ebay_oauth_url": oauth_url}), listings, sim
                )
            except (httpx.HTTPError, ApplicationError, KeyError) as err:
                say(f"could not fill the shop, so it is not measured: {err!r}"[:300])
                shops.append({"shop": shop, "listings_wanted": listings, "fill_error": repr(err)})
                continue
            held = fill.totals()
            say(f"shop filled in {fill.seconds:.0f} s: {fill.listings}")
            await sim.prepare(config.latency_ms)
        else:
            await sim.reset(config.latency_ms)
        began = time.monotonic()
        windows = await request_counts.run_one_at_a_time(path, config.request_jobs)
        summary = request_counts.shop_summary(shop, held, windows, await sim.calls(), images)
        summary["fill"] = fill.as_dict() if fill else None
        summary["seconds"] = round(time.monotonic() - began, 1)
        means = {m: s["per_publish"]["mean"] for m, s in summary["marketplaces"].items()}
        say(
            f"requests per publish, {shop} shop ({summary['completed']} jobs, "
            f"{summary['seconds']:.0f} s): {means}"
        )
        shops.append(summary)
    return {
        "definition": request_counts.__doc__,
        "path": path.name,
        "simulator_latency_ms": config.latency_ms,
        "shops": shops,
    }


async def run_phase(
    stack: RunningStack,
    config: BenchConfig,
    path: JobPath,
    level: int,
    sim: SimulatorControl,
    stamp: str,
    profiles: dict[str, str],
    client: Client,
) -> dict[str, Any]:
    # The simulator's lookups scan every listing it holds: start each phase from none.
    await sim.reset(config.latency_ms)
    stack.check_alive()
    processes = {**stack.processes(), "bench": psutil.Process()}
    profiler = Profiler(config.profile_format)
    profiled = config.profile and path.name == "gateway" and level == PROFILED_LEVEL
    if profiled:
        targets = {n: p for n, p in processes.items() if n in ("worker", "api")}
        profiler.start(targets, config.results_dir / stamp)
    sampler = Sampler(processes)
    sampler.start()
    load = await closed_loop(path, level, config.jobs[level])
    usage = sampler.stop()
    if profiled:
        profiles.update(profiler.stop())
        for name, outcome in profiles.items():
            say(f"profile {name}: {outcome}")
    result = phase_result(path.name, level, load, usage, profiled=profiled)
    result["history_events"] = await history_events(client, load.outcomes)
    result["activity_retries"] = await activity_retries(client, load.outcomes)
    lat = result["latency_ms"]
    say(
        f"{path.name:<8} c={level:<3} {result['jobs']} jobs {result['errors']} errors "
        f"{result['jobs_per_s']:.2f} jobs/s p50 {lat['p50']:.0f} ms p95 {lat['p95']:.0f} ms "
        f"({result['wall_s']:.1f} s)"
    )
    events = result["history_events"] or {}
    if "total" in events:
        say(
            f"{path.name:<8} c={level:<3} history events per job: job {events['job']['mean']} "
            f"+ entity {events['entity']['mean']} = {events['total']['mean']} "
            f"(max {events['total']['max']}; budget {events['budget']}); activity retries "
            f"after a timeout {result['activity_retries']['timeout']}, after an error "
            f"{result['activity_retries']['error']}"
        )
    return result


def main() -> int:
    try:
        config = BenchConfig.from_env()
    except BenchConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        return 2
    if config.split_queues and not worker_queue_setting_exists():
        print(
            "BENCH_SPLIT_QUEUES=1 needs a worker setting that chooses its task queues "
            f"({WORKER_QUEUES_VARIABLE}); this checkout's worker.py has none, so every worker "
            "polls every queue.",
            file=sys.stderr,
        )
        return 2
    if config.profile and (PROFILED_LEVEL not in config.levels or "gateway" not in config.paths):
        say(f"BENCH_PROFILE: no gateway phase at c={PROFILED_LEVEL}, so nothing is profiled")
    interrupt_on_signals()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    began = time.monotonic()
    stack_env, extra_workers = worker_plan(config)
    say(f"starting the stack ({config.workers} worker process(es)); {config.describe()}")
    try:
        with running_stack(
            rate_limit=config.rate_limit, keep_data=config.keep_data, extra_env=stack_env
        ) as stack:
            say(
                f"stack ready: API {stack.api_url}, simulator {stack.simulator_url}, "
                f"Temporal {stack.temporal_address}, log {stack.log_path}"
            )
            start_workers(stack, config, extra_workers)
            outcome = asyncio.run(run_phases(stack, config, stamp))
            say("stopping the stack")
    except StackError as err:
        print(f"[bench] stack failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("[bench] interrupted; the stack was stopped", file=sys.stderr)
        return 130
    results = outcome["results"]
    ratio = ratios(results, config.levels)
    document = {
        "kind": "bench",
        "timestamp": stamp,
        "duration_s": round(time.monotonic() - began, 1),
        "config": config.describe(),
        "simulator": outcome["simulator"],
        "machine": machine(),
        "git": git_state(),
        "results": results,
        "ratios": ratio,
        "profiles": outcome["profiles"],
        "requests_per_publish": outcome["requests"],
        "sale_to_delist": outcome["sales"],
    }
    json_path, png_path = save(document, config.results_dir, stamp)
    print()
    print(table(results))
    print()
    requests = outcome["requests"]
    if requests:
        print(request_counts.table(requests["shops"]))
        print()
    say(
        f"wrote {json_path} and {png_path} (also latest.json, latest.png); "
        f"took {document['duration_s']} s"
    )
    errors = sum(r["errors"] for r in results)
    shops = (requests or {}).get("shops", [])
    errors += sum(s["jobs"] - s["completed"] if "jobs" in s else 1 for s in shops)
    if errors:
        say(f"WARNING: {errors} job(s) did not complete; see error_kinds in {json_path.name}")
    stuck = sum(r["sales"] - r["delisted"] for r in outcome["sales"])
    if stuck:
        say(f"WARNING: {stuck} sold listing(s) not delisted everywhere within the deadline")
        errors += stuck
    print(ratio_line(ratio), flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    exit_process(main())
