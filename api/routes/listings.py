"""Listing routes (issue 13; CONTRACT.md "Listings"): one listing per SKU."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from api.deps import AdminOnly, Listings
from api.problems import PROBLEM
from domain.listing_entity import DelistRequest, ListingView

router = APIRouter(tags=["listings"])
SkuPath = Annotated[str, Path(min_length=1, max_length=50, description="The seller SKU.")]


@router.get(
    "/listings/{sku}",
    response_model=ListingView,
    responses={404: {"description": "No job ever reached this SKU.", **PROBLEM}},
    summary="The listing of one SKU on every marketplace (from its entity workflow).",
)
async def listing_view(listings: Listings, sku: SkuPath) -> ListingView:
    return await listings.view(sku)


@router.get(
    "/listings/{sku}/events",
    responses={404: {"description": "Unknown SKU.", **PROBLEM}},
    summary="What happened to the listing, ordered by seq (the newest 200 are kept).",
)
async def listing_events(listings: Listings, sku: SkuPath) -> list[dict[str, Any]]:
    return await listings.events(sku)


@router.post(
    "/listings/{sku}/delist",
    status_code=202,
    response_model=ListingView,
    dependencies=[AdminOnly],
    responses={
        401: {"description": "Missing or wrong admin token.", **PROBLEM},
        404: {"description": "Unknown SKU.", **PROBLEM},
    },
    summary="End the listing on the given marketplaces (default all); idempotent.",
)
async def delist(
    listings: Listings, sku: SkuPath, body: Annotated[DelistRequest | None, Body()] = None
) -> ListingView:
    return await listings.delist(sku, body or DelistRequest())
