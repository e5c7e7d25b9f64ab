"""What the Etsy adapter sends (draft, revise and inventory bodies) and what it checks first.

Field names, types and enums are those of the Etsy Open API v3 document (OAS 2025-02,
``createDraftListing``, ``updateListing``, ``updateListingInventory``); every request is
validated against it in the tests (``tests/support/spec_judge.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from config.settings import Settings
from domain.listing import Listing, WhenMade, WhoMade

RECENT = frozenset(
    {WhenMade.MADE_TO_ORDER, WhenMade.Y2020_2025, WhenMade.Y2010_2019, WhenMade.Y2006_2009}
)
"""``when_made`` values that are not vintage: Etsy sells items made by someone else only when
vintage (20 years or older) or supplies (etsy/open-api#365, #118: "Oh dear, you cannot sell
this item on Etsy")."""


@dataclass(frozen=True)
class Provenance:
    """who_made / when_made / is_supply: Etsy wants all three or none (etsy/open-api#511)."""

    who_made: WhoMade
    when_made: WhenMade
    is_supply: bool

    @classmethod
    def of(cls, listing: Listing, settings: Settings) -> Provenance:
        """The listing's own values; the shop's defaults (ETSY_WHO_MADE …) for the rest."""
        return cls(
            who_made=listing.who_made or settings.etsy_who_made,
            when_made=listing.when_made or settings.etsy_when_made,
            is_supply=settings.etsy_is_supply if listing.is_supply is None else listing.is_supply,
        )

    def problem(self) -> str | None:
        """Why Etsy would refuse this item, or None."""
        if (
            self.who_made is WhoMade.SOMEONE_ELSE
            and self.when_made in RECENT
            and not self.is_supply
        ):
            return (
                f"who_made={self.who_made.value} with when_made={self.when_made.value}: Etsy "
                "sells items made by someone else only when vintage (when_made before_2006 or "
                "older) or supplies (is_supply=true)"
            )
        return None


def currency_problem(listing: Listing, settings: Settings) -> str | None:
    """Etsy prices are in the shop's currency (createDraftListing has no currency field):
    a listing priced in another one would be mispriced, so it is refused."""
    currency = listing.price.currency
    if currency != settings.etsy_shop_currency:
        return (
            f"price.currency {currency} is not the Etsy shop's currency "
            f"{settings.etsy_shop_currency} (ETSY_SHOP_CURRENCY)"
        )
    return None


def draft_marker(idempotency_key: str) -> str:
    """A 20-character Etsy tag naming this (job, marketplace): how we know our own draft.

    Etsy has no idempotency key and a create that answered 500 may still have made the draft
    (open-api#162). Matching orphans by content could adopt another job's draft with the same
    title; a tag derived from the idempotency key cannot.
    """
    return "mj" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:18]


def draft_form(listing: Listing, settings: Settings, marker: str | None = None) -> dict[str, str]:
    """createDraftListing fields (form-urlencoded). Prices are in the shop's currency."""
    provenance = Provenance.of(listing, settings)
    form = {
        "quantity": str(listing.quantity),
        "title": listing.title,
        "description": listing.description,
        "price": listing.price.amount,
        "who_made": provenance.who_made.value,
        "when_made": provenance.when_made.value,
        "is_supply": "true" if provenance.is_supply else "false",
        "taxonomy_id": str(settings.etsy_taxonomy_id),
        "shipping_profile_id": str(settings.etsy_shipping_profile_id),
        "type": "physical",
    }
    if settings.etsy_return_policy_id is not None:
        form["return_policy_id"] = str(settings.etsy_return_policy_id)
    if marker:
        form["tags"] = marker
    return form


def revise_form(listing: Listing, settings: Settings) -> dict[str, str]:
    """updateListing fields (form-urlencoded, PATCH) of a revise: the listing's own text and
    provenance. Price and quantity are not updateListing fields (OAS): they go in the
    inventory. ``who_made``/``when_made``/``is_supply`` are sent together, as Etsy requires
    (etsy/open-api#280). The draft marker tag is left as it is."""
    provenance = Provenance.of(listing, settings)
    return {
        "title": listing.title,
        "description": listing.description,
        "who_made": provenance.who_made.value,
        "when_made": provenance.when_made.value,
        "is_supply": "true" if provenance.is_supply else "false",
    }


def inventory_body(listing: Listing) -> dict[str, Any]:
    """updateListingInventory: one product carrying our SKU (Etsy's only SKU field). The OAS
    asks for the price as a float "equal to amount divided by divisor"."""
    return {
        "products": [
            {
                "sku": listing.sku,
                "property_values": [],
                "offerings": [
                    {
                        "price": float(listing.price.decimal_amount),
                        "quantity": listing.quantity,
                        "is_enabled": True,
                    }
                ],
            }
        ]
    }


def is_orphan_of(candidate: dict[str, Any], marker: str) -> bool:
    """A draft with no SKU yet carrying our marker tag: what a create that failed after
    writing (Etsy open-api#162) leaves behind."""
    return (
        candidate.get("state") == "draft"
        and not candidate.get("skus")
        and marker in (candidate.get("tags") or [])
    )
