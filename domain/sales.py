"""Sales (issue 14): an order line as every reader reports it, and what the entity is told.

Each marketplace reports orders its own way (eBay Fulfillment ``getOrders``, Etsy
``getShopReceipts``, Vinted's signed webhooks); each reader turns what it reads into
:class:`OrderLine` values and signals them (``ORDER_SIGNAL``) to the SKU's listing entity,
which counts each ``(marketplace, order_id, line_id)`` once however often it is reported.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.marketplaces import Marketplace
from domain.messages import MarketplaceRef
from domain.timestamps import UtcDatetime

ORDER_SIGNAL = "order"


class OrderLine(BaseModel):
    """One line of one order: ``quantity`` units of ``sku`` sold on ``marketplace``."""

    model_config = ConfigDict(extra="forbid")

    marketplace: Marketplace
    order_id: str
    """eBay ``orderId``, Etsy ``receipt_id``, Vinted's order / transaction id."""
    line_id: str
    """eBay ``lineItemId``, Etsy ``transaction_id``; the order id again where an order has one
    line (Vinted)."""
    sku: str
    quantity: int = Field(ge=1)
    sold_at: UtcDatetime
    listing_id: str | None = None

    @property
    def key(self) -> str:
        """What "the same order line" means: counted once by the entity."""
        return f"{self.marketplace.value}:{self.order_id}:{self.line_id}"


class OrdersPage(BaseModel):
    """What ``read_orders_<marketplace>`` returns: the lines modified since ``cursor`` and the
    cursor to read from next time (durable in the reader's workflow state)."""

    model_config = ConfigDict(extra="forbid")

    lines: list[OrderLine] = Field(default_factory=list)
    next_cursor: str


class ReadOrdersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marketplace: Marketplace
    cursor: str | None = None
    """Opaque to the workflow: an ISO timestamp for eBay (``lastmodifieddate``) and Etsy
    (``min_last_modified``, Unix seconds), with the reader's overlap; None: from now."""


class SetQuantityRequest(BaseModel):
    """Input of ``set_quantity_<marketplace>``: the live listing ``current`` now offers
    ``quantity`` units (> 0; at 0 the entity withdraws instead)."""

    model_config = ConfigDict(extra="forbid")

    marketplace: Marketplace
    sku: str
    current: MarketplaceRef
    quantity: int = Field(ge=1)


class SetQuantityResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marketplace: Marketplace
    quantity: int
    ended: bool = False
    """True when the marketplace had already ended the listing (sold out there): nothing to
    set, and not an error."""


class ReaderState(BaseModel):
    """What an orders reader (workflows/orders_reader.py) carries across rounds and runs."""

    model_config = ConfigDict(extra="forbid")

    marketplace: Marketplace
    interval_seconds: float = 5.0
    """SALES_SYNC_INTERVAL: seconds between two reads."""
    cursor: str | None = None
    lines_seen: int = 0
    unknown_skus: int = 0
