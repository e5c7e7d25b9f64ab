"""The eBay categories the simulator knows: their item conditions (served by the Metadata API)
and item specifics (served by the Taxonomy API), and the publish checks both imply.

This is a hand-made subset, not a copy of eBay's trees:

- Category IDs are eBay.com's (57988 Men's Coats, Jackets & Vests; 11483 Men's Jeans), served
  in each tree the simulator has names for (German and English sites). 900001 is no eBay
  category: a fixture whose policy allows new items only.
- Conditions of the clothing categories are the ones real_api_fidelity.md #6 lists for 57988
  (getItemConditionPolicies): 1000, 1500, 1750, 2990, 3000, 3010.
- Aspect names are the trees' localized ones: eBay.de's "Marke", "Größentyp", "Größe",
  "Farbe", "Stil" (pages.ebay.de/help/sell/item_specifics.html), "Abteilung", "Produktart",
  "Material"; the English sites' "Brand", "Size Type", "Size", "Colour", "Style",
  "Department", "Type", "Material". Which aspects are required is our assumption: the brand
  everywhere (eBay requires it across clothing), the size in 11483 but not in 57988, so that
  both outcomes of a listing without a size can be seen.
- Category tree IDs per marketplace are eBay's (the Taxonomy API's "Marketplaces with Default
  Category Trees" page; they equal the sites' IDs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.marketplace_limits import EBAY_SITES

CATEGORY_TREE_VERSION = "139"

TREE_IDS: dict[str, str] = {
    "EBAY_US": "0",
    "EBAY_GB": "3",
    "EBAY_AU": "15",
    "EBAY_CA": "2",
    "EBAY_IE": "205",
    "EBAY_DE": "77",
    "EBAY_AT": "16",
    "EBAY_CH": "193",
    "EBAY_FR": "71",
    "EBAY_IT": "101",
    "EBAY_ES": "186",
    "EBAY_NL": "146",
    "EBAY_BE": "123",
    "EBAY_PL": "212",
}

CONDITION_LABELS: dict[str, str] = {
    "1000": "New with tags",
    "1500": "New without tags",
    "1750": "New with defects",
    "2990": "Pre-owned - Excellent",
    "3000": "Pre-owned - Good",
    "3010": "Pre-owned - Fair",
}
"""``conditionDescription`` of the clothing conditions (eBay localizes it; we do not)."""

CONDITION_ENUMS: dict[str, str] = {
    "1000": "NEW",
    "1500": "NEW_OTHER",
    "1750": "NEW_WITH_DEFECTS",
    "2990": "PRE_OWNED_EXCELLENT",
    "3000": "USED_EXCELLENT",
    "3010": "PRE_OWNED_FAIR",
}
"""conditionId -> ConditionEnum (eBay's "Item condition ID and name values" table)."""

ASPECT_NAMES: dict[str, dict[str, str]] = {
    "brand": {"de": "Marke", "en": "Brand"},
    "size_type": {"de": "Größentyp", "en": "Size Type"},
    "size": {"de": "Größe", "en": "Size"},
    "colour": {"de": "Farbe", "en": "Colour"},
    "style": {"de": "Stil", "en": "Style"},
    "department": {"de": "Abteilung", "en": "Department"},
    "type": {"de": "Produktart", "en": "Type"},
    "material": {"de": "Material", "en": "Material"},
}

UNBRANDED = {"de": "Markenlos", "en": "Unbranded"}


@dataclass(frozen=True)
class SimCategory:
    category_id: str
    condition_ids: tuple[str, ...]
    required: frozenset[str]
    recommended: frozenset[str]


CLOTHING_CONDITIONS = ("1000", "1500", "1750", "2990", "3000", "3010")
CLOTHING_ASPECTS = frozenset(ASPECT_NAMES)

CATEGORIES: dict[str, SimCategory] = {
    "57988": SimCategory(
        "57988", CLOTHING_CONDITIONS, frozenset({"brand"}), CLOTHING_ASPECTS - {"brand"}
    ),
    "11483": SimCategory(
        "11483",
        CLOTHING_CONDITIONS,
        frozenset({"brand", "size"}),
        CLOTHING_ASPECTS - {"brand", "size"},
    ),
    "900001": SimCategory("900001", ("1000", "1500"), frozenset({"brand"}), frozenset()),
}


def tree_language(marketplace_id: str) -> str | None:
    """The language whose names the simulator serves on this marketplace (None: no tree)."""
    site = EBAY_SITES.get(marketplace_id)
    language = site.content_language.split("-")[0] if site else None
    return language if language in UNBRANDED else None


def marketplace_of_tree(tree_id: str) -> str | None:
    return next((m for m, t in TREE_IDS.items() if t == tree_id), None)


def category(marketplace_id: str, category_id: str) -> SimCategory | None:
    """The category as served on that marketplace (None when it is not in its tree)."""
    return CATEGORIES.get(category_id) if tree_language(marketplace_id) else None


def condition_policy(marketplace_id: str, found: SimCategory) -> dict[str, Any]:
    """``ItemConditionPolicy`` of the Metadata API."""
    return {
        "categoryId": found.category_id,
        "categoryTreeId": TREE_IDS[marketplace_id],
        "itemConditionRequired": True,
        "itemConditions": [
            {"conditionId": cid, "conditionDescription": CONDITION_LABELS[cid]}
            for cid in found.condition_ids
        ],
    }


def allowed_conditions(found: SimCategory) -> set[str]:
    """The ``ConditionEnum`` values an inventory item may carry in this category."""
    return {CONDITION_ENUMS[cid] for cid in found.condition_ids}


def required_aspect_names(marketplace_id: str, found: SimCategory) -> list[str]:
    language = tree_language(marketplace_id) or "en"
    return [ASPECT_NAMES[key][language] for key in ASPECT_NAMES if key in found.required]


def item_aspects(marketplace_id: str, found: SimCategory) -> list[dict[str, Any]]:
    """``AspectMetadata.aspects`` of the Taxonomy API, localized for the marketplace."""
    language = tree_language(marketplace_id) or "en"
    aspects = []
    for key, names in ASPECT_NAMES.items():
        if key not in found.required | found.recommended:
            continue
        aspect: dict[str, Any] = {
            "localizedAspectName": names[language],
            "aspectConstraint": {
                "aspectDataType": "STRING",
                "itemToAspectCardinality": "SINGLE",
                "aspectMode": "FREE_TEXT",
                "aspectRequired": key in found.required,
                "aspectUsage": "RECOMMENDED",
                "aspectEnabledForVariations": key in {"size", "colour"},
                "aspectApplicableTo": ["PRODUCT"],
                "aspectMaxLength": 65,
            },
        }
        if key == "brand":
            aspect["aspectValues"] = [{"localizedValue": UNBRANDED[language]}]
        aspects.append(aspect)
    return aspects
