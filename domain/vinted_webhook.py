"""Vinted's webhook signature and sale event: the one definition the simulator signs with and
the gateway verifies with (README "Vinted assumptions" 34, 35, 50-53).

- Header ``X-Vpi-Webhook-Hmac-Sha256: t=<unix>,v1=<hex HMAC-SHA256(webhook signing key,
  "<t>.<raw body>")>``, within 300 s: ``verify_webhook`` in rfair404/claude-ebay-prompts-etc
  ``lib/vinted_client.py`` and ``verifyVintedWebhook`` in samicodesit/quick-vint-api
  ``signing.ts``. The key is the webhook's own ``signing_key`` (from its registration), not the
  API token's.
- Body ``{"webhook_id", "event_type", "event_data"}``: quick-vint-api ``webhooks.ts``.
- ``ITEM_SOLD`` is among Vinted's event types (rfair ``WEBHOOK_EVENTS``; quick-vint-api
  reconciles on it). ASSUMED: its ``event_data`` carries ``item_id``, ``item_reference`` (as the
  item events do) and ``order_id``, the numeric id GetOrder takes (quick-vint-api ``orders.ts``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-Vpi-Webhook-Hmac-Sha256"
TOLERANCE_SECONDS = 300
"""Replay window of both sources (rfair ``tolerance_s=300``, quick-vint-api)."""
ITEM_SOLD = "ITEM_SOLD"
MAX_HEADER = 512
_HEADER = re.compile(r"t=(?P<t>[0-9]{1,12}),v1=(?P<v1>[0-9a-f]{64})", re.ASCII)
_ORDER_ID = re.compile(r"[0-9]{1,20}", re.ASCII)


def webhook_signature(signing_key: str, body: bytes, now: float) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(signing_key, "<t>." + body)>``."""
    t = str(int(now))
    return f"t={t},v1={_digest(signing_key, t, body)}"


def _digest(signing_key: str, t: str, body: bytes) -> str:
    return hmac.new(signing_key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking one delivery: ``valid``, else ``problem`` says why."""

    valid: bool
    problem: str = ""
    signed_at: int = 0


def verify_webhook(
    signing_key: str,
    header: str | None,
    body: bytes,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> SignatureCheck:
    """Check ``header`` over the raw ``body`` bytes, in constant time, and its timestamp."""
    if not header or len(header) > MAX_HEADER:
        return SignatureCheck(False, f"{SIGNATURE_HEADER} is missing")
    match = _HEADER.fullmatch(header.strip())
    if match is None:
        return SignatureCheck(False, f"{SIGNATURE_HEADER} is not t=<unix>,v1=<hex>")
    t = match.group("t")
    if abs(now - int(t)) > tolerance:
        return SignatureCheck(False, f"the signature's timestamp is more than {tolerance} s off")
    if not hmac.compare_digest(_digest(signing_key, t, body), match.group("v1")):
        return SignatureCheck(False, "the signature does not match the body")
    return SignatureCheck(True, signed_at=int(t))


@dataclass(frozen=True)
class ItemSold:
    """What an ``ITEM_SOLD`` event says: which item, under which reference, in which order."""

    item_id: str
    item_reference: str
    order_id: str


def item_sold(event_data: Any) -> ItemSold | None:
    """The sale an ``ITEM_SOLD`` event's data describes, or None when a field is missing or
    malformed (``order_id`` a number or a string of digits)."""
    if not isinstance(event_data, dict):
        return None
    item_id, reference, order_id = (
        event_data.get("item_id"),
        event_data.get("item_reference"),
        event_data.get("order_id"),
    )
    if isinstance(order_id, int) and not isinstance(order_id, bool) and order_id >= 0:
        order_id = str(order_id)
    if not (isinstance(item_id, str) and 1 <= len(item_id) <= 64):
        return None
    if not (isinstance(reference, str) and 1 <= len(reference) <= 64):
        return None
    if not (isinstance(order_id, str) and _ORDER_ID.fullmatch(order_id)):
        return None
    return ItemSold(item_id, reference, order_id)


def sale_event_data(item_id: str, item_reference: str, order_id: int) -> dict[str, Any]:
    """The ``event_data`` of an ``ITEM_SOLD`` event (what the simulator sends)."""
    return {"item_id": item_id, "item_reference": item_reference, "order_id": order_id}
