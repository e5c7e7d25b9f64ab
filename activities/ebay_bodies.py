"""What the eBay adapter writes: the inventory item and the offer, fitted to the category."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.ebay_catalog import CategoryRules
from config.settings import Settings
from domain.listing import Listing
from domain.marketplace_limits import EBAY_SITES

FORMAT = "FIXED_PRICE"


def inventory_item_body(
    listing: Listing,
    rules: CategoryRules,
    default_brand: str | None,
    aspects: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """createOrReplaceInventoryItem payload with everything publishing needs, fitted to the
    category, with the item specifics a job was given (``aspects``; raises a non-retryable
    error when the listing cannot fit it)."""
    condition = rules.condition_for(listing.condition)
    return {
        "availability": {"shipToLocationAvailability": {"quantity": listing.quantity}},
        **({"condition": condition} if condition else {}),
        "product": {
            "title": listing.title,
            "description": listing.description,
            "imageUrls": list(listing.images),
            "aspects": rules.item_aspects(listing, default_brand, aspects),
            **({"brand": listing.brand} if listing.brand else {}),
        },
    }


def offer_details(listing: Listing, settings: Settings) -> dict[str, Any]:
    """The whole offer as updateOffer takes it (``EbayOfferDetailsWithId``): updateOffer
    replaces the offer, so every field is sent each time, ``listingDescription`` included
    (required to revise a published offer)."""
    return {
        "availableQuantity": listing.quantity,
        "categoryId": settings.ebay_category_id,
        "listingDescription": listing.description,
        "listingDuration": "GTC",
        "listingPolicies": {
            "fulfillmentPolicyId": settings.ebay_fulfillment_policy_id,
            "paymentPolicyId": settings.ebay_payment_policy_id,
            "returnPolicyId": settings.ebay_return_policy_id,
        },
        "merchantLocationKey": settings.ebay_merchant_location_key,
        "pricingSummary": {
            "price": {"value": listing.price.amount, "currency": listing.price.currency}
        },
    }


def offer_body(listing: Listing, settings: Settings) -> dict[str, Any]:
    """createOffer payload (``EbayOfferDetailsWithKeys``): the offer and the keys that make
    it unique (sku, marketplaceId, format)."""
    return {
        "sku": listing.sku,
        "marketplaceId": settings.ebay_marketplace_id,
        "format": FORMAT,
        **offer_details(listing, settings),
    }


def listing_url(marketplace_id: str, listing_id: str) -> str:
    site = EBAY_SITES.get(marketplace_id)
    return f"https://{site.host if site else 'www.ebay.com'}/itm/{listing_id}"


def live_listing_id(offer: dict[str, Any] | None) -> str | None:
    """The listing of a published offer whose listing has not ended, else None.

    The ``listing`` container comes only with published offers (OAS ``ListingDetails``); a
    withdrawn offer is unpublished. ``OUT_OF_STOCK`` is still a listing (a revise with
    stock brings it back); ``ENDED`` is not."""
    if not offer or offer.get("status") != "PUBLISHED":
        return None
    details = offer.get("listing") or {}
    if details.get("listingStatus") == "ENDED" or not details.get("listingId"):
        return None
    return str(details["listingId"])
