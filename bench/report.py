"""Results of a benchmark run: per-phase figures, the JSON file, the plot, the table."""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.load import LoadResult
from bench.sampler import PhaseUsage

PROCESS_ORDER = ("worker", "api", "temporal", "sim", "stack", "bench")


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ms(values: Sequence[float]) -> dict[str, float]:
    return {
        name: round(percentile(values, q) * 1000, 1)
        for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
    } | {"mean": round(sum(values) / len(values) * 1000, 1) if values else math.nan}


def phase_result(
    path: str, concurrency: int, load: LoadResult, usage: PhaseUsage, *, profiled: bool = False
) -> dict[str, Any]:
    """One (path, concurrency) phase as it goes into the results file."""
    done = [o for o in load.outcomes if o.ok]
    errors = [o for o in load.outcomes if not o.ok]
    jobs = len(load.outcomes)
    per_job = max(jobs, 1)
    samples: dict[str, int] = {}
    for outcome in errors:
        key = outcome.error or "unknown"
        samples[key] = samples.get(key, 0) + 1
    return {
        "path": path,
        "concurrency": concurrency,
        "jobs": jobs,
        "completed": len(done),
        "errors": len(errors),
        "error_kinds": samples,
        # Jobs where an activity needed a second attempt: a retry after a heartbeat timeout
        # (30 s) shows up as one slow job that can hold up the end of a short phase.
        "retried_jobs": sum(1 for o in load.outcomes if o.retried),
        "wall_s": round(load.wall_seconds, 3),
        "jobs_per_s": round(len(done) / load.wall_seconds, 3) if load.wall_seconds else 0.0,
        "latency_ms": _ms([o.latency_seconds for o in done if o.latency_seconds is not None]),
        "start_ms": _ms([o.start_seconds for o in done if o.start_seconds is not None]),
        "cpu_ms_per_job": {
            name: round(u.cpu_seconds / per_job * 1000, 2) for name, u in usage.processes.items()
        },
        "processes": {name: u.as_dict() for name, u in usage.processes.items()},
        "machine_busy_cpu_s": round(usage.machine_busy_seconds, 2),
        "other_cpu_s": round(usage.other_cpu_seconds, 2),
        "profiled": profiled,
    }


def _find(results: list[dict[str, Any]], path: str, level: int) -> dict[str, Any] | None:
    return next((r for r in results if r["path"] == path and r["concurrency"] == level), None)


def _ratio(a: float | None, b: float | None) -> float:
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b


def ratios(results: list[dict[str, Any]], levels: Sequence[int]) -> dict[str, Any]:
    """gateway / raw per level: throughput, p50, p95, CPU of every process per job."""
    per_level: dict[str, Any] = {}
    for level in levels:
        gateway, raw = _find(results, "gateway", level), _find(results, "raw", level)
        if gateway is None or raw is None:
            continue
        cpu_gateway = sum(gateway["cpu_ms_per_job"].get(p, 0.0) for p in PROCESS_ORDER[:5])
        cpu_raw = sum(raw["cpu_ms_per_job"].get(p, 0.0) for p in PROCESS_ORDER[:5])
        per_level[str(level)] = {
            "throughput": _ratio(gateway["jobs_per_s"], raw["jobs_per_s"]),
            "p50": _ratio(gateway["latency_ms"]["p50"], raw["latency_ms"]["p50"]),
            "p95": _ratio(gateway["latency_ms"]["p95"], raw["latency_ms"]["p95"]),
            "stack_cpu_per_job": _ratio(cpu_gateway, cpu_raw),
        }
    return {
        "definition": "gateway / raw; stack_cpu_per_job sums worker, api, temporal, sim, stack",
        "throughput_c10": per_level.get("10", {}).get("throughput", math.nan),
        "p50_c1": per_level.get("1", {}).get("p50", math.nan),
        "per_level": {
            level: {k: _round(v) for k, v in values.items()} for level, values in per_level.items()
        },
    }


def _round(value: float) -> float:
    return value if math.isnan(value) else round(value, 3)


def _write_atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def write_json(document: dict[str, Any], path: Path) -> None:
    def write(tmp: Path) -> None:
        # nan is not JSON: null instead.
        text = json.dumps(_no_nan(document), indent=2, sort_keys=False)
        tmp.write_text(text + "\n", encoding="utf-8")

    _write_atomic(path, write)


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


def write_plot(results: list[dict[str, Any]], config: dict[str, Any], path: Path) -> None:
    """p50 (solid) and p95 (dashed) latency against throughput, a point per concurrency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    colors = {"raw": "tab:blue", "gateway": "tab:orange"}
    for path_name in ("raw", "gateway"):
        rows = sorted(
            (r for r in results if r["path"] == path_name), key=lambda r: r["concurrency"]
        )
        if not rows:
            continue
        x = [r["jobs_per_s"] for r in rows]
        p50 = [r["latency_ms"]["p50"] for r in rows]
        p95 = [r["latency_ms"]["p95"] for r in rows]
        color = colors[path_name]
        ax.plot(x, p50, "o-", color=color, label=f"{path_name} p50")
        ax.plot(x, p95, "s--", color=color, alpha=0.6, label=f"{path_name} p95")
        # raw's labels below its points, the gateway's above: at c=1 the two nearly meet.
        offset = (6, -12) if path_name == "raw" else (6, 6)
        for row, xi, yi in zip(rows, x, p50, strict=True):
            label = f"c={row['concurrency']}" + (f" ({row['errors']} err)" if row["errors"] else "")
            ax.annotate(
                label, (xi, yi), textcoords="offset points", xytext=offset, fontsize=8, color=color
            )
    ax.set_xlabel("throughput (completed jobs/s)")
    ax.set_ylabel("latency, payment -> completed (ms, log scale)")
    ax.set_title(
        f"Marketplace Jobs: gateway vs raw Temporal client "
        f"(simulator latency {config['simulator_latency_ms']} ms)",
        fontsize=10,
    )
    # Latency spans from one job's own time (c=1) to queueing behind 50 (log scale shows both).
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.grid(True, which="both", alpha=0.3)
    ax.set_xlim(left=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)


def save(document: dict[str, Any], results_dir: Path, stamp: str) -> tuple[Path, Path]:
    """``<stamp>.json`` and ``<stamp>.png``, copied to ``latest.json`` / ``latest.png``."""
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path = results_dir / f"{stamp}.json"
    png_path = results_dir / f"{stamp}.png"
    write_json(document, json_path)
    write_plot(document["results"], document["config"], png_path)
    shutil.copyfile(json_path, results_dir / "latest.json")
    shutil.copyfile(png_path, results_dir / "latest.png")
    return json_path, png_path


def table(results: list[dict[str, Any]]) -> str:
    """One line per phase: throughput, latency, CPU ms per job and peak RSS per process."""
    names = [p for p in PROCESS_ORDER if any(p in r["cpu_ms_per_job"] for r in results)]
    extra = sorted({n for r in results for n in r["cpu_ms_per_job"]} - set(names))
    names += extra
    head = f"{'path':<8}{'c':>4}{'jobs':>6}{'err':>5}{'rtry':>5}{'jobs/s':>8}"
    head += f"{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}"
    head += "".join(f"{n[:8]:>9}" for n in names) + f"{'other':>7}   peak RSS MB"
    lines = [
        "latency in ms (payment -> completed); rtry: jobs with a retried activity; CPU in ms "
        "per job per process; other: cores busy with processes not ours during the phase (noise)",
        head,
        "-" * len(head),
    ]
    for r in results:
        lat = r["latency_ms"]
        line = (
            f"{r['path']:<8}{r['concurrency']:>4}{r['jobs']:>6}{r['errors']:>5}"
            f"{r['retried_jobs']:>5}{r['jobs_per_s']:>8.2f}{lat['p50']:>8.0f}{lat['p95']:>8.0f}"
            f"{lat['p99']:>8.0f}{lat['max']:>8.0f}"
        )
        line += "".join(f"{r['cpu_ms_per_job'].get(n, math.nan):>9.1f}" for n in names)
        line += f"{r['other_cpu_s'] / r['wall_s'] if r['wall_s'] else 0.0:>7.2f}"
        rss = " ".join(
            f"{n}={r['processes'][n]['peak_rss_mb']:.0f}" for n in names if n in r["processes"]
        )
        lines.append(f"{line}   {rss}")
    return "\n".join(lines)


def ratio_line(ratio: dict[str, Any]) -> str:
    """The last line ``make bench`` prints."""
    return f"ratio_throughput={ratio['throughput_c10']:.2f} ratio_p50_c1={ratio['p50_c1']:.2f}"
