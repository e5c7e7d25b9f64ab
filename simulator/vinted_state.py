"""What the simulated Vinted remembers: items by their UUID, webhooks, the request window."""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from config.settings import Settings

ITEM_EVENT_TYPES = (
    "CREATE_ITEM_SUCCESS",
    "CREATE_ITEM_FAILURE",
    "UPDATE_ITEM_SUCCESS",
    "UPDATE_ITEM_FAILURE",
    "DELETE_ITEM_SUCCESS",
    "ITEM_SOLD",
)
"""The webhook events the simulator sends (``ITEM_SOLD``: ``POST /__sim/sales``)."""

WEBHOOK_EVENT_TYPES = frozenset(
    {
        "CREATE_ITEM_SUCCESS",
        "CREATE_ITEM_FAILURE",
        "UPDATE_ITEM_SUCCESS",
        "UPDATE_ITEM_FAILURE",
        "DELETE_ITEM_SUCCESS",
        "DELETE_ITEM_FAILURE",
        "ITEM_PUBLISHED",
        "ITEM_UPDATED",
        "ITEM_DRAFT_UPDATED",
        "ITEM_REUPLOADED",
        "ITEM_DELETED",
        "ITEM_SOLD",
        "ORDER_CREATED",
        "ORDER_CANCELLED",
        "CANCEL_ORDER_FAILURE",
        "SHIPMENT_LABEL_CREATED",
        "VINTED_AUTHENTICATION_ERROR",
    }
)
"""Event types a webhook may subscribe to: ``WEBHOOK_EVENTS`` in rfair404/claude-ebay-prompts-etc
``lib/vinted_client.py``."""


@dataclass(frozen=True)
class PendingUpdate:
    """An accepted update: the new item, when it is processed, and why it will fail (if)."""

    fields: dict[str, Any]
    ready_at: float
    failure: str | None = None


@dataclass
class VintedItem:
    """One item created through CreateItems.

    ``item_id`` is a UUID string: samicodesit/quick-vint-api ``items.ts`` refuses any other
    form (``/^[0-9a-f-]{36}$/``) and tonyyang0504/platform-mcp ``vinted_pro.json`` calls it
    "the VPI item_id (uuid)". ``public_id`` is the number in the public item URL, which
    anicolao/vintage ``VINTED_INTEGRATION.md`` says differs from the VPI UUID.
    """

    item_id: str
    public_id: int
    reference: str
    fields: dict[str, Any]
    ready_at: float
    failure: str | None = None
    update: PendingUpdate | None = None
    """An accepted UpdateItems entry not processed yet (the item shows its old content)."""
    update_failure: str | None = None
    """Why the last processed update was refused (the item kept its content), or None."""
    deleted: bool = False
    order_id: int | None = None
    """The order a buyer bought it in (``POST /__sim/sales``): the item is sold."""

    def status(self, now: float) -> str:
        """``pending`` (being created), ``updating``, ``active``, ``failed``, ``sold`` or
        ``deleted`` (the control view's words)."""
        self._settle(now)
        if self.deleted:
            return "deleted"
        if self.order_id is not None:
            return "sold"
        if now < self.ready_at:
            return "pending"
        if self.failure:
            return "failed"
        return "updating" if self.update is not None else "active"

    def _settle(self, now: float) -> None:
        """Apply an update whose processing time has come (or record why it was refused)."""
        update = self.update
        if update is None or now < update.ready_at:
            return
        if update.failure is None:
            self.fields = {**self.fields, **update.fields}
        self.update_failure = update.failure
        self.update = None

    @property
    def url(self) -> str:
        """ASSUMPTION: the form of the public URL (the id in it is not the VPI UUID)."""
        return f"https://www.vinted.com/items/{self.public_id}"


@dataclass
class VintedWebhook:
    """A registered webhook: where events go and the key they are signed with."""

    webhook_id: str
    url: str
    event_types: frozenset[str]
    signing_key: str

    def view(self) -> dict[str, Any]:
        return {
            "id": self.webhook_id,
            "url": self.url,
            "event_types": sorted(self.event_types),
        }


@dataclass
class VintedState:
    items: dict[str, VintedItem] = field(default_factory=dict)
    webhooks: dict[str, VintedWebhook] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    request_times: deque[float] = field(default_factory=deque)
    next_public_id: int = 7_000_000_000

    @classmethod
    def fresh(cls, settings: Settings) -> VintedState:
        """Empty, with the webhook ``VINTED_WEBHOOK_URL`` names (if any) registered."""
        state = cls()
        if settings.vinted_webhook_url:
            state.register_webhook(
                settings.vinted_webhook_url,
                frozenset(ITEM_EVENT_TYPES),
                settings.vinted_webhook_signing_key.get_secret_value(),
            )
        return state

    def register_webhook(
        self, url: str, event_types: frozenset[str], signing_key: str
    ) -> VintedWebhook:
        webhook = VintedWebhook(str(uuid.uuid4()), url, event_types, signing_key)
        self.webhooks[webhook.webhook_id] = webhook
        return webhook

    def new_item(
        self, reference: str, fields: dict[str, Any], ready_at: float, failure: str | None
    ) -> VintedItem:
        self.next_public_id += 1
        item = VintedItem(str(uuid.uuid4()), self.next_public_id, reference, fields, ready_at)
        item.failure = failure
        self.items[item.item_id] = item
        return item

    def listings_view(self, now: float) -> list[dict[str, Any]]:
        """``/__sim/listings``: each item with its reference, id, state, content and ontology
        ids. An item is live from its create until it fails or is deleted; it has no
        quantity (one second-hand article), shown as 1."""
        return [
            {
                "item_id": item.item_id,
                "reference": item.reference,
                "status": (status := item.status(now)),
                "live": status in ("pending", "updating", "active"),
                "draft": False,
                "title": item.fields.get("title"),
                "price": f"{Decimal(str(item.fields.get('price'))):.2f}",
                "quantity": 1,
                **{
                    name: item.fields.get(name)
                    for name in ("catalog_id", "package_size_id", "size_id", "brand")
                },
            }
            for item in self.items.values()
        ]

    def live_items(self) -> list[VintedItem]:
        """The items Vinted still knows (not deleted), in creation order."""
        return [item for item in self.items.values() if not item.deleted]
