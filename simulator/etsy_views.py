"""The Etsy resources the simulator answers with, shaped as the Etsy Open API v3 document says
(OAS 2025-02: ShopListing / ShopListingWithAssociations, ListingImage, ListingInventory)."""

from __future__ import annotations

from typing import Any

from simulator import etsy_rules as rules
from simulator.state import EtsyListing

IMAGE_HOST = "https://i.etsystatic.com/sim"


def listing_view(listing: EtsyListing, *, with_images: bool = False) -> dict[str, Any]:
    """``ShopListing`` (``ShopListingWithAssociations`` with ``skus`` and, asked for, images)."""
    fields = listing.fields
    currency = fields["currency_code"]
    view: dict[str, Any] = {
        "listing_id": listing.listing_id,
        "user_id": int(fields["user_id"]),
        "shop_id": int(listing.shop_id),
        "title": fields["title"],
        "description": fields["description"],
        "state": listing.state,
        "creation_timestamp": int(listing.created_at),
        "created_timestamp": int(listing.created_at),
        "quantity": int(fields["quantity"]),
        "url": listing.url,
        "listing_type": fields.get("type", "physical"),
        "who_made": fields["who_made"],
        "when_made": fields["when_made"],
        "is_supply": fields["is_supply"].lower() in ("true", "1"),
        "taxonomy_id": int(fields["taxonomy_id"]),
        "shipping_profile_id": _int_or_none(fields.get("shipping_profile_id")),
        "return_policy_id": _int_or_none(fields.get("return_policy_id")),
        "price": rules.money(fields["price"], currency),
        "tags": [t.strip() for t in fields.get("tags", "").split(",") if t.strip()],
        "skus": listing.skus,
    }
    if with_images:
        view["images"] = [image_view(image) for image in listing.images]
    return view


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value else None


def image_view(image: dict[str, Any]) -> dict[str, Any]:
    """``ListingImage`` (without the simulator's own bookkeeping, keys starting with ``_``)."""
    return {key: value for key, value in image.items() if not key.startswith("_")}


def inventory_view(listing: EtsyListing) -> dict[str, Any]:
    """``ListingInventory``: offering prices as ``Money`` (OAS), not the floats sent."""
    currency = listing.fields["currency_code"]
    products = [
        {
            "product_id": listing.listing_id * 100 + number,
            "sku": product.get("sku") or "",
            "is_deleted": False,
            "offerings": [
                {
                    "offering_id": listing.listing_id * 10_000 + number * 100 + index,
                    "quantity": int(offering["quantity"]),
                    "is_enabled": bool(offering["is_enabled"]),
                    "is_deleted": False,
                    "price": rules.money(offering["price"], currency),
                }
                for index, offering in enumerate(product["offerings"], start=1)
            ],
            "property_values": product.get("property_values") or [],
        }
        for number, product in enumerate(listing.products, start=1)
    ]
    return {
        "products": products,
        "price_on_property": [],
        "quantity_on_property": [],
        "sku_on_property": [],
    }
