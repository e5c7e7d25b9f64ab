"""Simulated eBay Sell Inventory API: inventory item, offer, publish, get offers."""

from __future__ import annotations

import hmac
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplaces import Marketplace
from simulator.errors import ebay_error
from simulator.pipeline import MarketplaceSurface, read_json, sim_state
from simulator.state import EbayOffer, SimState

PREFIX = "/ebay/sell/inventory/v1"
_SKU = re.compile(r"[A-Za-z0-9]{1,50}")
_INVALID_TOKEN = "Invalid access token. Check the value of the Authorization HTTP request header."


def _authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # Compare against every accepted token, without an early exit.
    valid = scheme == "Bearer"
    valid &= any([hmac.compare_digest(token.encode(), t.encode()) for t in sim.ebay_tokens])
    if not valid:
        return ebay_error(401, 1001, _INVALID_TOKEN, domain="OAuth")
    return None


surface = MarketplaceSurface(Marketplace.EBAY, _authenticate)
router = APIRouter(prefix=PREFIX)


def _missing_content_language(request: Request) -> Response | None:
    if not request.headers.get("content-language"):
        return ebay_error(400, 25709, "Invalid value for header Content-Language.")
    return None


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


@router.put("/inventory_item/{sku}")
@surface.operation("put_inventory_item")
async def put_inventory_item(request: Request, sku: str) -> Response:
    """createOrReplaceInventoryItem: replaces the whole record; 204 without warnings."""
    if problem := _missing_content_language(request):
        return problem
    if not _SKU.fullmatch(sku):
        return ebay_error(
            400,
            25707,
            "This is an invalid value for a SKU. Only alphanumeric "
            "characters can be used for SKUs, and their length must not exceed 50.",
        )
    body = await read_json(request)
    if not isinstance(body, dict):
        return ebay_error(400, 25709, "Invalid value for request body.")
    sim_state(request).ebay_inventory[sku] = body
    return Response(status_code=204)


@router.post("/offer")
@surface.operation("create_offer")
async def create_offer(request: Request) -> Response:
    """createOffer: one offer per sku/marketplaceId/format, else 400 25002 with the offerId."""
    if problem := _missing_content_language(request):
        return problem
    sim = sim_state(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        return ebay_error(400, 25709, "Invalid value for request body.")
    for name in ("sku", "marketplaceId", "format"):
        if not isinstance(body.get(name), str) or not body[name]:
            return ebay_error(400, 25709, f"Invalid value for {name}.")
    sku, marketplace_id, fmt = body["sku"], body["marketplaceId"], body["format"]
    if sku not in sim.ebay_inventory:
        return ebay_error(
            400, 25702, f"{sku} could not be found or is not available in the system."
        )
    for offer in sim.ebay_offers.values():
        if (offer.sku, offer.marketplace_id, offer.format) == (sku, marketplace_id, fmt):
            return ebay_error(
                400,
                25002,
                "A user error has occurred. Offer entity already exists.",
                parameters=[{"name": "offerId", "value": offer.offer_id}],
            )
    offer_id = str(sim.next_id("ebay_offer", 5_000_000_000))
    sim.ebay_offers[offer_id] = EbayOffer(offer_id, sku, marketplace_id, fmt, body)
    return JSONResponse({"offerId": offer_id, "warnings": []}, status_code=201)


def _publish_problem(sim: SimState, offer: EbayOffer) -> Response | None:
    """The publish-time checks: 25017 missing field, 25012 location, 25007-25009 policies."""
    item = sim.ebay_inventory.get(offer.sku)
    if item is None:
        return ebay_error(400, 25702, f"{offer.sku} could not be found or is not available.")
    required_item = {
        "availability.shipToLocationAvailability.quantity": _dig(
            item, "availability", "shipToLocationAvailability", "quantity"
        ),
        "condition": item.get("condition"),
        "product.title": _dig(item, "product", "title"),
        "product.description": _dig(item, "product", "description"),
        "product.imageUrls": _dig(item, "product", "imageUrls"),
    }
    for name, value in required_item.items():
        if value in (None, "", []):
            return ebay_error(400, 25017, f"{name} is missing. The item cannot be published.")
    body = offer.body
    required_offer = {
        "categoryId": body.get("categoryId"),
        "pricingSummary.price.value": _dig(body, "pricingSummary", "price", "value"),
        "pricingSummary.price.currency": _dig(body, "pricingSummary", "price", "currency"),
        "listingDuration": body.get("listingDuration"),
    }
    for name, value in required_offer.items():
        if value in (None, ""):
            return ebay_error(400, 25017, f"{name} is missing. The offer cannot be published.")
    if not body.get("merchantLocationKey"):
        return ebay_error(400, 25012, "Invalid inventory location. merchantLocationKey is missing.")
    for error_id, policy in (
        (25007, "fulfillmentPolicyId"),
        (25008, "paymentPolicyId"),
        (25009, "returnPolicyId"),
    ):
        if not _dig(body, "listingPolicies", policy):
            return ebay_error(400, error_id, f"Invalid data in the associated policy: {policy}.")
    return None


@router.post("/offer/{offer_id}/publish")
@router.post("/offer/{offer_id}/publish/")
@surface.operation("publish_offer")
async def publish_offer(request: Request, offer_id: str) -> Response:
    """publishOffer: turns the offer into a live listing. Republishing returns the same id."""
    sim = sim_state(request)
    offer = sim.ebay_offers.get(offer_id)
    if offer is None:
        return ebay_error(404, 25713, "This Offer is not available.")
    if offer.status != "PUBLISHED":
        if problem := _publish_problem(sim, offer):
            return problem
        offer.listing_id = str(sim.next_id("ebay_listing", 110_000_000_000))
        offer.status = "PUBLISHED"
    return JSONResponse({"listingId": offer.listing_id, "warnings": []})


@router.get("/offer")
@surface.operation("get_offers")
async def get_offers(request: Request) -> Response:
    """getOffers by SKU (optionally marketplace_id, format); 404 25713 when there is none."""
    sku = request.query_params.get("sku")
    if not sku:
        return ebay_error(400, 25709, "Invalid value for sku.")
    marketplace_id = request.query_params.get("marketplace_id")
    fmt = request.query_params.get("format")
    offers = [
        o.view()
        for o in sim_state(request).ebay_offers.values()
        if o.sku == sku
        and (marketplace_id is None or o.marketplace_id == marketplace_id)
        and (fmt is None or o.format == fmt)
    ]
    if not offers:
        return ebay_error(404, 25713, "This Offer is not available.")
    return JSONResponse({"total": len(offers), "size": len(offers), "limit": 25, "offers": offers})
