"""Simulated Vinted Pro Integrations items API: CreateItems, GetItems, GetItemStatus, ontologies
(UpdateItems and DeleteItems: ``simulator.vinted_changes``).

Vinted publishes no OpenAPI document; each rule below names its source, and README
"Vinted assumptions" lists them all. The main ones:
- ``POST /api/v1/items {"items": [...]}`` (at most 100) answers 202 with one entry per item
  (``item_id`` a UUID, ``item_reference``); the outcome comes later (GetItemStatus, webhooks):
  anicolao/vintage ``VINTED_INTEGRATION.md`` (api.yml v0.355.1), samicodesit/quick-vint-api
  ``items.ts`` (api.yml v0.360.0).
- The item schema: ``item_reference`` (at most 64 characters, quick-vint-api), ``is_draft``,
  ``brand`` text, ``catalog_id``, ``package_size_id``, ``currency`` (EUR or GBP), ``price``,
  ``title`` (5-100), ``description`` (5-2000), ``photo_urls`` (1-20, https):
  anicolao/vintage and quick-vint-api; tonyyang0504/platform-mcp ``vinted_pro.json`` lists
  the same required fields.
- ``item_reference`` is NOT an idempotency key: anicolao/vintage ("Do not assume
  item_reference is a provider idempotency key"). Posting the same reference twice makes two
  items, so a lost 202 that is blindly re-sent duplicates the item.
- ``GET /api/v1/items?limit=&after_item_id=`` lists the items created through the API (ids,
  references, status): anicolao/vintage; paging as in quick-vint-api ``findByReference``
  (``limit=250``) and claude-ebay-prompts-etc ``list_items``.
- ``GET /api/v1/items/{item_id}/status``: quick-vint-api ``getItemStatus`` (``ACTIVE``).
- A CreateItems request needing more free slots than are left is rejected in full:
  pro-docs.svc.vinted.com "Slot system" (500 slots to start).
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplace_limits import (
    VINTED_CURRENCIES,
    VINTED_DESCRIPTION_LENGTH,
    VINTED_MINIMUM_PRICE,
    VINTED_PHOTOS,
    VINTED_TITLE_LENGTH,
)
from simulator.errors import vinted_error
from simulator.pipeline import read_json, sim_state
from simulator.vinted_auth import PREFIX, surface
from simulator.vinted_ontology import ontology_document, ontology_failure
from simulator.vinted_state import VintedItem
from simulator.vinted_webhooks import schedule_item_events

MAX_BATCH = 100
MAX_PAGE = 250
"""ASSUMPTION: the largest ``limit`` GetItems takes (quick-vint-api pages with 250)."""

API_STATUS = {
    "pending": "IN_PROGRESS",
    "updating": "IN_PROGRESS",
    "active": "ACTIVE",
    "failed": "FAILED",
    "sold": "SOLD",
}
"""ASSUMPTION: item statuses. ``ACTIVE``: quick-vint-api ``reconcile.ts``; ``IN_PROGRESS``:
platform-mcp ``vinted_pro.json`` (an item "still IN_PROGRESS"); ``FAILED`` and ``SOLD`` are
ours. An item whose update is being processed is IN_PROGRESS too (ours)."""

CURRENCIES = frozenset(VINTED_CURRENCIES)
TEXT_LIMITS = {
    "item_reference": (1, 64),
    "title": VINTED_TITLE_LENGTH,
    "description": VINTED_DESCRIPTION_LENGTH,
}
"""The item limits, from the table the gateway and the adapter check (domain.marketplace_limits,
with their sources)."""
REQUIRED = (
    "item_reference",
    "title",
    "description",
    "price",
    "currency",
    "catalog_id",
    "package_size_id",
    "brand",
    "photo_urls",
    "is_draft",
)
OPTIONAL = ("size_id", "color_ids", "item_attributes", "status_id")
"""``status_id`` is deprecated for writes (anicolao/vintage) but still accepted."""

router = APIRouter(prefix=PREFIX)


UPDATE_REQUIRED = ("item_id", *(name for name in REQUIRED if name != "item_reference"))
"""An UpdateItems entry: the item's id and the whole item (platform-mcp ``vinted_pro.json``:
"UpdateItems replaces the whole item", the same required fields). ASSUMPTION: the entry
names the item by ``item_id`` and carries no ``item_reference``."""


def item_schema_problems(item: Any, *, update: bool = False) -> list[str]:
    """What the request schema rejects in one CreateItems (or UpdateItems) entry:
    ``field: reason`` each.

    ASSUMPTION: fields outside the sources' schema are rejected too (stricter than a lenient
    server could be: the adapter must send only documented fields)."""
    if not isinstance(item, dict):
        return ["item must be an object"]
    required = UPDATE_REQUIRED if update else REQUIRED
    problems = [f"{name}: required" for name in required if item.get(name) in (None, "")]
    problems += [f"{name}: unknown field" for name in item if name not in required + OPTIONAL]
    for name, (low, high) in TEXT_LIMITS.items():
        value = item.get(name)
        if value not in (None, "") and not (isinstance(value, str) and low <= len(value) <= high):
            problems.append(f"{name}: must be {low}-{high} characters")
    price = item.get("price")
    if price is not None and (isinstance(price, bool) or not isinstance(price, int | float)):
        problems.append("price: must be a number")
    if item.get("currency") not in (None, "") and item["currency"] not in CURRENCIES:
        problems.append(f"currency: must be one of {', '.join(sorted(CURRENCIES))}")
    for name in ("catalog_id", "package_size_id", "size_id", "status_id"):
        value = item.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"{name}: must be an integer")
    brand = item.get("brand")
    if brand not in (None, "") and not isinstance(brand, str):
        problems.append("brand: must be text")
    photos = item.get("photo_urls")
    low, high = VINTED_PHOTOS
    if photos is not None and not (
        isinstance(photos, list)
        and low <= len(photos) <= high
        and all(isinstance(url, str) and url.startswith("https://") for url in photos)
    ):
        problems.append(f"photo_urls: {low}-{high} https URLs")
    if item.get("is_draft") is not None and not isinstance(item["is_draft"], bool):
        problems.append("is_draft: must be a boolean")
    return problems


def async_failure(item: dict[str, Any]) -> str | None:
    """Why Vinted fails an accepted item (status FAILED, CREATE_ITEM_FAILURE), or None.

    ASSUMPTION: a price under 1 (quick-vint-api ``validateItemInput``) fails after the 202."""
    if Decimal(str(item["price"])) < VINTED_MINIMUM_PRICE:
        return f"price is below the minimum of {VINTED_MINIMUM_PRICE}"
    return ontology_failure(item)


def item_view(item: VintedItem, now: float, *, full: bool = True) -> dict[str, Any]:
    status = API_STATUS[item.status(now)]
    view: dict[str, Any] = {
        "item_id": item.item_id,
        "item_reference": item.reference,
        "status": status,
    }
    if full and status == "ACTIVE":
        view["url"] = item.url  # ASSUMPTION: the status names the public URL once active
    if status == "FAILED":
        view["errors"] = [{"code": "item_rejected", "message": item.failure}]
    elif status == "ACTIVE" and item.update_failure and full:
        # ASSUMPTION: a refused update leaves the item live as it was, and its status says
        # why (the UPDATE_ITEM_FAILURE reason) until the next update is processed.
        view["errors"] = [{"code": "update_rejected", "message": item.update_failure}]
    return view


@router.post("/items")
@surface.operation("create_items")
async def create_items(request: Request) -> Response:
    """CreateItems: 400 when any item breaks the schema (nothing is created); 422 when the
    batch needs more free slots than are left; else 202 and one new item per entry.

    ASSUMPTIONS: a schema error refuses the whole request with 400 (sources give the schema,
    not the status); the slot refusal is 422 ``insufficient_slots`` (the docs say only that
    the whole request is rejected)."""
    sim = sim_state(request)
    body = await read_json(request)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        return vinted_error(400, "invalid_request", "items must be a non-empty array")
    if len(items) > MAX_BATCH:
        return vinted_error(400, "batch_too_large", f"at most {MAX_BATCH} items per request")
    problems = [
        f"items[{i}].{p}" for i, item in enumerate(items) for p in item_schema_problems(item)
    ]
    if problems:
        return vinted_error(400, "validation_error", "; ".join(problems))
    try:
        for item in items:
            Decimal(str(item["price"]))
    except InvalidOperation:
        return vinted_error(400, "validation_error", "price: must be a number")
    now = time.monotonic()
    used = sum(1 for i in sim.vinted.live_items() if i.status(now) not in ("failed", "sold"))
    if used + len(items) > sim.config.vinted_slots:
        free = max(0, sim.config.vinted_slots - used)
        return vinted_error(
            422, "insufficient_slots", f"{len(items)} items need slots; {free} are free"
        )
    delay = sim.config.vinted_activation_delay_ms / 1000
    results: list[dict[str, Any]] = []
    for raw in items:
        item = sim.vinted.new_item(raw["item_reference"], raw, now + delay, async_failure(raw))
        schedule_item_events(sim, item, delay)
        results.append(
            {"item_id": item.item_id, "item_reference": item.reference, "accepted": True}
        )
    return JSONResponse({"items": results}, status_code=202)


@router.get("/items")
@surface.operation("list_items")
async def list_items(request: Request) -> Response:
    """GetItems: the seller's API items in creation order, ``limit`` at a time after
    ``after_item_id``."""
    sim = sim_state(request)
    raw_limit = request.query_params.get("limit", str(MAX_PAGE))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
        return vinted_error(400, "invalid_request", f"limit must be 1-{MAX_PAGE}")
    items = list(sim.vinted.items.values())
    after = request.query_params.get("after_item_id")
    if after is not None:
        ids = [item.item_id for item in items]
        if after not in ids:
            return vinted_error(400, "invalid_request", "after_item_id is not a known item")
        items = items[ids.index(after) + 1 :]
    now = time.monotonic()
    page = [item for item in items if not item.deleted][: int(raw_limit)]
    return JSONResponse({"items": [item_view(item, now, full=False) for item in page]})


@router.get("/items/{item_id}/status")
@surface.operation("item_status")
async def item_status(request: Request, item_id: str) -> Response:
    """GetItemStatus of one item by its UUID; 404 for an id Vinted does not know (or a
    deleted item)."""
    item = sim_state(request).vinted.items.get(item_id)
    if item is None or item.deleted:
        return vinted_error(404, "not_found", "item not found")
    return JSONResponse(item_view(item, time.monotonic()))


@router.get("/ontologies")
@surface.operation("get_ontologies")
async def get_ontologies(request: Request) -> Response:
    """GetOntologies: catalogs, sizes, package sizes and attributes (simulator/vinted_ontology)."""
    return JSONResponse(ontology_document())
