"""Simulated Vinted Pro Integrations API: signed requests, asynchronous item creation, status."""

from __future__ import annotations

import hashlib
import hmac
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplaces import Marketplace
from simulator.errors import vinted_error
from simulator.pipeline import MarketplaceSurface, read_json, sim_state
from simulator.state import VINTED_MINIMUM_PRICE, SimState, VintedItem

PREFIX = "/vinted/api/v1"
MAX_CLOCK_SKEW_SECONDS = 300
MAX_BATCH = 100
REQUIRED_ITEM_FIELDS = ("reference", "title", "description", "price", "currency")


def expected_signature(
    signing_key: str, t: str, method: str, target: str, access_key: str, body: bytes
) -> str:
    """hex HMAC-SHA256(signing_key, "<t>.<METHOD>.<path?query>.<access_key>.<body>").

    Written apart from the client's signer on purpose: the simulator plays the other party,
    so a signing bug on either side shows up as a 401 instead of agreeing with itself.
    """
    message = f"{t}.{method}.{target}.{access_key}.".encode() + body
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def _request_target(request: Request) -> str:
    """The path and query exactly as the client sent them (what it signed)."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query: bytes = request.scope.get("query_string", b"")
    return (raw_path + (b"?" + query if query else b"")).decode("latin-1")


def _authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    access_key = sim.settings.vinted_access_key.get_secret_value()
    given_key = request.headers.get("x-vpi-access-key", "")
    if not hmac.compare_digest(given_key.encode(), access_key.encode()):
        return vinted_error(401, "invalid_access_key", "Unknown X-Vpi-Access-Key")
    parts = dict(
        part.split("=", 1)
        for part in request.headers.get("x-vpi-hmac-sha256", "").split(",")
        if "=" in part
    )
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or not v1:
        return vinted_error(401, "invalid_signature", "X-Vpi-Hmac-Sha256 must be t=<unix>,v1=<hex>")
    if abs(time.time() - int(t)) > MAX_CLOCK_SKEW_SECONDS:
        return vinted_error(401, "timestamp_out_of_range", "Signature timestamp is too old or new")
    expected = expected_signature(
        sim.settings.vinted_signing_key.get_secret_value(),
        t,
        request.method,
        _request_target(request),
        access_key,
        body,
    )
    if not hmac.compare_digest(v1.lower().encode(), expected.encode()):
        return vinted_error(401, "invalid_signature", "Signature does not match")
    return None


surface = MarketplaceSurface(Marketplace.VINTED, _authenticate)
router = APIRouter(prefix=PREFIX)


def _item_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "item must be an object"
    missing = [name for name in REQUIRED_ITEM_FIELDS if item.get(name) in (None, "")]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    try:
        price = Decimal(str(item["price"]))
    except InvalidOperation:
        return "price must be a decimal number"
    if not price.is_finite() or price <= 0:
        return "price must be greater than 0"
    photos = item.get("photos")
    if not isinstance(photos, list) or not photos:
        return "at least one photo is required"
    return None


def _async_failure(item: dict[str, Any]) -> str | None:
    """Checks Vinted applies after accepting the item; they fail it rather than reject it."""
    if Decimal(str(item["price"])) < VINTED_MINIMUM_PRICE:
        return f"price is below the minimum of {VINTED_MINIMUM_PRICE}"
    return None


def item_view(item: VintedItem, now: float) -> dict[str, Any]:
    status = item.status(now)
    view: dict[str, Any] = {
        "item_id": item.item_id,
        "reference": item.reference,
        "status": status,
        "url": item.url if status == "active" else None,
    }
    if status == "failed":
        view["error"] = {"code": "item_rejected", "message": item.failure}
    return view


@router.post("/items")
@surface.operation("create_items")
async def create_items(request: Request) -> Response:
    """CreateItems: 202, each item accepted or not; idempotent by seller ``reference``;
    a batch that would need more free slots than are left is rejected in full (422)."""
    sim = sim_state(request)
    body = await read_json(request)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        return vinted_error(400, "invalid_request", "items must be a non-empty array")
    if len(items) > MAX_BATCH:
        return vinted_error(400, "batch_too_large", f"at most {MAX_BATCH} items per request")
    now = time.monotonic()
    new_refs = {
        i["reference"]
        for i in items
        if isinstance(i, dict) and not _item_problem(i) and i["reference"] not in sim.vinted_items
    }
    used = sum(1 for i in sim.vinted_items.values() if i.status(now) != "failed")
    if used + len(new_refs) > sim.config.vinted_slots:
        free = max(0, sim.config.vinted_slots - used)
        return vinted_error(
            422, "insufficient_slots", f"{len(new_refs)} items need slots; {free} are free"
        )
    delay = sim.config.vinted_activation_delay_ms / 1000
    results: list[dict[str, Any]] = []
    for raw in items:
        if problem := _item_problem(raw):
            results.append({"accepted": False, "reference": _reference(raw), "error": problem})
            continue
        existing = sim.vinted_items.get(raw["reference"])
        if existing is None:
            existing = VintedItem(
                item_id=sim.next_id("vinted_item", 7_000_000_000),
                reference=raw["reference"],
                fields=raw,
                ready_at=now + delay,
                failure=_async_failure(raw),
            )
            sim.vinted_items[existing.reference] = existing
        results.append(
            {"accepted": True, "item_id": existing.item_id, "reference": existing.reference}
        )
    return JSONResponse({"items": results}, status_code=202)


def _reference(raw: Any) -> Any:
    return raw.get("reference") if isinstance(raw, dict) else None


@router.get("/items/status")
@surface.operation("item_status")
async def item_status(request: Request) -> Response:
    """GetItemStatus by ``reference`` and/or ``item_id`` (each repeatable); 404 if none found."""
    sim = sim_state(request)
    references = request.query_params.getlist("reference")
    ids = request.query_params.getlist("item_id")
    if not references and not ids:
        return vinted_error(400, "invalid_request", "give reference or item_id")
    wanted_ids = {int(i) for i in ids if i.isdigit()}
    now = time.monotonic()
    found = [
        item_view(item, now)
        for item in sim.vinted_items.values()
        if item.reference in references or item.item_id in wanted_ids
    ]
    if not found:
        return vinted_error(404, "not_found", "no item matches")
    return JSONResponse({"items": found})
