"""Requests per publish per marketplace, counted from the simulator's request log.

The log (``GET /__sim/calls``) names each call's marketplace, operation (official operationIds
for eBay and Etsy, the simulator's names for Vinted), time and status, but not the job: so the
measured jobs run one at a time and each call is given to the job whose window (from starting
it to seeing it completed) holds the call's time. Per job and marketplace the calls are split:

- **per publish**: what the adapter sends for this listing (lookups, writes, activation);
- **status polls**: Vinted's GetItemStatus until the item is active (the target excludes them);
- **amortised**: OAuth token calls and the category / ontology reads each worker caches
  (eBay Metadata and Taxonomy, Vinted GetOntologies): paid once per worker (or token
  lifetime, or cache TTL), not per publish, so reported apart as totals;
- answers 429 stay in the count (they are requests the marketplace counts) and are shown apart.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.load import JobPath

MARKETPLACES = ("ebay", "etsy", "vinted")
IMAGE_HOST = "images"
"""Image downloads of the Etsy adapter go to the simulator's local image source, logged under
this name; they are no marketplace requests and are shown apart."""
AMORTISED = {
    "ebay": frozenset(
        {
            "refresh_token",
            "getItemConditionPolicies",
            "getDefaultCategoryTreeId",
            "getItemAspectsForCategory",
        }
    ),
    "etsy": frozenset({"oauthToken"}),
    "vinted": frozenset({"get_ontologies"}),
}
STATUS_POLLS = {
    "ebay": frozenset[str](),
    "etsy": frozenset[str](),
    "vinted": frozenset({"item_status"}),
}
TARGETS = {"ebay": (4, 0), "etsy": (5, 1), "vinted": (2, 0)}
"""Issue 12: (requests, plus this many per image): eBay <= 4, Etsy <= 5 plus one per image,
Vinted <= 2 plus status polls (polls are counted apart)."""


def target(marketplace: str, images: int) -> int:
    base, per_image = TARGETS[marketplace]
    return base + per_image * images


def target_text(marketplace: str, images: int) -> str:
    base, per_image = TARGETS[marketplace]
    if per_image:
        return f"<= {base}+{images}"
    return f"<= {base}" + (" +polls" if STATUS_POLLS[marketplace] else "")


@dataclass(frozen=True)
class JobWindow:
    sku: str | None
    began: datetime
    ended: datetime
    ok: bool
    error: str | None
    retried: bool


def _now() -> datetime:
    return datetime.now(UTC)


async def run_one_at_a_time(path: JobPath, jobs: int) -> list[JobWindow]:
    """``jobs`` jobs, each started after the last one completed, with their time windows."""
    windows = []
    for _ in range(jobs):
        # The log's times are truncated to the millisecond: so is the window's start.
        began = _now()
        began = began.replace(microsecond=began.microsecond // 1000 * 1000)
        outcome = await path.run_job()
        windows.append(
            JobWindow(outcome.sku, began, _now(), outcome.ok, outcome.error, outcome.retried)
        )
    return windows


def parse_at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class Attribution:
    before: list[dict[str, Any]]  # calls before the first job (the shop's filling)
    per_job: list[list[dict[str, Any]]]
    between: list[dict[str, Any]]  # after the first job began, in no job's window


def attribute(calls: list[dict[str, Any]], windows: list[JobWindow]) -> Attribution:
    """Each call to the job whose window holds its time (windows do not overlap)."""
    starts = [w.began for w in windows]
    result = Attribution([], [[] for _ in windows], [])
    for call in calls:
        at = parse_at(call["at"])
        index = bisect.bisect_right(starts, at) - 1
        if index < 0:
            result.before.append(call)
        elif at <= windows[index].ended:
            result.per_job[index].append(call)
        else:
            result.between.append(call)
    return result


def _stats(values: list[int]) -> dict[str, float]:
    if not values:
        return {"mean": float("nan"), "max": float("nan"), "min": float("nan")}
    return {"mean": round(sum(values) / len(values), 2), "max": max(values), "min": min(values)}


def _by_marketplace(calls: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for call in calls:
        counts.setdefault(call["marketplace"], Counter())[call["operation"]] += 1
    return {m: dict(sorted(c.items())) for m, c in sorted(counts.items())}


def marketplace_summary(
    marketplace: str, jobs: list[list[dict[str, Any]]], images: int
) -> dict[str, Any]:
    """Per publish (mean, max, by operation), status polls and amortised calls of one
    marketplace over the completed jobs' calls."""
    publish: list[int] = []
    polls: list[int] = []
    operations: Counter[str] = Counter()
    amortised: Counter[str] = Counter()
    refused: Counter[str] = Counter()  # "operation status" of answers >= 400
    rate_limited = 0
    for calls in jobs:
        mine = [c for c in calls if c["marketplace"] == marketplace]
        own = [c for c in mine if c["operation"] not in AMORTISED[marketplace]]
        publish.append(sum(1 for c in own if c["operation"] not in STATUS_POLLS[marketplace]))
        polls.append(sum(1 for c in own if c["operation"] in STATUS_POLLS[marketplace]))
        for call in mine:
            bucket = amortised if call["operation"] in AMORTISED[marketplace] else operations
            bucket[call["operation"]] += 1
            status = call.get("status")
            if status == 429:
                rate_limited += 1
            if isinstance(status, int) and status >= 400:
                refused[f"{call['operation']} {status}"] += 1
    count = max(len(jobs), 1)
    goal = target(marketplace, images)
    per_publish = _stats(publish)
    return {
        "per_publish": per_publish,
        "by_operation": {
            op: round(n / count, 2)
            for op, n in sorted(operations.items())
            if op not in STATUS_POLLS[marketplace]
        },
        "status_polls": _stats(polls) if STATUS_POLLS[marketplace] else None,
        "amortised_total": dict(sorted(amortised.items())),
        "rate_limited": rate_limited,
        "answers_4xx_5xx": dict(sorted(refused.items())),
        "target": goal,
        "target_text": target_text(marketplace, images),
        "met": bool(publish) and max(publish) <= goal,
    }


def _holds_own_item(calls: list[dict[str, Any]], sku: str | None) -> bool:
    """Whether a job's calls hold eBay's PUT of its own SKU (the only logged path naming it):
    a check that the time windows gave the job its own calls."""
    path = f"/inventory_item/{sku}"
    return any(c["marketplace"] == "ebay" and c["path"].endswith(path) for c in calls)


def shop_summary(
    shop: str,
    listings_before: dict[str, int],
    windows: list[JobWindow],
    calls: list[dict[str, Any]],
    images: int,
) -> dict[str, Any]:
    """One shop state: every marketplace's figures, plus what fell outside the jobs.
    ``listings_before``: what each marketplace held when the first job started."""
    split = attribute(calls, windows)
    done = [split.per_job[i] for i, w in enumerate(windows) if w.ok]
    downloads = [sum(1 for c in calls if c["marketplace"] == IMAGE_HOST) for calls in done]
    errors = Counter(w.error or "unknown" for w in windows if not w.ok)
    return {
        "shop": shop,
        "listings_before": listings_before,
        "jobs": len(windows),
        "completed": len(done),
        "errors": dict(errors),
        "retried_jobs": sum(1 for w in windows if w.retried),
        "jobs_holding_own_ebay_sku": sum(
            1
            for w, calls in zip(windows, split.per_job, strict=True)
            if w.ok and _holds_own_item(calls, w.sku)
        ),
        "images_per_listing": images,
        "marketplaces": {m: marketplace_summary(m, done, images) for m in MARKETPLACES},
        "image_downloads_per_publish": _stats(downloads),
        "calls_before_jobs": _by_marketplace(split.before),
        "calls_between_jobs": _by_marketplace(split.between),
    }


def _number(value: float) -> str:
    return "-" if value != value else f"{value:g}"  # nan


def table(shops: list[dict[str, Any]]) -> str:
    """marketplace, shop, requests per publish (mean, max), target, met; then polls, 429s and
    the operations behind the mean."""
    head = (
        f"{'marketplace':<12}{'shop':<7}{'listings':>9}{'jobs':>6}{'mean':>8}{'max':>6}"
        f"  {'target':<13}{'met':<5}{'polls mean/max':>15}{'429':>5}   per publish, by operation"
    )
    lines = [
        "requests per publish (jobs one at a time; Vinted status polls, OAuth and cached "
        "category/ontology reads counted apart)",
        head,
        "-" * len(head),
    ]
    measured = [shop for shop in shops if "marketplaces" in shop]
    for shop in measured:
        for name in MARKETPLACES:
            m = shop["marketplaces"][name]
            polls = m["status_polls"]
            poll_text = f"{_number(polls['mean'])}/{_number(polls['max'])}" if polls else "-"
            ops = ", ".join(f"{op} {_number(n)}" for op, n in m["by_operation"].items())
            lines.append(
                f"{name:<12}{shop['shop']:<7}{shop['listings_before'].get(name, 0):>9}"
                f"{shop['completed']:>6}"
                f"{_number(m['per_publish']['mean']):>8}{_number(m['per_publish']['max']):>6}"
                f"  {m['target_text']:<13}{'yes' if m['met'] else 'NO':<5}{poll_text:>15}"
                f"{m['rate_limited']:>5}   {ops}"
            )
    for shop in shops:
        if shop.get("fill_error"):
            lines.append(
                f"{shop['shop']} shop: not measured, filling it failed: {shop['fill_error']}"
            )
            continue
        amortised = "; ".join(
            f"{name} " + ", ".join(f"{op} {n}" for op, n in m["amortised_total"].items())
            for name, m in shop["marketplaces"].items()
            if m["amortised_total"]
        )
        where = f"{shop['shop']} shop ({shop['completed']} jobs)"
        lines.append(f"{where}: amortised, in total: {amortised or 'none'}")
        if shop["jobs"] != shop["completed"]:
            lines.append(f"{shop['shop']} shop: jobs not completed: {shop['errors']}")
        if shop["jobs_holding_own_ebay_sku"] != shop["completed"]:
            lines.append(
                f"{shop['shop']} shop: only {shop['jobs_holding_own_ebay_sku']} jobs' windows hold "
                "the eBay call naming their own SKU: the attribution is off"
            )
        if shop["calls_between_jobs"]:
            lines.append(
                f"{shop['shop']} shop: calls in no job's window: {shop['calls_between_jobs']}"
            )
    return "\n".join(lines)
