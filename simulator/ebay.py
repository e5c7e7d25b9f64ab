"""Simulated eBay Sell Inventory API: inventory item, offer, publish, get offers; and the
router of every simulated eBay API (Inventory, Metadata, Taxonomy).

Publishing checks what eBay checks at publish time (publishOffer's OAS error list): required
fields (25017), location (25012), policies (25007-25009), the marketplace's language (25604),
the category (25005), its conditions (25021) and required item specifics (25029), the
description's length (25080) and the marketplace's currency (25003).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplace_limits import EBAY_PRODUCT_DESCRIPTION_MAX, EBAY_SITES
from domain.marketplaces import Marketplace
from simulator import ebay_categories, ebay_metadata, ebay_taxonomy
from simulator.ebay_access import INVENTORY_SCOPES
from simulator.errors import ebay_error
from simulator.pipeline import MarketplaceSurface, read_json, sim_state
from simulator.state import EbayOffer, SimState

PREFIX = "/ebay/sell/inventory/v1"
_SKU = re.compile(r"[A-Za-z0-9]{1,50}")
KNOWN_LOCALES = {locale for site in EBAY_SITES.values() for locale in site.locales}


def _authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    return sim.ebay_access.admit(request, INVENTORY_SCOPES)


surface = MarketplaceSurface(Marketplace.EBAY, _authenticate)
inventory = APIRouter(prefix=PREFIX)
router = APIRouter()
"""Every simulated eBay API; ``simulator.app`` includes it."""


def _content_language(request: Request) -> tuple[str | None, Response | None]:
    """The request's locale, or the 400 a missing or unknown one gets."""
    locale = request.headers.get("content-language")
    if not locale or locale not in KNOWN_LOCALES:
        return None, ebay_error(400, 25709, "Invalid value for header Content-Language.")
    return locale, None


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


@inventory.put("/inventory_item/{sku}")
@surface.operation("put_inventory_item")
async def put_inventory_item(request: Request, sku: str) -> Response:
    """createOrReplaceInventoryItem: replaces the whole record; 204 without warnings. The
    record keeps the locale it was written in (``Content-Language``)."""
    locale, problem = _content_language(request)
    if problem:
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
    sim_state(request).ebay_inventory[sku] = {**body, "locale": locale}
    return Response(status_code=204)


@inventory.post("/offer")
@surface.operation("create_offer")
async def create_offer(request: Request) -> Response:
    """createOffer: one offer per sku/marketplaceId/format, else 400 25002 with the offerId."""
    locale, problem = _content_language(request)
    if problem:
        return problem
    sim = sim_state(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        return ebay_error(400, 25709, "Invalid value for request body.")
    for name in ("sku", "marketplaceId", "format"):
        if not isinstance(body.get(name), str) or not body[name]:
            return ebay_error(400, 25709, f"Invalid value for {name}.")
    sku, marketplace_id, fmt = body["sku"], body["marketplaceId"], body["format"]
    if marketplace_id not in EBAY_SITES:
        return ebay_error(400, 25709, "Invalid value for marketplaceId.")
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
    sim.ebay_offers[offer_id] = EbayOffer(offer_id, sku, marketplace_id, fmt, {**body}, locale)
    return JSONResponse({"offerId": offer_id, "warnings": []}, status_code=201)


def _publish_problem(sim: SimState, offer: EbayOffer) -> Response | None:
    """The publish-time checks, in the order eBay's error list gives them."""
    item = sim.ebay_inventory.get(offer.sku)
    if item is None:
        return ebay_error(400, 25702, f"{offer.sku} could not be found or is not available.")
    return _missing_fields(item, offer) or _listing_problem(item, offer)


def _missing_fields(item: dict[str, Any], offer: EbayOffer) -> Response | None:
    """25017 missing field, 25012 location, 25007-25009 policies."""
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


def _listing_problem(item: dict[str, Any], offer: EbayOffer) -> Response | None:
    """What the marketplace and the category refuse of a complete listing."""
    marketplace_id = offer.marketplace_id
    site = EBAY_SITES[marketplace_id]
    # An item written in another language is not found on this marketplace: errorId 25604
    # at publish (bhushankummar/eBay-node-client#15, EBAY_DE with Content-Language en-US).
    for what, locale in (("inventory item", item.get("locale")), ("offer", offer.locale)):
        if locale not in site.locales:
            return ebay_error(
                400,
                25604,
                f"Input error. The {what} was written in {locale}; {marketplace_id} "
                f"takes {' or '.join(site.locales)} (Content-Language).",
            )
    category_id = str(offer.body.get("categoryId"))
    found = ebay_categories.category(marketplace_id, category_id)
    if found is None:
        return ebay_error(
            400,
            25005,
            "The eBay listing associated with the inventory item, or the unpublished offer has "
            f"an invalid category ID. {category_id} is not a leaf category of {marketplace_id}.",
        )
    condition = item.get("condition")
    allowed = ebay_categories.allowed_conditions(found)
    if condition not in allowed:
        return ebay_error(
            400,
            25021,
            "The eBay listing associated with the inventory item, or the unpublished offer has "
            f"invalid item condition information. {condition} is not allowed in category "
            f"{category_id}.",
        )
    aspects = _dig(item, "product", "aspects") or {}
    for name in ebay_categories.required_aspect_names(marketplace_id, found):
        values = aspects.get(name) if isinstance(aspects, dict) else None
        if not values:
            return ebay_error(
                400,
                25029,
                f"{name} is required for this category.",
                parameters=[{"name": "aspectName", "value": name}],
            )
    description = _dig(item, "product", "description") or ""
    if len(description) > EBAY_PRODUCT_DESCRIPTION_MAX:
        return ebay_error(
            400,
            25080,
            "The value of the product.description field is invalid. Field must not exceed "
            f"{EBAY_PRODUCT_DESCRIPTION_MAX} characters.",
        )
    currency = _dig(offer.body, "pricingSummary", "price", "currency")
    if currency != site.currency:
        return ebay_error(
            400,
            25003,
            "The eBay listing associated with the inventory item, or the unpublished offer has "
            f"an invalid price. {marketplace_id} takes prices in {site.currency}, not {currency}.",
        )
    return None


@inventory.post("/offer/{offer_id}/publish")
@inventory.post("/offer/{offer_id}/publish/")
@surface.operation("publish_offer")
async def publish_offer(request: Request, offer_id: str) -> Response:
    """publishOffer: turns the offer into a live listing. Republishing returns the same id.
    An unknown offer is 400 25713, as the OAS lists it."""
    sim = sim_state(request)
    offer = sim.ebay_offers.get(offer_id)
    if offer is None:
        return ebay_error(400, 25713, f"This Offer is not available : {offer_id}.")
    if offer.status != "PUBLISHED":
        if problem := _publish_problem(sim, offer):
            return problem
        offer.listing_id = str(sim.next_id("ebay_listing", 110_000_000_000))
        offer.status = "PUBLISHED"
    return JSONResponse({"listingId": offer.listing_id, "warnings": []})


@inventory.get("/offer")
@surface.operation("get_offers")
async def get_offers(request: Request) -> Response:
    """getOffers by SKU (optionally marketplace_id, format); 404 25713 when there is none
    (what third-party clients report; the OAS lists a bare 404)."""
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
        return ebay_error(404, 25713, "This Offer is not available : .")
    return JSONResponse({"total": len(offers), "size": len(offers), "limit": 25, "offers": offers})


router.include_router(inventory)
router.include_router(ebay_metadata.router)
router.include_router(ebay_taxonomy.router)
