"""What the Vinted adapter writes: the item reference, the item body, and what it checks first.

Vinted publishes no OpenAPI document; README "Vinted assumptions" names the source of each
field and limit.
"""

from __future__ import annotations

from typing import Any

from activities.vinted_ontology import CONDITION_ATTRIBUTE, ItemIds
from domain.listing import Listing
from domain.marketplace_limits import ListingLimits, listing_violations
from domain.marketplaces import Marketplace
from domain.vinted_reference import item_reference

__all__ = ["item_body", "item_reference", "listing_problems", "update_entry"]


def listing_problems(listing: Listing, limits: ListingLimits) -> dict[str, str]:
    """What Vinted's item schema refuses in this listing, by field (before any write): the
    rules ``POST /start_job`` already applied (``domain.marketplace_limits``), checked again
    for jobs started before a rule existed."""
    return {
        violation.field: violation.message
        for violation in listing_violations(listing, [Marketplace.VINTED], limits)
    }


def item_fields(listing: Listing, ids: ItemIds) -> dict[str, Any]:
    """The item itself: only fields the sources' schema has (no quantity: a Vinted item is
    one second-hand article, platform-mcp ``vinted_pro.json``). ``price`` is a number as in
    quick-vint-api's ``VintedItemInput``; ``is_draft: false`` publishes."""
    item: dict[str, Any] = {
        "title": listing.title,
        "description": listing.description,
        "price": float(listing.price.decimal_amount),
        "currency": listing.price.currency,
        "catalog_id": ids.catalog_id,
        "package_size_id": ids.package_size_id,
        "brand": ids.brand,
        "photo_urls": list(listing.images),
        "item_attributes": [{"id": CONDITION_ATTRIBUTE, "option_ids": [ids.condition_id]}],
        "is_draft": False,
    }
    if ids.size_id is not None:
        item["size_id"] = ids.size_id
    return item


def item_body(listing: Listing, reference: str, ids: ItemIds) -> dict[str, Any]:
    """One CreateItems entry: the seller's reference and the item."""
    return {"item_reference": reference, **item_fields(listing, ids)}


def update_entry(listing: Listing, item_id: str, ids: ItemIds) -> dict[str, Any]:
    """One UpdateItems entry: the item's ``item_id`` and the whole item (UpdateItems replaces
    it: platform-mcp ``vinted_pro.json`` lists brand, catalog_id, currency, description,
    package_size_id, photo_urls, price, title and is_draft as required on every update).
    ASSUMPTION: the entry names the item by ``item_id`` and leaves ``item_reference`` out,
    which keeps the reference it was created with."""
    return {"item_id": item_id, **item_fields(listing, ids)}
