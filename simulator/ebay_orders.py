"""Simulated eBay Sell Fulfillment API: ``getOrders`` (ebay_sell_fulfillment_v1_oas3.yaml), and
what a sale does to the seller's listing and orders (``POST /__sim/sales``).

A sale lowers the published offer's ``availableQuantity`` and the inventory item's ship-to-home
quantity; at 0 the GTC listing is ``OUT_OF_STOCK`` (eBay's out-of-stock control, mandatory for
GTC listings: hidden and not buyable until a revise gives it stock). The order is recorded as
``getOrders`` shows it: one line item carrying the ``sku``, ``legacyItemId`` (the listing id)
and ``quantity``. ``getOrders`` filters by ``creationdate`` or ``lastmodifieddate``
(``[start..]`` or ``[start..end]``, ISO 8601 UTC), pages with ``limit`` (at most 200, default
50) and ``offset``, or takes ``orderIds`` (at most 50); the errors are the OAS's (30700-31100).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplaces import Marketplace
from domain.timestamps import format_utc
from simulator.ebay_access import FULFILLMENT_SCOPES
from simulator.errors import SaleRefused, ebay_error
from simulator.pipeline import MarketplaceSurface, sim_state
from simulator.state import EbayOffer, SimState, money_text

PREFIX = "/ebay/sell/fulfillment/v1"
DOMAIN = "API_FULFILLMENT"
MAX_LIMIT, DEFAULT_LIMIT, MAX_ORDER_IDS = 200, 50, 50
HISTORY = timedelta(days=90)
"""``filter`` "returns data from only the last 90 days" (OAS)."""
SELLER_ID = "sim_seller"
_RANGE = re.compile(r"\[(?P<start>[^\[\]]*)\.\.(?P<end>[^\[\]]*)\]")
_FILTER = re.compile(r"(?P<name>[a-z]+):(?P<value>\[[^\]]*\]|\{[^}]*\})")
_DATE_FIELDS = {"creationdate": "creationDate", "lastmodifieddate": "lastModifiedDate"}


def _authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    return sim.ebay_access.admit(request, FULFILLMENT_SCOPES)


surface = MarketplaceSurface(Marketplace.EBAY, _authenticate)
router = APIRouter(prefix=PREFIX)


def _error(error_id: int, message: str) -> Response:
    return ebay_error(400, error_id, message, domain=DOMAIN)


def _parse_date(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _date_range(value: str, now: datetime) -> tuple[datetime, datetime | None]:
    """``[start..]`` or ``[start..end]`` as the OAS describes, checked as eBay lists."""
    match = _RANGE.fullmatch(value)
    if match is None:
        raise _Refused(_error(30810, "Invalid date format"))
    if not match.group("start").strip():
        raise _Refused(_error(30820, "Start date is missing"))
    start = _parse_date(match.group("start"))
    end = _parse_date(match.group("end")) if match.group("end").strip() else None
    if start is None or (match.group("end").strip() and end is None):
        raise _Refused(_error(30810, "Invalid date format"))
    if start > now or (end is not None and end > now):
        raise _Refused(_error(30850, "Start and end dates can't be in the future"))
    if end is not None and start > end:
        raise _Refused(_error(30840, "Start date should be before end date"))
    if start < now - HISTORY:
        raise _Refused(
            _error(30830, "Start date must be within 90 days of end date and current date.")
        )
    return start, end


def _matching(orders: list[dict[str, Any]], raw_filter: str, now: datetime) -> list[Any]:
    """The orders the ``filter`` selects (creationdate wins over lastmodifieddate, OAS)."""
    criteria: dict[str, str] = {}
    rest = raw_filter.strip()
    while rest:
        match = _FILTER.match(rest)
        if match is None:
            name = rest.split(":", 1)[0]
            raise _Refused(_error(30700, f"Invalid filter name: {name}"))
        if match.group("name") not in (*_DATE_FIELDS, "orderfulfillmentstatus"):
            raise _Refused(_error(30700, f"Invalid filter name: {match.group('name')}"))
        criteria[match.group("name")] = match.group("value")
        rest = rest[match.end() :].lstrip(",").strip()
    date_name = next((n for n in _DATE_FIELDS if n in criteria), None)
    selected = [o for o in orders if _created(o) >= now - HISTORY]
    if date_name is not None:
        start, end = _date_range(criteria[date_name], now)
        field = _DATE_FIELDS[date_name]
        selected = [
            o for o in selected if start <= _at(o[field]) and (end is None or _at(o[field]) <= end)
        ]
    statuses = criteria.get("orderfulfillmentstatus")
    if statuses is not None:
        wanted = set(statuses.strip("{}").split("|"))
        selected = [o for o in selected if o["orderFulfillmentStatus"] in wanted]
    return selected


def _at(text: str) -> datetime:
    value = _parse_date(text)
    assert value is not None
    return value


def _created(order: dict[str, Any]) -> datetime:
    return _at(order["creationDate"])


def _int_param(request: Request, name: str, default: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    return int(raw) if raw.isdigit() else None


@router.get("/order")
@surface.operation("get_orders")
async def get_orders(request: Request) -> Response:
    """getOrders: ``orderIds``, or ``filter`` + ``limit``/``offset`` (oldest first)."""
    sim = sim_state(request)
    now = datetime.now(UTC)
    limit = _int_param(request, "limit", DEFAULT_LIMIT)
    offset = _int_param(request, "offset", 0)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        return _error(31100, f"Invalid limit: {request.query_params.get('limit')}")
    if offset is None:
        return _error(31000, f"Invalid offset: {request.query_params.get('offset')}")
    order_ids = request.query_params.get("orderIds")
    try:
        if order_ids is not None:
            wanted = [i.strip() for i in order_ids.split(",") if i.strip()]
            if len(wanted) > MAX_ORDER_IDS:
                return _error(
                    30900, "Exceeded maximum number of order IDs (the current limit is 50)"
                )
            selected = [o for o in sim.ebay_orders if o["orderId"] in wanted]
            limit, offset = max(len(selected), 1), 0
        else:
            selected = _matching(sim.ebay_orders, request.query_params.get("filter", ""), now)
    except _Refused as refused:
        return refused.response
    page = selected[offset : offset + limit]
    body: dict[str, Any] = {
        "href": str(request.url),
        "total": len(selected),
        "limit": limit,
        "offset": offset,
        "orders": page,
        "warnings": [],
    }
    if offset + limit < len(selected):
        body["next"] = str(request.url.include_query_params(offset=offset + limit))
    if offset > 0:
        body["prev"] = str(request.url.include_query_params(offset=max(0, offset - limit)))
    return JSONResponse(body)


# -- a buyer purchases (POST /__sim/sales) -------------------------------------------------------


def sell(sim: SimState, sku: str, quantity: int) -> str:
    """A buyer buys ``quantity`` of the SKU's live listing: its offer and item lose that stock
    (``OUT_OF_STOCK`` at 0) and the order appears in getOrders. Returns the orderId."""
    offers = [o for o in sim.ebay_offers.values() if o.sku == sku]
    if not offers and sku not in sim.ebay_inventory:
        raise SaleRefused(404, f"eBay has no inventory item or offer for SKU {sku}")
    live = next((o for o in offers if o.buyable), None)
    if live is None:
        raise SaleRefused(409, f"SKU {sku} is not live on eBay (no published offer in stock)")
    available = int(live.body.get("availableQuantity") or 0)
    if quantity > available:
        raise SaleRefused(
            400, f"eBay listing {live.listing_id} has {available} left, not {quantity}"
        )
    live.body["availableQuantity"] = available - quantity
    live.sold_quantity += quantity
    _lower_item_quantity(sim, sku, quantity)
    order = _order(sim, live, quantity)
    sim.ebay_orders.append(order)
    return str(order["orderId"])


def _lower_item_quantity(sim: SimState, sku: str, quantity: int) -> None:
    ship = (
        (sim.ebay_inventory.get(sku) or {})
        .get("availability", {})
        .get("shipToLocationAvailability")
    )
    if isinstance(ship, dict) and isinstance(ship.get("quantity"), int):
        ship["quantity"] = max(0, ship["quantity"] - quantity)


def _order(sim: SimState, offer: EbayOffer, quantity: int) -> dict[str, Any]:
    number = sim.next_id("ebay_order", 10_000_000)
    line_item_id = str(sim.next_id("ebay_line_item", 10_000_000_000))
    now = format_utc(datetime.now(UTC))
    item = sim.ebay_inventory.get(offer.sku) or {}
    price = (offer.body.get("pricingSummary") or {}).get("price") or {}
    currency = str(price.get("currency") or "EUR")
    unit = money_text(price.get("value")) or "0.00"
    total = f"{float(unit) * quantity:.2f}"
    amount = {"value": total, "currency": currency}
    return {
        # The form of eBay's order ids (e.g. 12-01234-56789).
        "orderId": f"12-{number // 100_000:05d}-{number % 100_000:05d}",
        "legacyOrderId": f"{offer.listing_id}-{line_item_id}",
        "creationDate": now,
        "lastModifiedDate": now,
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "PAID",
        "sellerId": SELLER_ID,
        "buyer": {"username": f"buyer_{number}"},
        "pricingSummary": {"priceSubtotal": amount, "total": amount},
        "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
        "salesRecordReference": str(number),
        "lineItems": [
            {
                "lineItemId": line_item_id,
                "legacyItemId": offer.listing_id,
                "sku": offer.sku,
                "title": (item.get("product") or {}).get("title") or offer.sku,
                "quantity": quantity,
                "lineItemCost": amount,
                "total": amount,
                "soldFormat": offer.format,
                "listingMarketplaceId": offer.marketplace_id,
                "purchaseMarketplaceId": offer.marketplace_id,
                "lineItemFulfillmentStatus": "NOT_STARTED",
            }
        ],
    }
