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
    ebay = [Marketplace.EBAY]
    assert listing_violations(_listing(description="x" * 4000), ebay, LIMITS) == []
    [violation] = listing_violations(_listing(description="x" * 4001), ebay, LIMITS)
    assert violation.marketplace is Marketplace.EBAY
    assert violation.field == "description"
    assert "4000" in violation.message and "EBAY_DE" in violation.message


def test_the_price_must_be_in_the_currency_of_ebay_and_of_the_etsy_shop() -> None:
    """Fault #12: EBAY_DE prices in EUR, the Etsy shop in ETSY_SHOP_CURRENCY, Vinted in EUR or
    GBP whatever the settings."""
    listing = _listing(price={"amount": "45.00", "currency": "USD"})
    violations = listing_violations(listing, ALL_MARKETPLACES, LIMITS)
    assert [(v.marketplace, v.field) for v in violations] == [
        (Marketplace.EBAY, "price.currency"),
        (Marketplace.ETSY, "price.currency"),
        (Marketplace.VINTED, "price.currency"),
    ]
    us = ListingLimits(ebay_marketplace_id="EBAY_US", etsy_shop_currency="USD")
    ebay_etsy = [Marketplace.EBAY, Marketplace.ETSY]
    assert listing_violations(listing, ebay_etsy, us) == []
    gbp = _listing(price={"amount": "45.00", "currency": "GBP"})
    assert listing_violations(gbp, [Marketplace.VINTED], LIMITS) == []


def test_vinted_takes_titles_of_5_to_100_and_descriptions_of_5_to_2000_characters() -> None:
    """Vinted's item schema (api.yml v0.355.1 via anicolao/vintage)."""
    vinted = [Marketplace.VINTED]
    assert listing_violations(_listing(title="Scarf", description="x" * 2000), vinted, LIMITS) == []
    violations = listing_violations(_listing(title="Hat", description="x" * 2001), vinted, LIMITS)
    assert violations == [
        LimitViolation(Marketplace.VINTED, "title", "vinted accepts 5-100 characters (got 3)"),
        LimitViolation(
            Marketplace.VINTED, "description", "vinted accepts 5-2000 characters (got 2001)"
        ),
    ]


def test_vinted_takes_a_price_of_at_least_1() -> None:
    """quick-vint-api validateItemInput; the contract takes any amount above 0."""
    vinted = [Marketplace.VINTED]
    one = _listing(price={"amount": "1.00", "currency": "EUR"})
    assert listing_violations(one, vinted, LIMITS) == []
    [violation] = listing_violations(
        _listing(price={"amount": "0.99", "currency": "GBP"}), vinted, LIMITS
    )
    assert violation.field == "price.amount"
    assert violation.message == "vinted accepts a price of at least 1 GBP (got 0.99)"


def test_vinted_takes_1_to_20_photos() -> None:
    """The contract's 1-10 images fit; a listing built past the contract (model_copy does not
    validate) shows the rule that would guard a wider one."""
    many = _listing().model_copy(update={"images": [f"https://e.com/{i}.jpg" for i in range(21)]})
    [violation] = listing_violations(many, [Marketplace.VINTED], LIMITS)
    assert (violation.field, violation.message) == ("images", "vinted accepts 1-20 photos (got 21)")
    ten = _listing(images=[f"https://e.com/{i}.jpg" for i in range(10)])
    assert listing_violations(ten, [Marketplace.VINTED], LIMITS) == []


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
