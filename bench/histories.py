"""History events per job (issue 13, "Performance"): what one publish costs Temporal.

For a sample of a phase's completed jobs: the events of the job's own history, plus the
entity's share: the events of its SKU's ``ListingWorkflow`` history (each bench job has a SKU
of its own, so the entity's whole history is this job's change), and by event type for both
(memo upserts are ``WORKFLOW_PROPERTIES_MODIFIED``). Budget from the issue: job + entity
share at most 1.3 x 42, the pre-entity job's events in this bench.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError

from bench.load import JobOutcome
from domain.listing_entity import listing_workflow_id

SAMPLE = 20
BASELINE_EVENTS = 42
"""A 3-marketplace publish before listing entities (issue 13)."""
BUDGET = round(BASELINE_EVENTS * 1.3, 1)


async def _events(client: Client, workflow_id: str) -> Counter[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return Counter(_name(event.event_type) for event in history.events)


async def activity_retries(client: Client, outcomes: list[JobOutcome]) -> dict[str, int]:
    """Over every job of a phase: activity attempts after the first, by what ended the one
    before (``ActivityTaskStarted.last_failure``): ``timeout`` (start-to-close or heartbeat:
    under our own load, a worker that took more than it could heartbeat) or ``error``."""
    skus = sorted({str(o.sku) for o in outcomes if o.sku})
    counts = {"timeout": 0, "error": 0}
    gate = asyncio.Semaphore(20)

    async def one(sku: str) -> None:
        async with gate:
            handle = client.get_workflow_handle(listing_workflow_id(sku))
            try:
                history = await handle.fetch_history()
            except RPCError:
                return  # no entity: the job never handed its change over
        for event in history.events:
            started = event.activity_task_started_event_attributes
            if (
                event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                or started.attempt < 2
            ):
                continue
            timed_out = started.last_failure.HasField("timeout_failure_info")
            counts["timeout" if timed_out else "error"] += 1

    await asyncio.gather(*(one(sku) for sku in skus))
    return counts


async def history_events(client: Client, outcomes: list[JobOutcome]) -> dict[str, Any] | None:
    """``{"jobs", "job": {mean, min, max}, "entity": {...}, "total": {...}, "budget",
    "by_type": {"job": {type name: mean}, "entity": {...}}}``; None when no job completed."""
    sample = [o for o in outcomes if o.ok and o.job_id and o.sku][:SAMPLE]
    if not sample:
        return None
    try:
        counted = await asyncio.gather(
            *(
                asyncio.gather(
                    _events(client, str(o.job_id)),
                    _events(client, listing_workflow_id(str(o.sku))),
                )
                for o in sample
            )
        )
    except RPCError as err:
        return {"error": f"{type(err).__name__}: {err}"[:200]}
    jobs = [sum(job.values()) for job, _ in counted]
    entities = [sum(entity.values()) for _, entity in counted]
    totals = [j + e for j, e in zip(jobs, entities, strict=True)]
    return {
        "jobs": len(sample),
        "job": _spread(jobs),
        "entity": _spread(entities),
        "total": _spread(totals),
        "budget": BUDGET,
        "by_type": {
            "job": _by_type([job for job, _ in counted]),
            "entity": _by_type([entity for _, entity in counted]),
        },
    }


def _spread(values: list[int]) -> dict[str, float]:
    return {"mean": round(sum(values) / len(values), 1), "min": min(values), "max": max(values)}


def _by_type(counters: list[Counter[str]]) -> dict[str, float]:
    total: Counter[str] = Counter()
    for counter in counters:
        total.update(counter)
    return {
        kind: round(n / len(counters), 1)
        for kind, n in sorted(total.items(), key=lambda item: -item[1])
    }


def _name(kind: EventType.ValueType) -> str:
    return EventType.Name(kind).removeprefix("EVENT_TYPE_")
