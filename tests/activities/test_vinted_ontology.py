"""Vinted ontology ids for a listing (resolve_item_ids) and the per-worker cache."""

from __future__ import annotations

from typing import Any

import pytest

from activities.vinted import item_body, listing_problems
from activities.vinted_ontology import (
    ItemIds,
    Ontology,
    OntologyCache,
    UnresolvedItemIds,
    resolve_item_ids,
)
from config.settings import Settings, load_settings
from domain.listing import Listing
from simulator.vinted_ontology import ontology_document
from tests.factories import listing_body

ONTOLOGY = Ontology.parse(ontology_document())
SETTINGS = load_settings()


def listing(**overrides: Any) -> Listing:
    return Listing.model_validate(listing_body(**overrides))


def test_the_contract_example_takes_the_seller_defaults() -> None:
    """CONTRACT.md's example listing (no brand, size, category) completes under `make run`."""
    ids = resolve_item_ids(listing(), ONTOLOGY, SETTINGS)
    assert ids == ItemIds(
        catalog_id=1206, package_size_id=2, brand="Unbranded", size_id=1000, condition_id=3
    )


def test_the_listing_own_category_size_and_brand_win_matched_by_title() -> None:
    ids = resolve_item_ids(
        listing(category="jeans", size="xl", brand="Levi's", condition="new"), ONTOLOGY, SETTINGS
    )
    assert (ids.catalog_id, ids.size_id, ids.brand, ids.condition_id) == (1207, 210, "Levi's", 6)


def test_a_catalog_without_sizes_gets_no_size() -> None:
    ids = resolve_item_ids(listing(category="Bags", size="M"), ONTOLOGY, SETTINGS)
    assert ids.size_id is None


def test_every_field_that_cannot_be_determined_is_named() -> None:
    settings: Settings = SETTINGS.model_copy(
        update={"vinted_package_size_id": 99, "vinted_default_brand": None}
    )
    with pytest.raises(UnresolvedItemIds) as failure:
        resolve_item_ids(listing(category="Spaceships"), ONTOLOGY, settings)
    assert failure.value.fields == ["category", "package_size_id", "brand"]
    assert "VINTED_PACKAGE_SIZE_ID 99" in str(failure.value)


def test_an_ontology_without_our_condition_names_condition() -> None:
    document = ontology_document()
    document["enumerations"]["attributes"] = []
    with pytest.raises(UnresolvedItemIds) as failure:
        resolve_item_ids(listing(), Ontology.parse(document), SETTINGS)
    assert failure.value.fields == ["condition"]


def test_the_item_body_has_only_schema_fields() -> None:
    body = item_body(listing(), "SKU1-abc", resolve_item_ids(listing(), ONTOLOGY, SETTINGS))
    assert body == {
        "item_reference": "SKU1-abc",
        "title": "Vintage denim jacket",
        "description": "Levi's trucker jacket, size M, light wash.",
        "price": 45.0,
        "currency": "EUR",
        "catalog_id": 1206,
        "package_size_id": 2,
        "brand": "Unbranded",
        "size_id": 1000,
        "photo_urls": ["https://example.com/a.jpg"],
        "item_attributes": [{"id": "condition", "option_ids": [3]}],
        "is_draft": False,
    }


def test_listing_problems_follow_the_item_limits() -> None:
    """The adapter applies the gateway's rules (domain.marketplace_limits) before any write."""
    limits = SETTINGS.listing_limits()
    assert listing_problems(listing(), limits) == {}
    problems = listing_problems(
        listing(title="Hat", description="x" * 2001, price={"amount": "5", "currency": "USD"}),
        limits,
    )
    assert list(problems) == ["title", "description", "price.currency"]
    cheap = listing_problems(listing(price={"amount": "0.99", "currency": "GBP"}), limits)
    assert cheap == {"price.amount": "vinted accepts a price of at least 1 GBP (got 0.99)"}


async def test_the_cache_fetches_once_until_the_ttl_then_again() -> None:
    now = [0.0]
    fetches: list[int] = []

    async def fetch() -> dict[str, Any]:
        fetches.append(1)
        return ontology_document()

    cache = OntologyCache(ttl=60, clock=lambda: now[0])
    first = await cache.get(fetch)
    assert await cache.get(fetch) is first
    now[0] = 59.9
    await cache.get(fetch)
    assert len(fetches) == 1
    now[0] = 60.0
    await cache.get(fetch)
    assert len(fetches) == 2
    cache.invalidate()
    await cache.get(fetch)
    assert len(fetches) == 3
