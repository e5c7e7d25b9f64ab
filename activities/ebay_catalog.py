"""What an eBay category accepts: its item conditions (Metadata API ``getItemConditionPolicies``)
and its item specifics (Taxonomy API ``getItemAspectsForCategory``), fetched once per category
for the worker's life, and how a listing is written to fit them.

Conditions: our four grades map to eBay's ``ConditionEnum`` by a preference list, the first
value the category allows wins (``CONDITION_CHOICES``). Item specifics: brand and size go under
the category's own, localized aspect names (``Marke`` and ``Größe`` on EBAY_DE, ``Brand`` and
``Size`` on the English sites); a required brand the listing lacks gets ``EBAY_DEFAULT_BRAND``.
A listing that cannot fit fails before anything is written, non-retryable, naming what is
missing: required item specifics it lacks as ``MissingListingFields``, which the job asks the
purchaser for (``awaiting_input``, issue 15), and supplies back as the listing's brand or size
or as extra item specifics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio import activity

from activities.ebay_client import METADATA_API, TAXONOMY_API, EbayClient
from activities.http_errors import (
    MARKETPLACE_VALIDATION_ERROR,
    marketplace_error,
    missing_fields_error,
)
from domain.listing import Condition, Listing
from domain.marketplaces import Marketplace
from domain.missing_fields import MissingField, ebay_aspect, listing_field

MARKETPLACE = Marketplace.EBAY

CONDITION_IDS: dict[str, str] = {
    "1000": "NEW",
    "1500": "NEW_OTHER",
    "1750": "NEW_WITH_DEFECTS",
    "2000": "CERTIFIED_REFURBISHED",
    "2010": "EXCELLENT_REFURBISHED",
    "2020": "VERY_GOOD_REFURBISHED",
    "2030": "GOOD_REFURBISHED",
    "2500": "SELLER_REFURBISHED",
    "2750": "LIKE_NEW",
    "2990": "PRE_OWNED_EXCELLENT",
    "3000": "USED_EXCELLENT",
    "3010": "PRE_OWNED_FAIR",
    "4000": "USED_VERY_GOOD",
    "5000": "USED_GOOD",
    "6000": "USED_ACCEPTABLE",
    "7000": "FOR_PARTS_OR_NOT_WORKING",
}
"""The Metadata API's ``conditionId`` -> the Inventory API's ``ConditionEnum``: eBay's "Item
condition ID and name values" table (developer.ebay.com/api-docs/sell/static/metadata/
condition-id-values.html), which the OAS text of ``InventoryItem.condition`` points to."""

CONDITION_CHOICES: dict[Condition, tuple[str, ...]] = {
    Condition.NEW: ("NEW", "NEW_OTHER"),
    Condition.LIKE_NEW: ("LIKE_NEW", "PRE_OWNED_EXCELLENT", "USED_EXCELLENT"),
    Condition.GOOD: ("USED_GOOD", "USED_EXCELLENT"),
    Condition.FAIR: ("PRE_OWNED_FAIR", "USED_ACCEPTABLE", "USED_EXCELLENT"),
}
"""Our grade -> eBay conditions that describe it, best first; the first the category allows
is used. Why these: ``new`` is new with or without tags (never "with defects"); a used grade
takes the category's own word for it where it has one (apparel: 2990 "Pre-owned - Excellent",
3000 "Pre-owned - Good", 3010 "Pre-owned - Fair"; media: 2750/5000/6000) and otherwise 3000,
which is plain "Used" in categories without finer grades (the Metadata API's
``conditionDescription`` names each per category). Refurbished and "for parts" are never
chosen. A category that allows none of a grade's choices fails the listing, naming both."""

ASPECT_NAMES: dict[str, tuple[str, ...]] = {
    "brand": ("Brand", "Marke"),
    "size": ("Size", "Größe"),
}
"""The listing field -> the localized aspect names that hold it. ``localizedAspectName`` is
the only name the Taxonomy API gives ("always localized for the specified marketplace", OAS);
"Brand"/"Size" are the English sites' (the OAS example), "Marke"/"Größe" eBay.de's
(pages.ebay.de/help/sell/item_specifics.html). On other sites a required brand or size is
reported as missing rather than written under a guessed name."""


@dataclass(frozen=True)
class Aspect:
    name: str
    required: bool


@dataclass(frozen=True)
class CategoryRules:
    """One category of one marketplace, as its policies describe it."""

    marketplace_id: str
    category_id: str
    condition_required: bool
    conditions: tuple[str, ...]
    aspects: tuple[Aspect, ...]

    @property
    def where(self) -> str:
        return f"category {self.category_id} on {self.marketplace_id}"

    def condition_for(self, condition: Condition) -> str | None:
        """The eBay condition for our grade; None when the category takes no condition."""
        if not self.conditions and not self.condition_required:
            return None
        for choice in CONDITION_CHOICES[condition]:
            if choice in self.conditions:
                return choice
        allowed = ", ".join(self.conditions) or "none"
        raise _invalid(
            "map_condition",
            f"{self.where} allows no eBay condition for the listing's condition "
            f"{condition.value!r} (allowed there: {allowed})",
        )

    def item_aspects(
        self,
        listing: Listing,
        default_brand: str | None,
        supplied: Mapping[str, str] | None = None,
    ) -> dict[str, list[str]]:
        """Brand and size under this category's aspect names, and the item specifics a job
        was given (``supplied``: aspect name -> value, ListingExtras.ebay_aspects); every
        required aspect filled, else ``MissingListingFields`` naming the ones the listing
        lacks (the listing's brand or size, or the aspect itself)."""
        values = {"brand": listing.brand or None, "size": listing.size or None}
        supplied = supplied or {}
        aspects: dict[str, list[str]] = {}
        missing: list[MissingField] = []
        names: list[str] = []
        for aspect in self.aspects:
            field = next((f for f, names in ASPECT_NAMES.items() if aspect.name in names), None)
            value = values.get(field) if field else supplied.get(aspect.name)
            if value is None and field == "brand" and aspect.required:
                value = default_brand
            if value is not None:
                aspects[aspect.name] = [value]
            elif aspect.required:
                why = f"{self.where} requires the item specific {aspect.name!r}"
                if field:
                    missing.append(listing_field(MARKETPLACE, field, why))
                    names.append(f"{aspect.name} (the listing's {field})")
                else:
                    missing.append(ebay_aspect(aspect.name, why))
                    names.append(aspect.name)
        if missing:
            raise missing_fields_error(
                MARKETPLACE,
                "item_specifics",
                missing,
                f"{self.where} requires item specifics the listing lacks: {', '.join(names)}",
            )
        return aspects


def _invalid(operation: str, text: str) -> Exception:
    return marketplace_error(MARKETPLACE, operation, MARKETPLACE_VALIDATION_ERROR, text)


class EbayCatalog:
    """Category rules per (marketplace, category), fetched once for the worker's life: eBay
    changes them a few times a year, and a publish must not pay three calls for them."""

    def __init__(self, client: EbayClient) -> None:
        self.client = client
        self._rules: dict[tuple[str, str], CategoryRules] = {}
        self._tree_ids: dict[str, str] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def rules(self, marketplace_id: str, category_id: str) -> CategoryRules:
        key = (marketplace_id, category_id)
        if key in self._rules:
            return self._rules[key]
        async with self._locks.setdefault(key, asyncio.Lock()):
            if key not in self._rules:  # another activity may have fetched it meanwhile
                activity.heartbeat({"step": "category_rules"})
                required, conditions = await self._conditions(marketplace_id, category_id)
                aspects = await self._aspects(marketplace_id, category_id)
                self._rules[key] = CategoryRules(
                    marketplace_id, category_id, required, conditions, aspects
                )
        return self._rules[key]

    async def _conditions(
        self, marketplace_id: str, category_id: str
    ) -> tuple[bool, tuple[str, ...]]:
        response = await self.client.call(
            "get_item_condition_policies",
            "GET",
            f"/marketplace/{marketplace_id}/get_item_condition_policies",
            api=METADATA_API,
            params={"filter": f"categoryIds:{{{category_id}}}"},
        )
        body: dict[str, Any] = response.json() if response.content else {}
        for policy in body.get("itemConditionPolicies") or []:
            if str(policy.get("categoryId")) == category_id:
                ids = [str(c.get("conditionId")) for c in policy.get("itemConditions") or []]
                unknown = [i for i in ids if i not in CONDITION_IDS]
                if unknown:
                    activity.logger.warning("ebay condition ids without an enum: %s", unknown)
                return bool(policy.get("itemConditionRequired")), tuple(
                    CONDITION_IDS[i] for i in ids if i in CONDITION_IDS
                )
        raise _invalid(
            "get_item_condition_policies",
            f"category {category_id} is not a category of {marketplace_id} "
            "(no item condition policy; EBAY_CATEGORY_ID)",
        )

    async def _aspects(self, marketplace_id: str, category_id: str) -> tuple[Aspect, ...]:
        tree_id = await self._tree_id(marketplace_id)
        response = await self.client.call(
            "get_item_aspects_for_category",
            "GET",
            f"/category_tree/{tree_id}/get_item_aspects_for_category",
            api=TAXONOMY_API,
            params={"category_id": category_id},
        )
        body: dict[str, Any] = response.json() if response.content else {}
        return tuple(
            Aspect(
                name=str(aspect.get("localizedAspectName")),
                required=bool((aspect.get("aspectConstraint") or {}).get("aspectRequired")),
            )
            for aspect in body.get("aspects") or []
            if aspect.get("localizedAspectName")
        )

    async def _tree_id(self, marketplace_id: str) -> str:
        if marketplace_id not in self._tree_ids:
            response = await self.client.call(
                "get_default_category_tree_id",
                "GET",
                "/get_default_category_tree_id",
                api=TAXONOMY_API,
                params={"marketplace_id": marketplace_id},
            )
            self._tree_ids[marketplace_id] = str(response.json()["categoryTreeId"])
        return self._tree_ids[marketplace_id]
