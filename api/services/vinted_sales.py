"""What ``POST /webhooks/vinted`` does: check Vinted's signature, read a sale, tell the listing.

Vinted reports a sale with a signed ``ITEM_SOLD`` webhook (``domain.vinted_webhook``: the
signature scheme, the event and its sources). A sale becomes an ``OrderLine`` signalled
(``ORDER_SIGNAL``) to the listing entity of the SKU the item's reference names; the entity
counts each line once by its key, so a redelivered event is harmless. What is not a sale of one
of our listings (another event type, an item listed by hand, a SKU with no entity) is
acknowledged and ignored: an error would only make Vinted send it again.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.service import RPCError, RPCStatusCode

from api.problems import ProblemError
from api.services.temporal import Executions
from config.settings import Settings
from domain.canonical import MAX_JSON_DEPTH, canonical_json, json_depth
from domain.listing_entity import listing_workflow_id
from domain.marketplaces import Marketplace
from domain.sales import ORDER_SIGNAL, OrderLine
from domain.vinted_reference import sku_of_reference
from domain.vinted_webhook import ITEM_SOLD, item_sold, verify_webhook

log = logging.getLogger("api.vinted")


@dataclass(frozen=True)
class Receipt:
    """What became of one delivery: ``delivered`` to the listing, else ``ignored`` and why."""

    delivered: OrderLine | None = None
    ignored: str | None = None


class VintedSales:
    def __init__(self, executions: Executions, settings: Settings) -> None:
        self.executions = executions
        self.signing_key = settings.vinted_webhook_signing_key.get_secret_value()
        default = Settings.model_fields["vinted_webhook_signing_key"].default.get_secret_value()
        # The simulator's well-known key must never let anyone report sales of a real shop.
        self.enabled = bool(self.signing_key) and (
            settings.vinted_base_url is None or self.signing_key != default
        )
        self.tolerance = settings.webhook_tolerance_seconds

    def check_signature(self, headers: list[str], body: bytes) -> int:
        """The signing time of a delivery signed with ``VINTED_WEBHOOK_SIGNING_KEY``; else 403
        (400 when the header appears more than once)."""
        if not self.enabled:
            raise ProblemError(403, "Vinted webhooks are off: set VINTED_WEBHOOK_SIGNING_KEY")
        if len(headers) > 1:
            raise ProblemError(400, "X-Vpi-Webhook-Hmac-Sha256 must appear once")
        check = verify_webhook(
            self.signing_key, headers[0] if headers else None, body, time.time(), self.tolerance
        )
        if not check.valid:
            log.info("vinted webhook refused: %s", check.problem)
            raise ProblemError(403, f"no valid Vinted webhook signature: {check.problem}")
        return check.signed_at

    async def receive(self, body: bytes, signed_at: int) -> Receipt:
        """Turn a verified delivery into a signal to its listing, or say why it is ignored."""
        event = _event(body)
        event_type = event.get("event_type")
        if event_type != ITEM_SOLD:
            return Receipt(ignored=f"event {str(event_type)[:64]} is not a sale")
        sale = item_sold(event.get("event_data"))
        if sale is None:
            raise ProblemError(
                400, "ITEM_SOLD event_data must carry item_id, item_reference and order_id"
            )
        sku = sku_of_reference(sale.item_reference)
        if sku is None:
            log.info("vinted sale of item %s (%s): not ours", sale.item_id, sale.item_reference)
            return Receipt(ignored="the item's reference names no listing of ours")
        line = OrderLine(
            marketplace=Marketplace.VINTED,
            order_id=sale.order_id,
            line_id=sale.item_id,
            sku=sku,
            quantity=1,
            sold_at=datetime.fromtimestamp(signed_at, UTC),
            listing_id=sale.item_id,
        )
        try:
            await self.executions.signal(listing_workflow_id(sku), ORDER_SIGNAL, line)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise  # Temporal unreachable: 503 (api.problems); Vinted may send it again
            log.warning("vinted sale %s of sku=%s: no listing entity, ignored", line.key, sku)
            return Receipt(ignored=f"no listing for SKU {sku}")
        log.info("vinted sale %s of sku=%s delivered to its listing", line.key, sku)
        return Receipt(delivered=line)


def _event(body: bytes) -> dict[str, Any]:
    """``{"webhook_id", "event_type", "event_data"}`` (quick-vint-api), else 400."""
    try:
        event = json.loads(body.decode("utf-8"))
        canonical_json(event)  # NaN, huge integers, lone surrogates: not JSON we can pass on
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProblemError(400, "webhook body is not valid UTF-8 JSON") from None
    if json_depth(event) > MAX_JSON_DEPTH or not isinstance(event, dict):
        raise ProblemError(400, 'webhook body must be {"webhook_id", "event_type", "event_data"}')
    return event
