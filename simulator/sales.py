"""``POST /__sim/sales``: a buyer purchases on one marketplace, and the simulator does what that
marketplace does (lowers the listing's quantity, ending it at 0, and reports the order where its
API reports orders: eBay getOrders, Etsy getShopReceipts, Vinted's ``ITEM_SOLD`` webhook)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from domain.marketplaces import Marketplace
from simulator import ebay_orders, etsy_receipts, vinted_sales
from simulator.errors import SaleRefused
from simulator.pipeline import sim_state
from simulator.state import SimState

router = APIRouter(prefix="/__sim", tags=["simulator control"])
PROBLEM = "application/problem+json"
SELLERS: dict[Marketplace, Callable[[SimState, str, int], str]] = {
    Marketplace.EBAY: ebay_orders.sell,
    Marketplace.ETSY: etsy_receipts.sell,
    Marketplace.VINTED: vinted_sales.sell,
}


def _problem(status: int, detail: str) -> JSONResponse:
    titles = {400: "Bad Request", 404: "Not Found", 409: "Conflict"}
    body = {"type": "about:blank", "title": titles[status], "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _sale(body: Any) -> tuple[str, str, int]:
    """``{"marketplace", "sku", "quantity"}`` (quantity default 1), else SaleRefused 400."""
    if not isinstance(body, dict) or set(body) - {"marketplace", "sku", "quantity"}:
        raise SaleRefused(400, 'body must be {"marketplace", "sku", "quantity"}')
    marketplace, sku, quantity = body.get("marketplace"), body.get("sku"), body.get("quantity", 1)
    if not isinstance(marketplace, str) or not isinstance(sku, str) or not sku:
        raise SaleRefused(400, "marketplace and sku must be non-empty strings")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise SaleRefused(400, "quantity must be an integer of at least 1")
    return marketplace, sku, quantity


@router.post("/sales", status_code=201)
async def sell(request: Request) -> JSONResponse:
    """A purchase: 201 ``{"order_id"}``. 400 for a bad body or more units than are live, 404
    for an unknown marketplace or a SKU it never listed, 409 when it is not live there."""
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return _problem(400, "body is not JSON")
    try:
        name, sku, quantity = _sale(body)
        if name not in {m.value for m in Marketplace}:
            raise SaleRefused(404, f"unknown marketplace {name!r}")
        marketplace = Marketplace(name)
        order_id = SELLERS[marketplace](sim_state(request), sku, quantity)
    except SaleRefused as refused:
        return _problem(refused.status, refused.detail)
    return JSONResponse(
        {"marketplace": marketplace.value, "sku": sku, "quantity": quantity, "order_id": order_id},
        status_code=201,
    )
