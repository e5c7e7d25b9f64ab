"""read_orders_etsy and set_quantity_etsy: Etsy's side of sales (issue 14).

- Reading: ``getShopReceipts`` with ``min_last_modified=<since>`` (Unix seconds,
  ``activities.sales_window``), ``sort_on=updated&sort_order=asc``, 100 a page, every page.
  Each transaction with a ``sku`` is an ``OrderLine`` (``receipt_id``, ``transaction_id``,
  ``listing_id``, ``quantity``); a canceled receipt is no sale. The shop owner's token needs
  the ``transactions_r`` scope.
- Setting quantity: ``getListingInventory?includes=Listing`` (the products, their prices and
  SKUs, and the listing's ``state``), then ``updateListingInventory`` with the same products,
  prices and SKUs and the new quantity on the SKU's offering. A listing that is not ``active``
  (``sold_out`` there, inactive, expired) or gone is ``ended``: nothing is written (Etsy would
  update a sold-out listing's inventory without anyone seeing it; reactivating renews it for a
  fee).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from activities.etsy_client import EtsyClient, beat
from activities.sales_window import next_offset, orders_page, read_window
from domain.marketplaces import Marketplace, read_orders_activity_name, set_quantity_activity_name
from domain.sales import (
    OrderLine,
    OrdersPage,
    ReadOrdersRequest,
    SetQuantityRequest,
    SetQuantityResult,
)

MARKETPLACE = Marketplace.ETSY
PAGE_SIZE = 100
"""getShopReceipts' largest ``limit`` (OAS: maximum 100)."""
_PROPERTY_VALUE_FIELDS = ("property_id", "value_ids", "values", "scale_id", "property_name")
"""What updateListingInventory takes of a product's ``property_values`` (OAS request body)."""


class EtsySalesActivities:
    """Receipts and inventory over the worker's Etsy client (its token owner and pacing)."""

    def __init__(self, client: EtsyClient) -> None:
        self.client = client

    @activity.defn(name=read_orders_activity_name(MARKETPLACE))
    async def read_orders_etsy(self, request: ReadOrdersRequest) -> OrdersPage:
        """Every transaction of the receipts modified since the cursor (less the overlap)."""
        window = read_window(MARKETPLACE, request)
        lines: list[OrderLine] = []
        offset: int | None = 0
        while offset is not None:
            beat({"step": "get_receipts", "offset": offset})
            response = await self.client.call(
                "get_receipts",
                "GET",
                f"{self.client.shop}/receipts",
                params={
                    "min_last_modified": str(int(window.since.timestamp())),
                    "sort_on": "updated",
                    "sort_order": "asc",
                    "limit": str(PAGE_SIZE),
                    "offset": str(offset),
                },
            )
            page = response.json()
            receipts = [r for r in page.get("results") or [] if isinstance(r, dict)]
            for receipt in receipts:
                lines += receipt_lines(receipt)
            offset = next_offset(offset, len(receipts), int(page.get("count") or 0))
        return orders_page(lines, window, "etsy receipts")

    @activity.defn(name=set_quantity_activity_name(MARKETPLACE))
    async def set_quantity_etsy(self, request: SetQuantityRequest) -> SetQuantityResult:
        """The active listing offers ``request.quantity`` units from now on, at the same
        prices and SKUs; ``ended`` when it is no longer active on Etsy."""
        listing_id = int(request.current.listing_id)
        beat({"step": "get_inventory", "listing_id": listing_id})
        response = await self.client.call(
            "get_inventory",
            "GET",
            f"/listings/{listing_id}/inventory",
            params={"includes": "Listing"},
            expected=(404,),
        )
        inventory: dict[str, Any] = response.json() if response.is_success else {}
        state = (inventory.get("listing") or {}).get("state")
        if state != "active":
            activity.logger.info("etsy listing %s is %s: quantity left alone", listing_id, state)
            return SetQuantityResult(marketplace=MARKETPLACE, quantity=0, ended=True)
        products, current = with_quantity(inventory, request.sku, request.quantity)
        if current == request.quantity:
            return SetQuantityResult(marketplace=MARKETPLACE, quantity=request.quantity)
        beat({"step": "update_inventory", "listing_id": listing_id})
        body = {
            "products": products,
            **{
                name: inventory.get(name) or []
                for name in ("price_on_property", "quantity_on_property", "sku_on_property")
            },
        }
        response = await self.client.call(
            "update_inventory",
            "PUT",
            f"/listings/{listing_id}/inventory",
            json=body,
            expected=(404,),
        )
        if response.status_code == 404:
            return SetQuantityResult(marketplace=MARKETPLACE, quantity=0, ended=True)
        activity.logger.info("etsy listing %s quantity set to %d", listing_id, request.quantity)
        return SetQuantityResult(marketplace=MARKETPLACE, quantity=request.quantity)


def with_quantity(
    inventory: dict[str, Any], sku: str, quantity: int
) -> tuple[list[dict[str, Any]], int | None]:
    """The ``products`` of a getListingInventory answer as updateListingInventory takes them
    (prices as floats of ``amount / divisor``, deleted ones left out), with ``quantity`` on
    the first enabled offering of the product carrying ``sku`` (of the only product, when
    none carries it); and that offering's quantity before."""
    products = [p for p in inventory.get("products") or [] if not p.get("is_deleted")]
    target = next((p for p in products if p.get("sku") == sku), None)
    if target is None and len(products) == 1:
        target = products[0]
    before: int | None = None
    written: list[dict[str, Any]] = []
    for product in products:
        offerings: list[dict[str, Any]] = []
        for offering in product.get("offerings") or []:
            if offering.get("is_deleted"):
                continue
            stock, enabled = int(offering.get("quantity") or 0), bool(offering.get("is_enabled"))
            if product is target and before is None and enabled:
                before, stock = stock, quantity
            offerings.append(
                {"price": _price(offering.get("price")), "quantity": stock, "is_enabled": enabled}
            )
        written.append(
            {
                "sku": product.get("sku") or None,
                "property_values": [
                    {k: v for k, v in value.items() if k in _PROPERTY_VALUE_FIELDS}
                    for value in product.get("property_values") or []
                ],
                "offerings": offerings,
            }
        )
    return written, before


def _price(money: Any) -> float:
    """Etsy's ``Money`` as the float updateListingInventory takes ("amount divided by
    divisor", OAS)."""
    if isinstance(money, dict):
        return round(int(money.get("amount") or 0) / int(money.get("divisor") or 1), 2)
    return float(money or 0)


def receipt_lines(receipt: dict[str, Any]) -> list[OrderLine]:
    """The ``OrderLine`` of each transaction of a ``ShopReceipt`` that names a SKU (one
    without a SKU is not a listing of ours). A canceled receipt is no sale."""
    receipt_id = receipt.get("receipt_id")
    if receipt.get("status") == "canceled":
        activity.logger.info("etsy receipt %s is canceled: not a sale", receipt_id)
        return []
    lines = []
    for transaction in receipt.get("transactions") or []:
        sku, quantity = transaction.get("sku"), transaction.get("quantity")
        transaction_id = transaction.get("transaction_id")
        if not (receipt_id and sku and transaction_id and isinstance(quantity, int)):
            activity.logger.info("etsy receipt %s: transaction without SKU", receipt_id)
            continue
        if quantity < 1:
            continue
        when = transaction.get("created_timestamp") or receipt.get("created_timestamp")
        listing_id = transaction.get("listing_id")
        lines.append(
            OrderLine(
                marketplace=MARKETPLACE,
                order_id=str(receipt_id),
                line_id=str(transaction_id),
                sku=str(sku),
                quantity=quantity,
                sold_at=datetime.fromtimestamp(int(when), UTC) if when else datetime.now(UTC),
                listing_id=str(listing_id) if listing_id else None,
            )
        )
    return lines
