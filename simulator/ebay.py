"""Simulated eBay Sell Inventory API: inventory item; offer create, get, update, delete,
publish, withdraw; get offers by SKU; bulk price and quantity. And the router of every
simulated eBay API (Inventory, Metadata, Taxonomy, Fulfillment).

Publishing, and revising a published offer, check what eBay checks at publish time
(``simulator.ebay_checks``). An unknown offer is 400 errorId 25713 wherever the OAS lists it
(getOffer, updateOffer, deleteOffer, publishOffer, withdrawOffer).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplace_limits import EBAY_SITES
from domain.marketplaces import Marketplace
from simulator import ebay_metadata, ebay_orders, ebay_taxonomy
from simulator.ebay_access import INVENTORY_SCOPES
from simulator.ebay_checks import SKU, content_language, listing_problems, publish_problem
from simulator.errors import ebay_error
from simulator.pipeline import MarketplaceSurface, read_json, sim_state
from simulator.state import EbayOffer, SimState

PREFIX = "/ebay/sell/inventory/v1"


def _authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    return sim.ebay_access.admit(request, INVENTORY_SCOPES)


surface = MarketplaceSurface(Marketplace.EBAY, _authenticate)
inventory = APIRouter(prefix=PREFIX)
router = APIRouter()
"""Every simulated eBay API; ``simulator.app`` includes it."""


@inventory.put("/inventory_item/{sku}")
@surface.operation("put_inventory_item")
async def put_inventory_item(request: Request, sku: str) -> Response:
    """createOrReplaceInventoryItem: replaces the whole record; 204 without warnings. The
    record keeps the locale it was written in (``Content-Language``)."""
    locale, problem = content_language(request)
    if problem:
        return problem
    if not SKU.fullmatch(sku):
        return ebay_error(
            400,
            25707,
            "This is an invalid value for a SKU. Only alphanumeric "
            "characters can be used for SKUs, and their length must not exceed 50.",
        )
    body = await read_json(request)
    if not isinstance(body, dict):
        return ebay_error(400, 25709, "Invalid value for request body.")
    sim = sim_state(request)
    item = {**body, "locale": locale}
    for offer in sim.ebay_offers.values():
        # The item of a live listing: replacing it revises the listing, checked as a publish.
        if offer.sku == sku and offer.published and (problem := listing_problems(item, offer)):
            return problem
    sim.ebay_inventory[sku] = item
    return Response(status_code=204)


@inventory.post("/offer")
@surface.operation("create_offer")
async def create_offer(request: Request) -> Response:
    """createOffer: one offer per sku/marketplaceId/format, else 400 25002 with the offerId."""
    locale, problem = content_language(request)
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
    if not offer.published:
        if problem := publish_problem(sim, offer):
            return problem
        offer.listing_id = str(sim.next_id("ebay_listing", 110_000_000_000))
        offer.status = "PUBLISHED"
    return JSONResponse({"listingId": offer.listing_id, "warnings": []})


def _unknown_offer(offer_id: str) -> Response:
    return ebay_error(400, 25713, f"This Offer is not available : {offer_id}.")


@inventory.get("/offer/{offer_id}")
@surface.operation("get_offer")
async def get_offer(request: Request, offer_id: str) -> Response:
    """getOffer: the offer, published or not (``listing`` only when published)."""
    offer = sim_state(request).ebay_offers.get(offer_id)
    return _unknown_offer(offer_id) if offer is None else JSONResponse(offer.view())


@inventory.put("/offer/{offer_id}")
@surface.operation("update_offer")
async def update_offer(request: Request, offer_id: str) -> Response:
    """updateOffer: replaces the whole offer (OAS: "a complete replacement of the existing
    offer object"); sku, marketplace and format stay. A published offer is a live listing:
    the new offer must pass the publish checks, and the listing shows it at once. An
    unpublished (or withdrawn) one is just stored: no listing is revised."""
    locale, problem = content_language(request)
    if problem:
        return problem
    sim = sim_state(request)
    offer = sim.ebay_offers.get(offer_id)
    if offer is None:
        return _unknown_offer(offer_id)
    body = await read_json(request)
    if not isinstance(body, dict):
        return ebay_error(400, 25709, "Invalid value for request body.")
    keys = {"sku": offer.sku, "marketplaceId": offer.marketplace_id, "format": offer.format}
    revised = replace(offer, body={**body, **keys}, locale=locale)
    if offer.published:
        item = sim.ebay_inventory.get(offer.sku) or {}
        if problem := listing_problems(item, revised):
            return problem
    offer.body, offer.locale = revised.body, revised.locale
    return Response(status_code=204)


@inventory.delete("/offer/{offer_id}")
@surface.operation("delete_offer")
async def delete_offer(request: Request, offer_id: str) -> Response:
    """deleteOffer: an unpublished offer is deleted; a published one ends its listing and is
    deleted too (OAS)."""
    if sim_state(request).ebay_offers.pop(offer_id, None) is None:
        return _unknown_offer(offer_id)
    return Response(status_code=204)


@inventory.post("/offer/{offer_id}/withdraw")
@surface.operation("withdraw_offer")
async def withdraw_offer(request: Request, offer_id: str) -> Response:
    """withdrawOffer: ends the listing; the offer stays, unpublished, and publishOffer lists
    it again (as a new listing). ASSUMPTION: withdrawing an offer that is not published is
    400 errorId 25002 (the OAS lists 25002 "Any User error" and 25713; which one eBay gives
    here is not documented)."""
    offer = sim_state(request).ebay_offers.get(offer_id)
    if offer is None:
        return _unknown_offer(offer_id)
    if not offer.published:
        return ebay_error(400, 25002, "A user error has occurred. The offer is not published.")
    offer.ended_listing_id, offer.listing_id = offer.listing_id, None
    offer.status = "UNPUBLISHED"
    return JSONResponse({"listingId": offer.ended_listing_id, "warnings": []})


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


@inventory.post("/bulk_update_price_quantity")
@surface.operation("bulk_update_price_quantity")
async def bulk_update_price_quantity(request: Request) -> Response:
    """bulkUpdatePriceQuantity: per SKU (at most 25 requests), the item's ship-to-home quantity
    and each offer's ``availableQuantity`` / price. A published offer's live listing is revised
    at once (an ``OUT_OF_STOCK`` one given stock is buyable again). 200 when every entry
    succeeded, else 207 with the failed entries' errors (OAS)."""
    sim = sim_state(request)
    body = await read_json(request)
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not 1 <= len(requests) <= 25:
        return ebay_error(400, 25709, "Invalid value for requests.")
    responses = [answer for entry in requests for answer in _price_quantity(sim, entry)]
    status = 200 if all(r["statusCode"] == 200 for r in responses) else 207
    return JSONResponse({"responses": responses}, status_code=status)


def _price_quantity(sim: SimState, entry: Any) -> list[dict[str, Any]]:
    """Apply one ``PriceQuantity``; one ``PriceQuantityResponse`` per offer (or per SKU)."""
    sku = entry.get("sku") if isinstance(entry, dict) else None
    if not isinstance(sku, str) or sku not in sim.ebay_inventory:
        return [_failed(sku, None, 25702, f"{sku} could not be found or is not available.")]
    ship = entry.get("shipToLocationAvailability")
    quantity = ship.get("quantity") if isinstance(ship, dict) else None
    if ship is not None and not (isinstance(quantity, int) and quantity >= 0):
        return [_failed(sku, None, 25709, "Invalid value for shipToLocationAvailability.")]
    offers = entry.get("offers") or []
    answers: list[dict[str, Any]] = []
    for entry_offer in offers if isinstance(offers, list) else [None]:
        change: dict[str, Any] = entry_offer if isinstance(entry_offer, dict) else {}
        offer_id = change.get("offerId")
        offer = sim.ebay_offers.get(str(offer_id))
        available = change.get("availableQuantity")
        if offer is None:
            answers.append(
                _failed(sku, offer_id, 25713, f"This Offer is not available : {offer_id}.")
            )
        elif offer.sku != sku:
            answers.append(_failed(sku, offer_id, 25002, "The offer belongs to another SKU."))
        elif available is not None and not (isinstance(available, int) and available >= 0):
            answers.append(_failed(sku, offer_id, 25709, "Invalid value for availableQuantity."))
        else:
            if available is not None:
                offer.body["availableQuantity"] = available
            if isinstance(change.get("price"), dict):
                offer.body.setdefault("pricingSummary", {})["price"] = change["price"]
            answers.append({"sku": sku, "offerId": offer.offer_id, "statusCode": 200})
    if quantity is not None and not any(a["statusCode"] != 200 for a in answers):
        sim.ebay_inventory[sku].setdefault("availability", {})["shipToLocationAvailability"] = {
            "quantity": quantity
        }
    return answers or [{"sku": sku, "statusCode": 200}]


def _failed(sku: Any, offer_id: Any, error_id: int, message: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"sku": str(sku), "statusCode": 400}
    if offer_id is not None:
        answer["offerId"] = str(offer_id)
    error = {"errorId": error_id, "domain": "API_INVENTORY", "category": "REQUEST"}
    answer["errors"] = [{**error, "message": message}]
    return answer


router.include_router(inventory)
router.include_router(ebay_metadata.router)
router.include_router(ebay_taxonomy.router)
router.include_router(ebay_orders.router)
