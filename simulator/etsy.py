"""Simulated Etsy Open API v3: draft listings, images, updates, shop listings (inventory:
``simulator.etsy_inventory``; receipts: ``simulator.etsy_receipts``).

What it refuses, and the bodies it answers with, are in ``simulator/etsy_rules.py`` (sources
cited there). Responses follow the Etsy Open API v3 document (OAS 2025-02).
"""

from __future__ import annotations

import hmac
import time
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplaces import Marketplace
from simulator import etsy_rules as rules
from simulator.errors import etsy_error
from simulator.etsy_oauth import access_token_problem
from simulator.etsy_views import IMAGE_HOST, image_view, listing_view
from simulator.pipeline import MarketplaceSurface, sim_state
from simulator.state import EtsyListing, SimState

PREFIX = "/etsy/v3/application"


def _authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    """Etsy's request standards (x-api-key with the shared secret, a ``<user_id>.<token>``
    bearer that has not expired), then the API key's per-second limit."""
    used = rules.count_request(sim)
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
    if problem := access_token_problem(sim, token):
        return etsy_error(401, problem)
    limit = sim.settings.simulator_etsy_limit_per_second
    if used > limit:
        return rules.per_second_exceeded(limit)
    return None


def _rate_headers(response: Response, sim: SimState) -> None:
    rules.quota_headers(response, sim, sim.settings.simulator_etsy_limit_per_second)


surface = MarketplaceSurface(Marketplace.ETSY, _authenticate, _rate_headers)
router = APIRouter(prefix=PREFIX)


def _form(body: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _shop_problem(request: Request, shop_id: str) -> Response | None:
    if shop_id != sim_state(request).settings.etsy_shop_id:
        return etsy_error(404, f"Could not find a Shop with shop_id = {shop_id}")
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
    if problem := rules.draft_problem(fields):
        return problem
    sim = sim_state(request)
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    fields["user_id"] = token.partition(".")[0]
    fields["currency_code"] = sim.settings.etsy_shop_currency
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
    with_images = "Images" in request.query_params.getlist("includes")
    return JSONResponse(listing_view(listing, with_images=with_images))


async def _multipart(request: Request) -> EmailMessage | None:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return None
    parsed = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + await request.body()
    )
    return parsed if isinstance(parsed, EmailMessage) else None


def _parts(message: EmailMessage) -> dict[str, tuple[str | None, bytes]]:
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = (part.get_filename(), payload)
    return parts


@router.post("/shops/{shop_id}/listings/{listing_id}/images")
@surface.operation("upload_image")
async def upload_listing_image(request: Request, shop_id: str, listing_id: int) -> Response:
    """uploadListingImage: ``multipart/form-data`` with the file in ``image`` (OAS); 201
    ListingImage. Re-assigning a deleted image by ``listing_image_id`` is not simulated."""
    if problem := _shop_problem(request, shop_id):
        return problem
    listing = _listing(request, listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    message = await _multipart(request)
    parts = _parts(message) if message is not None else {}
    filename, data = parts.get("image", (None, b""))
    if not rules.is_image(data):
        return etsy_error(400, rules.NO_IMAGE_FILE)
    rank_text = parts.get("rank", (None, b"1"))[1].decode("ascii", "replace")
    overwrite = parts.get("overwrite", (None, b"false"))[1].lower() in (b"true", b"1")
    if not rank_text.isdigit():
        return etsy_error(400, "Expected parameter 'rank' to be an integer")
    index = max(0, int(rank_text) - 1)
    if overwrite and index < len(listing.images):
        del listing.images[index]
    if len(listing.images) >= rules.MAX_IMAGES:
        return etsy_error(400, rules.TOO_MANY_IMAGES)
    sim = sim_state(request)
    image_id = sim.next_id("etsy_image", 4_000_000_000)
    now = int(time.time())
    image = {
        "listing_id": listing_id,
        "listing_image_id": image_id,
        "creation_tsz": now,
        "created_timestamp": now,
        "rank": 0,
        "url_75x75": f"{IMAGE_HOST}/{image_id}/il_75x75.jpg",
        "url_170x135": f"{IMAGE_HOST}/{image_id}/il_170x135.jpg",
        "url_570xN": f"{IMAGE_HOST}/{image_id}/il_570xN.jpg",
        "url_fullxfull": f"{IMAGE_HOST}/{image_id}/il_fullxfull.jpg",
        "alt_text": parts.get("alt_text", (None, b""))[1].decode("utf-8", "replace"),
        "_filename": filename,
        "_bytes": len(data),
    }
    listing.images.insert(min(index, len(listing.images)), image)
    for rank, each in enumerate(listing.images, start=1):
        each["rank"] = rank
    return JSONResponse(image_view(image), status_code=201)


@router.get("/listings/{listing_id}/images")
@surface.operation("get_images")
async def get_listing_images(request: Request, listing_id: int) -> Response:
    """getListingImages: ``ListingImages`` (count, results by rank)."""
    listing = _listing(request, listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    images = [image_view(image) for image in listing.images]
    return JSONResponse({"count": len(images), "results": images})


@router.delete("/shops/{shop_id}/listings/{listing_id}/images/{listing_image_id}")
@surface.operation("delete_image")
async def delete_listing_image(
    request: Request, shop_id: str, listing_id: int, listing_image_id: int
) -> Response:
    """deleteListingImage: 204; the images after it move up a rank. ASSUMPTION: an active
    listing keeps at least one image (activation needs one, OAS updateListing), so deleting
    its last image is 400 (Etsy's wording for it is not public: ours, as ``ErrorSchema``)."""
    if problem := _shop_problem(request, shop_id):
        return problem
    listing = _listing(request, listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    found = [i for i in listing.images if i["listing_image_id"] == listing_image_id]
    if not found:
        return etsy_error(404, f"ListingImage {listing_image_id} not found")
    if listing.state == "active" and len(listing.images) == 1:
        return etsy_error(400, rules.LAST_IMAGE)
    listing.images.remove(found[0])
    for rank, each in enumerate(listing.images, start=1):
        each["rank"] = rank
    return Response(status_code=204)


@router.patch("/shops/{shop_id}/listings/{listing_id}")
@router.put("/shops/{shop_id}/listings/{listing_id}")
@surface.operation("activate")
async def update_listing(request: Request, shop_id: str, listing_id: int) -> Response:
    """updateListing (PATCH, form-urlencoded; the PUT is updateListingDeprecated). ``state``
    is ``active`` or ``inactive`` (OAS); a draft becomes active only with an image and a
    shipping profile."""
    if problem := _shop_problem(request, shop_id):
        return problem
    listing = _listing(request, listing_id)
    if listing is None:
        return etsy_error(404, f"Listing {listing_id} not found")
    fields = _form(await request.body())
    if problem := rules.update_problem(fields, listing.fields):
        return problem
    state = fields.pop("state", None)
    if state is not None and state not in {"active", "inactive"}:
        return etsy_error(400, f"Invalid state: {state}")
    if state == "active" and not listing.images:
        return JSONResponse(rules.IMAGES_MISSING, status_code=400)
    if state == "active" and not listing.fields.get("shipping_profile_id"):
        return etsy_error(400, "A shipping_profile_id is required for physical listings.")
    editable = {*rules.SPEC_REQUIRED_DRAFT_FIELDS, *rules.PROVENANCE, "shipping_profile_id"}
    listing.fields.update({k: v for k, v in fields.items() if k in editable})
    if state is not None:
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
