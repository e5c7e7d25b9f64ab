"""The benchmark's options, read from BENCH_* environment variables (see bench/README.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS_DIR = REPO_ROOT / "bench" / "results"
PATHS = ("raw", "gateway")

# Jobs measured per (path, concurrency), by concurrency; other levels use FALLBACK_JOBS.
DEFAULT_JOBS = {1: 60, 10: 300, 50: 600}
QUICK_JOBS = {1: 12, 10: 50, 50: 100}
FALLBACK_JOBS = 200
QUICK_FALLBACK_JOBS = 50
# Requests per publish: jobs per shop state (one at a time), and the full shop's listings.
REQUEST_JOBS = 50
QUICK_REQUEST_JOBS = 20
SHOP_LISTINGS = 10_000
# Sale-to-delist (bench/sales.py): rates in sales per second, and sales per rate.
SALE_RATES = "1,50"
SALES_PER_RATE = {1: 10, 50: 150}
QUICK_SALES_PER_RATE = {1: 5, 50: 50}
SALES_INTERVAL = 1


class BenchConfigError(ValueError):
    """A BENCH_* variable the benchmark cannot use; the message names it."""


def int_setting(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchConfigError(f"{name}: {raw!r} is not an integer") from None
    if value < minimum:
        raise BenchConfigError(f"{name}: must be at least {minimum}")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _int_list(environ: Mapping[str, str], name: str, default: str) -> list[int]:
    raw = environ.get(name, "").strip() or default
    try:
        values = [int(part) for part in raw.replace(",", " ").split()]
    except ValueError:
        raise BenchConfigError(f"{name}: {raw!r} is not a list of integers") from None
    if not values or any(v < 1 for v in values):
        raise BenchConfigError(f"{name}: needs at least one value, each at least 1")
    return values


@dataclass(frozen=True)
class BenchConfig:
    quick: bool
    levels: list[int]
    jobs: dict[int, int]
    paths: list[str]
    latency_ms: int
    warmup_jobs: int
    workers: int
    split_queues: bool
    profile: bool
    profile_format: str
    rate_limit: float
    results_dir: Path
    keep_data: bool = False
    request_jobs: int = QUICK_REQUEST_JOBS
    shop_listings: int = SHOP_LISTINGS
    sale_rates: tuple[int, ...] = ()
    sales_per_rate: tuple[tuple[int, int], ...] = ()
    sales_interval: int = SALES_INTERVAL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BenchConfig:
        env = os.environ if environ is None else environ
        quick = _flag(env, "BENCH_QUICK")
        levels = _int_list(env, "BENCH_LEVELS", "1,10,50")
        table, fallback = (
            (QUICK_JOBS, QUICK_FALLBACK_JOBS) if quick else (DEFAULT_JOBS, FALLBACK_JOBS)
        )
        jobs = {level: table.get(level, fallback) for level in levels}
        if env.get("BENCH_JOBS", "").strip():
            given = _int_list(env, "BENCH_JOBS", "")
            if len(given) == 1:
                jobs = {level: given[0] for level in levels}
            elif len(given) == len(levels):
                jobs = dict(zip(levels, given, strict=True))
            else:
                raise BenchConfigError("BENCH_JOBS: one number, or one per BENCH_LEVELS entry")
        paths = [p.strip() for p in env.get("BENCH_PATHS", ",".join(PATHS)).split(",") if p.strip()]
        if not paths or any(p not in PATHS for p in paths):
            raise BenchConfigError(f"BENCH_PATHS: a comma-separated subset of {', '.join(PATHS)}")
        split = _flag(env, "BENCH_SPLIT_QUEUES")
        workers = int_setting(env, "BENCH_WORKERS", 2 if split else 1, minimum=1)
        if split and workers < 2:
            raise BenchConfigError("BENCH_WORKERS: BENCH_SPLIT_QUEUES=1 needs at least 2 workers")
        results_dir = Path(env.get("BENCH_RESULTS_DIR", "").strip() or DEFAULT_RESULTS_DIR)
        # BENCH_SALE_RATES=0: no sales phase.
        no_sales = env.get("BENCH_SALE_RATES", "").strip() == "0"
        rates = [] if no_sales else _int_list(env, "BENCH_SALE_RATES", SALE_RATES)
        sales_table = QUICK_SALES_PER_RATE if quick else SALES_PER_RATE
        return cls(
            quick=quick,
            levels=levels,
            jobs=jobs,
            paths=paths,
            latency_ms=int_setting(env, "BENCH_LATENCY_MS", 50),
            warmup_jobs=int_setting(env, "BENCH_WARMUP", 3 if quick else 5),
            workers=workers,
            split_queues=split,
            profile=_flag(env, "BENCH_PROFILE"),
            profile_format=_profile_format(env),
            rate_limit=float(int_setting(env, "BENCH_RATE_LIMIT", 10_000, minimum=1)),
            results_dir=results_dir,
            keep_data=_flag(env, "BENCH_KEEP_DATA"),
            request_jobs=int_setting(
                env, "BENCH_REQUEST_JOBS", QUICK_REQUEST_JOBS if quick else REQUEST_JOBS
            ),
            shop_listings=int_setting(env, "BENCH_SHOP_LISTINGS", SHOP_LISTINGS),
            sale_rates=tuple(rates),
            sales_per_rate=tuple(
                (rate, int_setting(env, "BENCH_SALES", sales_table.get(rate, 10 * rate), 1))
                for rate in rates
            ),
            sales_interval=int_setting(env, "BENCH_SALES_INTERVAL", SALES_INTERVAL, minimum=1),
        )

    def describe(self) -> dict[str, object]:
        """The options as they go into the results file."""
        return {
            "quick": self.quick,
            "levels": self.levels,
            "jobs_per_level": {str(k): v for k, v in self.jobs.items()},
            "paths": self.paths,
            "simulator_latency_ms": self.latency_ms,
            "warmup_jobs_per_path": self.warmup_jobs,
            "worker_processes": self.workers,
            "split_queues": self.split_queues,
            "profile": self.profile,
            "marketplace_rate_limit_per_s": self.rate_limit,
            "request_count_jobs_per_shop": self.request_jobs,
            "full_shop_listings": self.shop_listings,
            "sale_rates_per_s": list(self.sale_rates),
            "sales_per_rate": {str(rate): n for rate, n in self.sales_per_rate},
            "sales_sync_interval_s": self.sales_interval,
        }


def _profile_format(env: Mapping[str, str]) -> str:
    value = env.get("BENCH_PROFILE_FORMAT", "flamegraph").strip() or "flamegraph"
    if value not in ("flamegraph", "raw", "speedscope"):
        raise BenchConfigError("BENCH_PROFILE_FORMAT: flamegraph, raw or speedscope")
    return value
