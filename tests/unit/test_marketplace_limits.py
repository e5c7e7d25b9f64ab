"""domain.marketplace_limits: what each marketplace refuses of a listing, known before any
call (real_api_fidelity.md #11 and #12), and its settings."""

from __future__ import annotations

import pytest

from config.settings import ConfigurationError, load_settings
from domain.listing import Listing
from domain.marketplace_limits import (
    EBAY_SITES,
    LimitViolation,
    ListingLimits,
    listing_violations,
)
from domain.marketplaces import ALL_MARKETPLACES, Marketplace
from tests.factories import listing_body

LIMITS = ListingLimits(ebay_marketplace_id="EBAY_DE", etsy_shop_currency="EUR")


def _listing(**changes: object) -> Listing:
    return Listing.model_validate(listing_body(**changes))


def test_the_contract_example_breaks_no_rule() -> None:
    assert listing_violations(_listing(), ALL_MARKETPLACES, LIMITS) == []


def test_ebay_takes_descriptions_of_4000_characters_at_most() -> None:
    """Fault #11: the contract allows 5000; eBay's Product.description 4000."""
    assert listing_violations(_listing(description="x" * 4000), ALL_MARKETPLACES, LIMITS) == []
    [violation] = listing_violations(_listing(description="x" * 4001), ALL_MARKETPLACES, LIMITS)
    assert violation.marketplace is Marketplace.EBAY
    assert violation.field == "description"
    assert "4000" in violation.message and "EBAY_DE" in violation.message


def test_the_price_must_be_in_the_currency_of_ebay_and_of_the_etsy_shop() -> None:
    """Fault #12: EBAY_DE prices in EUR, the Etsy shop in ETSY_SHOP_CURRENCY; Vinted has no
    rule here."""
    listing = _listing(price={"amount": "45.00", "currency": "USD"})
    violations = listing_violations(listing, ALL_MARKETPLACES, LIMITS)
    assert [(v.marketplace, v.field) for v in violations] == [
        (Marketplace.EBAY, "price.currency"),
        (Marketplace.ETSY, "price.currency"),
    ]
    assert listing_violations(listing, [Marketplace.VINTED], LIMITS) == []
    us = ListingLimits(ebay_marketplace_id="EBAY_US", etsy_shop_currency="USD")
    assert listing_violations(listing, ALL_MARKETPLACES, us) == []


def test_brand_and_size_fit_an_ebay_aspect_value() -> None:
    [violation] = listing_violations(_listing(brand="B" * 51), [Marketplace.EBAY], LIMITS)
    assert violation == LimitViolation(
        Marketplace.EBAY,
        "brand",
        "ebay (EBAY_DE) accepts item specifics of at most 50 characters (got 51)",
    )


def test_every_ebay_site_has_a_locale_and_a_currency() -> None:
    """Fault #5: one table, EBAY_DE -> de-DE, EBAY_US -> en-US, EBAY_GB -> en-GB."""
    assert EBAY_SITES["EBAY_DE"].content_language == "de-DE"
    assert EBAY_SITES["EBAY_US"].content_language == "en-US"
    assert EBAY_SITES["EBAY_GB"].content_language == "en-GB"
    for site in EBAY_SITES.values():
        assert site.locales and len(site.currency) == 3


def test_settings_derive_the_content_language_and_refuse_a_foreign_one() -> None:
    assert load_settings().ebay_content_locale() == "de-DE"
    assert load_settings(ebay_marketplace_id="EBAY_BE", ebay_content_language="fr-BE")
    with pytest.raises(ConfigurationError, match="EBAY_CONTENT_LANGUAGE 'en-US'"):
        load_settings(ebay_content_language="en-US")
    with pytest.raises(ConfigurationError, match="EBAY_MARKETPLACE_ID"):
        load_settings(ebay_marketplace_id="EBAY_XX")
    with pytest.raises(ConfigurationError, match="ETSY_SHOP_CURRENCY"):
        load_settings(etsy_shop_currency="euro")


def test_the_brand_default_is_the_marketplaces_word_for_none() -> None:
    assert load_settings().ebay_brand_default() == "Markenlos"
    assert load_settings(ebay_marketplace_id="EBAY_US").ebay_brand_default() == "Unbranded"
    assert load_settings(ebay_marketplace_id="EBAY_FR").ebay_brand_default() is None
    assert load_settings(ebay_default_brand="").ebay_brand_default() is None
    assert load_settings(ebay_default_brand="Handmade").ebay_brand_default() == "Handmade"
