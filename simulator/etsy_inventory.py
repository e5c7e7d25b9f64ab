"""Simulated Etsy listing inventory: getListingInventory and updateListingInventory (the
products, their SKU and offerings: price, quantity, enabled). Etsy keeps a listing's quantity
and price here; the listing shows their sum and lowest (OAS ``ShopListing``)."""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from simulator import etsy_rules as rules
from simulator.errors import etsy_error
from simulator.etsy import PREFIX, surface
from simulator.etsy_views import inventory_view, listing_view
from simulator.pipeline import read_json, sim_state

router = APIRouter(prefix=PREFIX)


def _products_problem(products: Any) -> Response | None:
    if not isinstance(products, list) or not products:
        return etsy_error(400, "products must be a non-empty array")
    for product in products:
        offerings = product.get("offerings") if isinstance(product, dict) else None
        if not isinstance(offerings, list) or not offerings:
            return etsy_error(400, "each product needs a non-empty offerings array")
        for offering in offerings:
            if not isinstance(offering, dict) or not {"price", "quantity", "is_enabled"} <= set(
                offering
            ):
                return etsy_error(400, "each offering needs price, quantity and is_enabled")
            if problem := rules.price_problem(offering["price"]):
                return problem
    return None


@router.get("/listings/{listing_id}/inventory")
@surface.operation("get_inventory")
async def get_listing_inventory(request: Request, listing_id: int) -> Response:
    """getListingInventory; ``includes=Listing`` attaches the listing (its ``state``)."""
    listing = sim_state(request).etsy_listings.get(listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    view = inventory_view(listing)
    if request.query_params.get("includes") == "Listing":
        view["listing"] = listing_view(listing)
    return JSONResponse(view)


@router.put("/listings/{listing_id}/inventory")
@surface.operation("update_inventory")
async def update_listing_inventory(request: Request, listing_id: int) -> Response:
    """updateListingInventory (JSON): replaces the products; SKUs live here. The listing's
    quantity becomes the sum of enabled offerings, its price the lowest (OAS ShopListing)."""
    listing = sim_state(request).etsy_listings.get(listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    body = await read_json(request)
    products = body.get("products") if isinstance(body, dict) else None
    if problem := _products_problem(products):
        return problem
    listing.products = cast(list[dict[str, Any]], products)
    offerings = [o for p in listing.products for o in p["offerings"] if o["is_enabled"]]
    if offerings:
        listing.fields["quantity"] = str(sum(int(o["quantity"]) for o in offerings))
        listing.fields["price"] = str(min(float(o["price"]) for o in offerings))
    return JSONResponse(inventory_view(listing))
