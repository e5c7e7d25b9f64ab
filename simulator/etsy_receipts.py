"""Simulated Etsy shop receipts: ``getShopReceipts`` (Etsy Open API v3), and what a sale does to
the shop's listing and receipts (``POST /__sim/sales``).

A sale lowers the listing's offering quantity (and so the listing's ``quantity``); at 0 the
listing is ``sold_out`` (OAS ``ShopListing.state``). The purchase is a ``ShopReceipt`` whose
``transactions`` carry the ``sku``, ``listing_id``, ``transaction_id`` and ``quantity``.
``getShopReceipts`` filters by ``min_created``/``max_created``/``min_last_modified``/
``max_last_modified`` (Unix seconds, at least 946684800), ``was_paid``, ``was_shipped``,
``was_canceled``, sorts by ``sort_on`` (created, updated, receipt_id) and ``sort_order``
(default desc), pages with ``limit`` (1-100, default 25) and ``offset``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from simulator import etsy_rules as rules
from simulator.errors import SaleRefused, etsy_error
from simulator.etsy import PREFIX, surface
from simulator.pipeline import sim_state
from simulator.state import EtsyListing, SimState

router = APIRouter(prefix=PREFIX)
MIN_TIMESTAMP = 946684800
BUYER_USER_ID = 87654321
_TIME_FILTERS: dict[str, tuple[str, Callable[[int, int], bool]]] = {
    "min_created": ("created_timestamp", lambda value, bound: value >= bound),
    "max_created": ("created_timestamp", lambda value, bound: value <= bound),
    "min_last_modified": ("updated_timestamp", lambda value, bound: value >= bound),
    "max_last_modified": ("updated_timestamp", lambda value, bound: value <= bound),
}
_FLAGS = {"was_paid": "is_paid", "was_shipped": "is_shipped"}
_SORT_KEYS = {"created": "created_timestamp", "updated": "updated_timestamp"}
_ASCENDING = {"asc", "ascending", "up"}
_DESCENDING = {"desc", "descending", "down"}


def _flag(text: str) -> bool | None:
    return {"true": True, "1": True, "false": False, "0": False}.get(text.lower())


@router.get("/shops/{shop_id}/receipts")
@surface.operation("get_receipts")
async def get_shop_receipts(request: Request, shop_id: str) -> Response:
    """getShopReceipts: the shop's receipts, filtered, sorted and paged as the OAS says."""
    sim = sim_state(request)
    if shop_id != sim.settings.etsy_shop_id:
        return etsy_error(404, f"Could not find a Shop with shop_id = {shop_id}")
    params = request.query_params
    receipts = list(sim.etsy_receipts)
    for name, (field, keep) in _TIME_FILTERS.items():
        if name not in params:
            continue
        raw = params[name]
        if not raw.isdigit() or int(raw) < MIN_TIMESTAMP:
            return etsy_error(400, f"{name} must be an integer Unix timestamp >= {MIN_TIMESTAMP}")
        receipts = [r for r in receipts if keep(r[field], int(raw))]
    for name in (*_FLAGS, "was_canceled", "was_delivered"):
        if name not in params:
            continue
        wanted = _flag(params[name])
        if wanted is None:
            return etsy_error(400, f"{name} must be a boolean")
        if name == "was_canceled":
            receipts = [r for r in receipts if (r["status"] == "canceled") == wanted]
        elif name == "was_delivered":
            receipts = [r for r in receipts if not wanted]  # nothing is delivered here
        else:
            receipts = [r for r in receipts if r[_FLAGS[name]] == wanted]
    sort_on, order = params.get("sort_on", "created"), params.get("sort_order", "desc")
    if sort_on not in (*_SORT_KEYS, "receipt_id") or order not in _ASCENDING | _DESCENDING:
        return etsy_error(400, "sort_on or sort_order has an invalid value")
    key = _SORT_KEYS.get(sort_on, "receipt_id")
    receipts.sort(key=lambda r: (r[key], r["receipt_id"]), reverse=order in _DESCENDING)
    limit, offset = params.get("limit", "25"), params.get("offset", "0")
    if not (limit.isdigit() and offset.isdigit()) or not 1 <= int(limit) <= 100:
        return etsy_error(400, "limit must be between 1 and 100 and offset must be >= 0")
    page = receipts[int(offset) : int(offset) + int(limit)]
    return JSONResponse({"count": len(receipts), "results": page})


# -- a buyer purchases (POST /__sim/sales) -------------------------------------------------------


def sell(sim: SimState, sku: str, quantity: int) -> str:
    """A buyer buys ``quantity`` of the SKU's active listing: its offering loses that stock
    (``sold_out`` at 0) and the receipt appears in getShopReceipts. Returns the receipt_id."""
    listings = [item for item in sim.etsy_listings.values() if sku in item.skus]
    if not listings:
        raise SaleRefused(404, f"Etsy has no listing with SKU {sku}")
    live = next((item for item in listings if item.state == "active"), None)
    if live is None:
        raise SaleRefused(409, f"SKU {sku} is not live on Etsy (no active listing)")
    offering = _offering(live, sku)
    available = int(offering["quantity"]) if offering else 0
    if offering is None or quantity > available:
        raise SaleRefused(
            400, f"Etsy listing {live.listing_id} has {available} left, not {quantity}"
        )
    offering["quantity"] = available - quantity
    enabled = [o for p in live.products for o in p["offerings"] if o["is_enabled"]]
    live.fields["quantity"] = str(sum(int(o["quantity"]) for o in enabled))
    if int(live.fields["quantity"]) == 0:
        live.state = "sold_out"
    receipt = _receipt(sim, live, sku, quantity, float(offering["price"]))
    sim.etsy_receipts.append(receipt)
    return str(receipt["receipt_id"])


def _offering(listing: EtsyListing, sku: str) -> dict[str, Any] | None:
    """The enabled offering buyers buy under ``sku``."""
    for product in listing.products:
        if product.get("sku") == sku:
            for offering in product["offerings"]:
                if offering["is_enabled"]:
                    return offering  # type: ignore[no-any-return]
    return None


def _receipt(
    sim: SimState, listing: EtsyListing, sku: str, quantity: int, price: float
) -> dict[str, Any]:
    """A paid, unshipped ``ShopReceipt`` with one ``ShopReceiptTransaction``."""
    now = int(time.time())
    receipt_id = sim.next_id("etsy_receipt", 3_000_000_000)
    currency = listing.fields["currency_code"]
    seller = int(listing.fields["user_id"])
    total = rules.money(price * quantity, currency)
    zero = rules.money(0, currency)
    transaction: dict[str, Any] = {
        "transaction_id": sim.next_id("etsy_transaction", 4_100_000_000),
        "title": listing.fields.get("title"),
        "description": listing.fields.get("description"),
        "seller_user_id": seller,
        "buyer_user_id": BUYER_USER_ID,
        "create_timestamp": now,
        "created_timestamp": now,
        "paid_timestamp": now,
        "shipped_timestamp": None,
        "quantity": quantity,
        "listing_image_id": listing.images[0]["listing_image_id"] if listing.images else None,
        "receipt_id": receipt_id,
        "is_digital": False,
        "file_data": "",
        "listing_id": listing.listing_id,
        "transaction_type": "listing",
        "product_id": listing.listing_id * 100 + 1,
        "sku": sku,
        "price": rules.money(price, currency),
        "shipping_cost": zero,
        "variations": [],
        "product_data": [],
        "shipping_profile_id": int(listing.fields.get("shipping_profile_id") or 0) or None,
        "buyer_coupon": 0,
        "shop_coupon": 0,
    }
    return {
        "receipt_id": receipt_id,
        "receipt_type": 0,
        "seller_user_id": seller,
        "buyer_user_id": BUYER_USER_ID,
        "name": "Sim Buyer",
        "status": "paid",
        "payment_method": "cc",
        "is_paid": True,
        "is_shipped": False,
        "create_timestamp": now,
        "created_timestamp": now,
        "update_timestamp": now,
        "updated_timestamp": now,
        "is_gift": False,
        "grandtotal": total,
        "subtotal": total,
        "total_price": total,
        "total_shipping_cost": zero,
        "total_tax_cost": zero,
        "total_vat_cost": zero,
        "discount_amt": zero,
        "gift_wrap_price": zero,
        "shipments": [],
        "transactions": [transaction],
        "refunds": [],
    }
