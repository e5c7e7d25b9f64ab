"""Vinted's webhooks in the simulator: registration, and the signed item events it sends.

Sources (README "Vinted assumptions"):
- Registration ``POST /api/v1/webhooks {"event_types": [...], "url": ...}``: Vinted's own
  example (pro-docs.svc.vinted.com, "Registering a webhook example", v0.173.2). Its response
  "carries the webhook's own signing_key" (rfair404/claude-ebay-prompts-etc
  ``lib/vinted_client.py``); the other fields of that response are ASSUMED.
- Signature ``X-Vpi-Webhook-Hmac-Sha256: t=<unix>,v1=<hex HMAC-SHA256(webhook signing key,
  "<t>.<raw body>")>``: ``verify_webhook`` in claude-ebay-prompts-etc and
  ``verifyVintedWebhook`` in samicodesit/quick-vint-api ``signing.ts`` (both with a 300 s
  replay window); one definition with the gateway's check, ``domain.vinted_webhook``.
- Envelope ``{"webhook_id", "event_type", "event_data"}``: quick-vint-api ``webhooks.ts``
  (and its contract test against api.yml v0.360.0). ASSUMED: ``event_data`` of the
  ``CREATE_ITEM_*`` events carries ``item_id``, ``item_reference`` and, on failure,
  ``errors``; marketplaces.md (3p) says event data carries the seller reference.
- ``ITEM_SOLD`` (rfair ``WEBHOOK_EVENTS``) when a buyer buys an item (``POST /__sim/sales``),
  at once; ASSUMED: its ``event_data`` adds the ``order_id`` (``domain.vinted_webhook``).

Off by default: events go only to webhooks registered through the API or named by
``VINTED_WEBHOOK_URL`` (signed with ``VINTED_WEBHOOK_SIGNING_KEY``).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.timestamps import format_utc
from domain.vinted_webhook import ITEM_SOLD, SIGNATURE_HEADER, sale_event_data, webhook_signature
from simulator.errors import vinted_error
from simulator.pipeline import read_json, sim_state
from simulator.state import SimState
from simulator.vinted_auth import PREFIX, surface
from simulator.vinted_state import WEBHOOK_EVENT_TYPES, VintedItem, VintedWebhook

__all__ = ["SIGNATURE_HEADER", "router", "schedule_item_events", "schedule_sale_event"]

DELIVERY_TIMEOUT_SECONDS = 5.0

router = APIRouter()
_pending: set[asyncio.Task[None]] = set()


def item_event(
    webhook: VintedWebhook,
    item: VintedItem,
    event_type: str | None = None,
    failure: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The event an item's outcome produces (by default its create's), and the body sent to
    ``webhook``."""
    if event_type is None:
        event_type = "CREATE_ITEM_FAILURE" if item.failure else "CREATE_ITEM_SUCCESS"
        failure = item.failure
    data: dict[str, Any] = {"item_id": item.item_id, "item_reference": item.reference}
    if event_type == ITEM_SOLD and item.order_id is not None:
        data = sale_event_data(item.item_id, item.reference, item.order_id)
    if failure:
        data["errors"] = [{"code": "item_rejected", "message": failure}]
    return event_type, {
        "webhook_id": webhook.webhook_id,
        "event_type": event_type,
        "event_data": data,
    }


def schedule_item_events(
    sim: SimState,
    item: VintedItem,
    delay_seconds: float,
    event_type: str | None = None,
    failure: str | None = None,
) -> None:
    """Once ``item`` is processed, send its event (``CREATE_ITEM_*`` unless ``event_type``
    says ``UPDATE_ITEM_*`` or ``DELETE_ITEM_SUCCESS``) to every webhook that subscribed to it
    (nothing when none is registered; nothing after a reset). ASSUMED: update and delete
    events carry the same ``event_data`` as create events."""
    if not sim.vinted.webhooks:
        return
    task = asyncio.create_task(_deliver_later(sim, item, delay_seconds, event_type, failure))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def schedule_sale_event(sim: SimState, item: VintedItem) -> None:
    """Send ``ITEM_SOLD`` for a sold ``item`` now, to every webhook subscribed to it."""
    schedule_item_events(sim, item, 0, ITEM_SOLD)


async def _deliver_later(
    sim: SimState,
    item: VintedItem,
    delay_seconds: float,
    event_type: str | None,
    failure: str | None,
) -> None:
    await sim.hold(delay_seconds)
    vinted = sim.vinted
    if vinted.items.get(item.item_id) is not item:
        return  # the simulator was reset meanwhile
    for webhook in list(vinted.webhooks.values()):
        sent_type, event = item_event(webhook, item, event_type, failure)
        if sent_type in webhook.event_types:
            vinted.deliveries.append(await _deliver(webhook, sent_type, item, event))


async def _deliver(
    webhook: VintedWebhook, event_type: str, item: VintedItem, event: dict[str, Any]
) -> dict[str, Any]:
    body = json.dumps(event, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: webhook_signature(webhook.signing_key, body, time.time()),
    }
    record: dict[str, Any] = {
        "at": format_utc(datetime.now(UTC)),
        "webhook_id": webhook.webhook_id,
        "url": webhook.url,
        "event_type": event_type,
        "item_id": item.item_id,
        "item_reference": item.reference,
        "status": None,
        "error": None,
    }
    try:
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as http:
            record["status"] = (
                await http.post(webhook.url, content=body, headers=headers)
            ).status_code
    except httpx.HTTPError as err:
        record["error"] = f"{type(err).__name__}: {err}"
    return record


@router.post(f"{PREFIX}/webhooks")
@surface.operation("create_webhook")
async def create_webhook(request: Request) -> Response:
    """Register ``url`` for ``event_types``; the answer holds the key events are signed with."""
    body = await read_json(request)
    url = body.get("url") if isinstance(body, dict) else None
    event_types = body.get("event_types") if isinstance(body, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return vinted_error(400, "invalid_request", "url must be an http(s) URL")
    if not isinstance(event_types, list) or not event_types:
        return vinted_error(400, "invalid_request", "event_types must be a non-empty array")
    unknown = sorted({str(e) for e in event_types} - WEBHOOK_EVENT_TYPES)
    if unknown:
        return vinted_error(400, "invalid_request", f"unknown event types: {', '.join(unknown)}")
    webhook = sim_state(request).vinted.register_webhook(
        url, frozenset(event_types), secrets.token_hex(32)
    )
    return JSONResponse({**webhook.view(), "signing_key": webhook.signing_key}, status_code=201)


@router.get(f"{PREFIX}/webhooks")
@surface.operation("list_webhooks")
async def list_webhooks(request: Request) -> Response:
    return JSONResponse(
        {"webhooks": [w.view() for w in sim_state(request).vinted.webhooks.values()]}
    )


@router.get("/__sim/vinted/webhook_deliveries", tags=["simulator control"])
async def webhook_deliveries(request: Request) -> list[dict[str, Any]]:
    """Test control: every webhook delivery the simulated Vinted attempted, oldest first."""
    return sim_state(request).vinted.deliveries
