"""Simulated Vinted UpdateItems and DeleteItems: a live item revised or removed.

Sources (README "Vinted assumptions"):
- ``PUT /api/v1/items {"items": [...]}`` and ``DELETE /api/v1/items {"item_ids": [...]}``,
  batches of at most 100: anicolao/vintage ``VINTED_INTEGRATION.md`` (api.yml v0.355.1),
  rfair404/claude-ebay-prompts-etc ``lib/vinted_client.py`` (``update_items``,
  ``delete_items``), tonyyang0504/platform-mcp ``vinted_pro.json``.
- Both answer 202: the change is processed later (``UPDATE_ITEM_*`` / ``DELETE_ITEM_SUCCESS``
  webhooks). "UpdateItems replaces the whole item" with the same required fields as a create
  (platform-mcp). "Only successfully-listed items can be deleted; IN_PROGRESS ones can't.
  Unknown ids fail silently on Vinted's side (202 regardless)" (claude-ebay-prompts-etc);
  an entry that cannot be applied says ``accepted: false`` with a reason (platform-mcp).

ASSUMPTIONS, each ours: an update entry names the item by ``item_id`` and may not carry
``item_reference``; an update of an unknown (or deleted) item, or of one still IN_PROGRESS
or FAILED, is ``accepted: false`` with ``errors`` (code ``not_found``, ``item_in_progress``,
``item_failed``); an accepted update leaves the item live with its old content and
IN_PROGRESS until processed (``SimConfig.vinted_activation_delay_ms``), and a refused one
(what would fail a create after its 202) keeps the old content; a delete takes effect at once
(GetItemStatus 404, GetItems no longer lists it).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from simulator.errors import vinted_error
from simulator.pipeline import read_json, sim_state
from simulator.vinted import MAX_BATCH, async_failure, item_schema_problems
from simulator.vinted_auth import PREFIX, surface
from simulator.vinted_state import PendingUpdate, VintedItem
from simulator.vinted_webhooks import schedule_item_events

router = APIRouter(prefix=PREFIX)


def _refused(item_id: Any, code: str, message: str) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "accepted": False,
        "errors": [{"code": code, "message": message}],
    }


def _not_updatable(item: VintedItem | None, now: float) -> tuple[str, str] | None:
    """Why this item cannot take an update now (code, message), or None."""
    if item is None or item.deleted:
        return "not_found", "item not found"
    status = item.status(now)
    if status in ("pending", "updating"):
        return "item_in_progress", "the item is still being processed"
    if status == "failed":
        return "item_failed", "the item failed and is not listed"
    if status == "sold":
        return "item_sold", "the item is sold"
    return None


@router.put("/items")
@surface.operation("update_items")
async def update_items(request: Request) -> Response:
    """UpdateItems: 400 when any entry breaks the schema (nothing is changed); else 202 and
    per entry ``accepted`` (true: processed later) or false with the reason."""
    sim = sim_state(request)
    body = await read_json(request)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        return vinted_error(400, "invalid_request", "items must be a non-empty array")
    if len(items) > MAX_BATCH:
        return vinted_error(400, "batch_too_large", f"at most {MAX_BATCH} items per request")
    problems = [
        f"items[{i}].{p}"
        for i, entry in enumerate(items)
        for p in item_schema_problems(entry, update=True)
    ]
    if problems:
        return vinted_error(400, "validation_error", "; ".join(problems))
    now = time.monotonic()
    delay = sim.config.vinted_activation_delay_ms / 1000
    results: list[dict[str, Any]] = []
    for entry in items:
        item_id = entry["item_id"]
        item = sim.vinted.items.get(str(item_id))
        refusal = _not_updatable(item, now)
        if item is None or refusal is not None:
            results.append(_refused(item_id, *(refusal or ("not_found", "item not found"))))
            continue
        fields = {k: v for k, v in entry.items() if k != "item_id"}
        failure = async_failure(fields)
        item.update = PendingUpdate(fields, now + delay, failure)
        event = "UPDATE_ITEM_FAILURE" if failure else "UPDATE_ITEM_SUCCESS"
        schedule_item_events(sim, item, delay, event, failure)
        results.append({"item_id": item.item_id, "accepted": True})
    return JSONResponse({"items": results}, status_code=202)


@router.delete("/items")
@surface.operation("delete_items")
async def delete_items(request: Request) -> Response:
    """DeleteItems: 202, per id ``accepted``; an item still IN_PROGRESS (or sold) is refused,
    an id Vinted does not know is accepted and nothing happens."""
    sim = sim_state(request)
    body = await read_json(request)
    item_ids = body.get("item_ids") if isinstance(body, dict) else None
    if (
        not isinstance(item_ids, list)
        or not item_ids
        or not all(isinstance(i, str) for i in item_ids)
    ):
        return vinted_error(400, "invalid_request", "item_ids must be a non-empty array of ids")
    if len(item_ids) > MAX_BATCH:
        return vinted_error(400, "batch_too_large", f"at most {MAX_BATCH} items per request")
    now = time.monotonic()
    results: list[dict[str, Any]] = []
    for item_id in item_ids:
        item = sim.vinted.items.get(item_id)
        if item is not None and item.status(now) in ("pending", "updating"):
            results.append(
                _refused(item_id, "item_in_progress", "the item is still being processed")
            )
            continue
        if item is not None and item.status(now) == "sold":
            # ASSUMPTION: a sold item has an order: it cannot be deleted.
            results.append(_refused(item_id, "item_sold", "the item is sold"))
            continue
        if item is not None and not item.deleted:
            item.deleted = True
            schedule_item_events(sim, item, 0, "DELETE_ITEM_SUCCESS")
        results.append({"item_id": item_id, "accepted": True})
    return JSONResponse({"items": results}, status_code=202)
