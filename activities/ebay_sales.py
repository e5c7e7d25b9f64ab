"""read_orders_ebay and set_quantity_ebay: eBay's side of sales (issue 14).

- Reading: the Fulfillment API's ``getOrders`` with ``filter=lastmodifieddate:[<since>..]``
  (``activities.sales_window``), 200 orders a page, every page. Each line item with a ``sku``
  is an ``OrderLine`` (``orderId``, ``lineItemId``, ``legacyItemId`` = the listing id,
  ``quantity``); a cancelled order is no sale. Needs the ``sell.fulfillment`` scope.
- Setting quantity: ``getOffer`` (is the listing still buyable?), then
  ``bulkUpdatePriceQuantity`` with the inventory item's ship-to-home quantity and the offer's
  ``availableQuantity``. Not ``updateOffer``: it replaces the whole offer (the listing's
  content would have to be read and written back, racing a job's revise) and leaves the
  inventory item's quantity as it was; the Inventory OAS names bulkUpdatePriceQuantity the
  call for a SKU's price and quantity, and it revises the live listing in one request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity

from activities.ebay_bodies import live_listing_id
from activities.ebay_client import FULFILLMENT_API, EbayClient, error_ids, offer_gone
from activities.http_errors import (
    MARKETPLACE_VALIDATION_ERROR,
    error_for_response,
    marketplace_error,
)
from activities.sales_window import next_offset, orders_page, parse_utc, read_window
from domain.marketplaces import Marketplace, read_orders_activity_name, set_quantity_activity_name
from domain.sales import (
    OrderLine,
    OrdersPage,
    ReadOrdersRequest,
    SetQuantityRequest,
    SetQuantityResult,
)
from domain.timestamps import format_utc

MARKETPLACE = Marketplace.EBAY
PAGE_SIZE = 200
"""getOrders' largest ``limit`` (OAS: "If a requested limit is more than 200, the call fails")."""
HISTORY = timedelta(days=90) - timedelta(hours=1)
"""getOrders' filter "returns data from only the last 90 days" (an older start is 30830)."""
NOT_BUYABLE = frozenset({"OUT_OF_STOCK", "ENDED", "EBAY_ENDED", "INACTIVE", "NOT_LISTED"})
"""``ListingStatusEnum`` values of a listing buyers cannot buy from: sold out (eBay keeps a GTC
listing at quantity 0 as OUT_OF_STOCK) or ended."""


class EbaySalesActivities:
    """Orders and quantities over the worker's eBay client (its user token and pacing)."""

    def __init__(self, client: EbayClient) -> None:
        self.client = client

    @activity.defn(name=read_orders_activity_name(MARKETPLACE))
    async def read_orders_ebay(self, request: ReadOrdersRequest) -> OrdersPage:
        """Every order line modified since the cursor (less the overlap), and the next cursor."""
        window = read_window(MARKETPLACE, request, history=HISTORY)
        lines: list[OrderLine] = []
        offset: int | None = 0
        while offset is not None:
            activity.heartbeat({"step": "get_orders", "offset": offset})
            page = await self._orders(window.since, offset)
            orders = [o for o in page.get("orders") or [] if isinstance(o, dict)]
            for order in orders:
                lines += order_lines(order)
            offset = next_offset(offset, len(orders), int(page.get("total") or 0))
        return orders_page(lines, window, "ebay orders")

    @activity.defn(name=set_quantity_activity_name(MARKETPLACE))
    async def set_quantity_ebay(self, request: SetQuantityRequest) -> SetQuantityResult:
        """The live listing offers ``request.quantity`` units from now on; ``ended`` when eBay
        has ended it or it sold out there (nothing written: it is not brought back)."""
        offer_id = request.current.offer_id or await self._offer_id_of(request)
        offer = await self._offer(offer_id) if offer_id else None
        if offer is None or not buyable(offer):
            activity.logger.info("ebay sku=%s not buyable: quantity left alone", request.sku)
            return SetQuantityResult(marketplace=MARKETPLACE, quantity=0, ended=True)
        assert offer_id is not None
        if offer.get("availableQuantity") == request.quantity:
            return SetQuantityResult(marketplace=MARKETPLACE, quantity=request.quantity)
        activity.heartbeat({"step": "bulk_update_price_quantity", "offer_id": offer_id})
        body = {
            "requests": [
                {
                    "sku": request.sku,
                    "shipToLocationAvailability": {"quantity": request.quantity},
                    "offers": [{"offerId": offer_id, "availableQuantity": request.quantity}],
                }
            ]
        }
        response = await self.client.call(
            "bulk_update_price_quantity", "POST", "/bulk_update_price_quantity", json=body
        )
        failed = [
            answer
            for answer in response.json().get("responses") or []
            if isinstance(answer, dict) and answer.get("statusCode") != 200
        ]
        if any(e.get("errorId") == 25713 for a in failed for e in a.get("errors") or []):
            return SetQuantityResult(marketplace=MARKETPLACE, quantity=0, ended=True)
        if failed:
            raise marketplace_error(
                MARKETPLACE,
                "bulk_update_price_quantity",
                MARKETPLACE_VALIDATION_ERROR,
                f"quantity of {request.sku} not set: {failed}"[:300],
                status=response.status_code,
            )
        activity.logger.info("ebay sku=%s quantity set to %d", request.sku, request.quantity)
        return SetQuantityResult(marketplace=MARKETPLACE, quantity=request.quantity)

    async def _orders(self, since: datetime, offset: int) -> dict[str, Any]:
        response = await self.client.call(
            "get_orders",
            "GET",
            "/order",
            api=FULFILLMENT_API,
            params={
                "filter": f"lastmodifieddate:[{format_utc(since)}..]",
                "limit": str(PAGE_SIZE),
                "offset": str(offset),
            },
        )
        page: dict[str, Any] = response.json()
        return page

    async def _offer(self, offer_id: str) -> dict[str, Any] | None:
        """getOffer; None when eBay no longer has the offer."""
        response = await self.client.call(
            "get_offer", "GET", f"/offer/{offer_id}", expected=(400, 404)
        )
        if response.is_success:
            found: dict[str, Any] = response.json()
            return found
        if offer_gone(response):
            return None
        raise error_for_response(MARKETPLACE, "get_offer", response)

    async def _offer_id_of(self, request: SetQuantityRequest) -> str | None:
        """A listing known from before offer ids were kept: its offer by SKU (getOffers)."""
        response = await self.client.call(
            "get_offers", "GET", "/offer", params={"sku": request.sku}, expected=(404,)
        )
        if response.status_code == 404:
            activity.logger.info("ebay sku=%s: no offers %s", request.sku, error_ids(response))
            return None
        for offer in response.json().get("offers") or []:
            if live_listing_id(offer) == request.current.listing_id:
                return str(offer["offerId"])
        return None


def buyable(offer: dict[str, Any]) -> bool:
    """A published offer whose listing buyers can buy from now."""
    status = (offer.get("listing") or {}).get("listingStatus")
    return live_listing_id(offer) is not None and status not in NOT_BUYABLE


def order_lines(order: dict[str, Any]) -> list[OrderLine]:
    """The ``OrderLine`` of each line item of a getOrders ``Order`` that names a SKU (a line
    without one was not listed through the Inventory API: not ours). A cancelled order is no
    sale: eBay gives the stock back."""
    order_id = order.get("orderId")
    if (order.get("cancelStatus") or {}).get("cancelState") == "CANCELED":
        activity.logger.info("ebay order %s is cancelled: not a sale", order_id)
        return []
    sold_at = _when(order.get("creationDate"))
    lines = []
    for item in order.get("lineItems") or []:
        sku, quantity, line_id = item.get("sku"), item.get("quantity"), item.get("lineItemId")
        if not (isinstance(order_id, str) and sku and line_id and isinstance(quantity, int)):
            activity.logger.info("ebay order %s line %s: no SKU or quantity", order_id, line_id)
            continue
        if quantity < 1:
            continue
        lines.append(
            OrderLine(
                marketplace=MARKETPLACE,
                order_id=order_id,
                line_id=str(line_id),
                sku=str(sku),
                quantity=quantity,
                sold_at=sold_at,
                listing_id=str(item["legacyItemId"]) if item.get("legacyItemId") else None,
            )
        )
    return lines


def _when(text: Any) -> datetime:
    try:
        return parse_utc(str(text))
    except ValueError:
        return datetime.now(UTC)
