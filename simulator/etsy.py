"""Simulated Etsy Open API v3: draft listings, images, inventory, activation, shop listings."""

from __future__ import annotations

import hmac
import time
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, cast
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplaces import Marketplace
from simulator.errors import etsy_error
from simulator.pipeline import MarketplaceSurface, read_json, sim_state
from simulator.state import EtsyListing, SimState

PREFIX = "/etsy/v3/application"
LIMIT_PER_SECOND = 10
LIMIT_PER_DAY = 10_000
SHOP_CURRENCY = "EUR"
REQUIRED_DRAFT_FIELDS = (
    "quantity",
    "title",
    "description",
    "price",
    "who_made",
    "when_made",
    "taxonomy_id",
    "shipping_profile_id",
)
WHO_MADE = {"i_did", "someone_else", "collective"}
WHEN_MADE = set(
    "made_to_order 2020_2025 2020_2021 2010_2019 2006_2009 2002_2009 before_2006 before_2002"
    " 2000_2005 2000_2001 1990s 1980s 1970s 1960s 1950s 1940s 1930s 1920s 1910s 1900s 1800s"
    " 1700s before_1700".split()
)
"""Current and 2021 OAS values of ``when_made``."""


def _authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    api_key = request.headers.get("x-api-key", "")
    if not api_key:
        return etsy_error(401, "Missing x-api-key header")
    if ":" not in api_key:
        return etsy_error(403, "Shared secret is required in x-api-key header")
    if not hmac.compare_digest(
        api_key.encode(), sim.settings.etsy_api_key.get_secret_value().encode()
    ):
        return etsy_error(403, "Invalid API key")
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    user_id, _, rest = token.partition(".")
    expected = sim.settings.etsy_access_token.get_secret_value()
    if (
        not user_id.isdigit()
        or not rest
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        return etsy_error(401, "invalid_token")
    return None


def _rate_headers(response: Response, sim: SimState) -> None:
    """Etsy sends its quota on every answer; the simulator counts but does not enforce it."""
    second = int(time.time())
    at, used = sim.etsy_second
    used = used + 1 if at == second else 1
    sim.etsy_second = (second, used)
    sim.etsy_calls_today += 1
    exhausted = response.status_code == 429
    response.headers["x-limit-per-second"] = str(LIMIT_PER_SECOND)
    response.headers["x-remaining-this-second"] = (
        "0" if exhausted else str(max(0, LIMIT_PER_SECOND - used))
    )
    response.headers["x-limit-per-day"] = str(LIMIT_PER_DAY)
    response.headers["x-remaining-today"] = str(max(0, LIMIT_PER_DAY - sim.etsy_calls_today))


surface = MarketplaceSurface(Marketplace.ETSY, _authenticate, _rate_headers)
router = APIRouter(prefix=PREFIX)


def listing_view(listing: EtsyListing, *, with_images: bool = False) -> dict[str, Any]:
    """The ShopListing resource (the fields the simulator keeps)."""
    fields = listing.fields
    cents = int(Decimal(str(fields["price"])) * 100)
    view: dict[str, Any] = {
        "listing_id": listing.listing_id,
        "user_id": int(fields["user_id"]),
        "shop_id": int(listing.shop_id),
        "title": fields["title"],
        "description": fields["description"],
        "state": listing.state,
        "quantity": int(fields["quantity"]),
        "url": listing.url,
        "who_made": fields["who_made"],
        "when_made": fields["when_made"],
        "taxonomy_id": int(fields["taxonomy_id"]),
        "shipping_profile_id": int(fields["shipping_profile_id"]),
        "price": {"amount": cents, "divisor": 100, "currency_code": SHOP_CURRENCY},
        "skus": listing.skus,
        "tags": [t.strip() for t in fields.get("tags", "").split(",") if t.strip()],
        "creation_timestamp": int(listing.created_at),
    }
    if with_images:
        view["images"] = listing.images
    return view


def _form(body: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _shop_problem(request: Request, shop_id: str) -> Response | None:
    if shop_id != sim_state(request).settings.etsy_shop_id:
        return etsy_error(404, f"Could not find a Shop with shop_id = {shop_id}")
    return None


def _draft_problem(fields: dict[str, str]) -> str | None:
    missing = [name for name in REQUIRED_DRAFT_FIELDS if not fields.get(name)]
    if missing:
        return f"Missing required parameter(s): {', '.join(missing)}"
    for name in ("quantity", "taxonomy_id", "shipping_profile_id"):
        if not fields[name].isdigit() or int(fields[name]) <= 0:
            return f"Expected parameter '{name}' to be a positive integer"
    try:
        price = Decimal(fields["price"])
    except InvalidOperation:
        return "Expected parameter 'price' to be a float"
    if not price.is_finite() or price < Decimal("0.20") or price > Decimal("50000"):
        return "Price must be between 0.20 and 50000.00"
    if fields["who_made"] not in WHO_MADE:
        return f"who_made must be one of {', '.join(sorted(WHO_MADE))}"
    if fields["when_made"] not in WHEN_MADE:
        return "when_made is not a valid value"
    return None


def _listing(request: Request, listing_id: int) -> EtsyListing | None:
    return sim_state(request).etsy_listings.get(listing_id)


@router.post("/shops/{shop_id}/listings")
@surface.operation("create_draft")
async def create_draft_listing(request: Request, shop_id: str) -> Response:
    """createDraftListing (form-urlencoded). Not idempotent: duplicates are allowed."""
    if problem := _shop_problem(request, shop_id):
        return problem
    fields = _form(await request.body())
    if problem_text := _draft_problem(fields):
        return etsy_error(400, problem_text)
    sim = sim_state(request)
    fields["user_id"] = sim.settings.etsy_access_token.get_secret_value().partition(".")[0]
    listing = EtsyListing(sim.next_id("etsy_listing", 1_000_000_000), shop_id, fields)
    sim.etsy_listings[listing.listing_id] = listing
    return JSONResponse(listing_view(listing), status_code=201)


@router.get("/listings/{listing_id}")
@surface.operation("get_listing")
async def get_listing(request: Request, listing_id: int) -> Response:
    """getListing; ``includes=Images`` adds the images."""
    listing = _listing(request, listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    with_images = "Images" in request.query_params.get("includes", "")
    return JSONResponse(listing_view(listing, with_images=with_images))


async def _image_source(request: Request) -> str | None:
    """Where the image comes from: a multipart ``image`` file (as on Etsy), or, as a
    simulator convenience, an ``image_url`` field in a form-urlencoded or JSON body."""
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "image":
                filename = part.get_filename() or "upload"
                return f"multipart:{filename}"
        return None
    if content_type.startswith("application/json"):
        data = await read_json(request)
        url = data.get("image_url") if isinstance(data, dict) else None
        return url if isinstance(url, str) and url else None
    return _form(body).get("image_url") or None


@router.post("/shops/{shop_id}/listings/{listing_id}/images")
@surface.operation("upload_image")
async def upload_listing_image(request: Request, shop_id: str, listing_id: int) -> Response:
    """uploadListingImage: 201 ListingImage."""
    if problem := _shop_problem(request, shop_id):
        return problem
    listing = _listing(request, listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    source = await _image_source(request)
    if source is None:
        return etsy_error(400, "An image file (multipart 'image') or 'image_url' is required")
    sim = sim_state(request)
    image = {
        "listing_id": listing_id,
        "listing_image_id": sim.next_id("etsy_image", 4_000_000_000),
        "rank": len(listing.images) + 1,
        "url_fullxfull": source,
    }
    listing.images.append(image)
    return JSONResponse(image, status_code=201)


def _products_problem(products: Any) -> str | None:
    if not isinstance(products, list) or not products:
        return "products must be a non-empty array"
    for product in products:
        offerings = product.get("offerings") if isinstance(product, dict) else None
        if not isinstance(offerings, list) or not offerings:
            return "each product needs a non-empty offerings array"
        for offering in offerings:
            if not isinstance(offering, dict) or not {"price", "quantity", "is_enabled"} <= set(
                offering
            ):
                return "each offering needs price, quantity and is_enabled"
    return None


@router.put("/listings/{listing_id}/inventory")
@surface.operation("update_inventory")
async def update_listing_inventory(request: Request, listing_id: int) -> Response:
    """updateListingInventory (JSON): replaces the products; SKUs live here."""
    listing = _listing(request, listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    body = await read_json(request)
    products = body.get("products") if isinstance(body, dict) else None
    if problem := _products_problem(products):
        return etsy_error(400, problem)
    listing.products = cast(list[dict[str, Any]], products)
    return JSONResponse({"products": products, "listing_id": listing_id})


@router.patch("/shops/{shop_id}/listings/{listing_id}")
@router.put("/shops/{shop_id}/listings/{listing_id}")
@surface.operation("activate")
async def update_listing(request: Request, shop_id: str, listing_id: int) -> Response:
    """updateListing (form-urlencoded); ``state=active`` needs an image and a shipping profile."""
    if problem := _shop_problem(request, shop_id):
        return problem
    listing = _listing(request, listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    fields = _form(await request.body())
    state = fields.pop("state", None)
    listing.fields.update({k: v for k, v in fields.items() if k in REQUIRED_DRAFT_FIELDS})
    if state is not None:
        if state not in {"active", "inactive", "draft"}:
            return etsy_error(400, f"Invalid state: {state}")
        if state == "active" and not listing.images:
            return etsy_error(400, "Cannot activate a listing without an image")
        if state == "active" and not listing.fields.get("shipping_profile_id"):
            return etsy_error(400, "Cannot activate a listing without a shipping profile")
        listing.state = state
    return JSONResponse(listing_view(listing))


@router.get("/shops/{shop_id}/listings")
@surface.operation("list_listings")
async def get_listings_by_shop(request: Request, shop_id: str) -> Response:
    """getListingsByShop: ``state`` (default active), ``limit`` 1-100 (25), ``offset``."""
    if problem := _shop_problem(request, shop_id):
        return problem
    params = request.query_params
    state = params.get("state", "active")
    try:
        limit = int(params.get("limit", "25"))
        offset = int(params.get("offset", "0"))
    except ValueError:
        return etsy_error(400, "limit and offset must be integers")
    if not 1 <= limit <= 100 or offset < 0:
        return etsy_error(400, "limit must be between 1 and 100 and offset must be >= 0")
    matching = [item for item in sim_state(request).etsy_listings.values() if item.state == state]
    page = matching[offset : offset + limit]
    return JSONResponse({"count": len(matching), "results": [listing_view(i) for i in page]})


@router.delete("/listings/{listing_id}")
@surface.operation("delete_listing")
async def delete_listing(request: Request, listing_id: int) -> Response:
    """deleteListing: 204."""
    if sim_state(request).etsy_listings.pop(listing_id, None) is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    return Response(status_code=204)
