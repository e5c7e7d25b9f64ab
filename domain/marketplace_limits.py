"""What each marketplace accepts of a listing, known before any call (the gateway refuses the
rest at ``POST /start_job``), the per-site facts of eBay that the adapter and the simulator
share (currency, ``Content-Language`` locales, host) and Vinted's item limits.

One home for these rules: ``listing_violations`` is the only check, the gateway and the Vinted
adapter call it, and the eBay adapter and the simulators read the same tables, so a rule cannot
drift between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from domain.listing import Listing
from domain.marketplaces import Marketplace

EBAY_PRODUCT_DESCRIPTION_MAX = 4000
"""``Product.description`` "Max Length: 4000" (Sell Inventory OAS 1.17.2). The contract allows
5000 characters; ``listingDescription`` would take more, but the inventory item carries the
description and eBay rejects it there."""

EBAY_ASPECT_VALUE_MAX = 50
"""``Product.aspects`` "Max Length for Aspect Value: 50" (Sell Inventory OAS 1.17.2): brand and
size travel as aspect values."""


@dataclass(frozen=True)
class EbaySite:
    """One eBay marketplace: the currency its offers are priced in, the ``Content-Language``
    values its inventory items may carry (the first is the one we send), its web host."""

    currency: str
    locales: tuple[str, ...]
    host: str

    @property
    def content_language(self) -> str:
        return self.locales[0]


EBAY_SITES: dict[str, EbaySite] = {
    "EBAY_US": EbaySite("USD", ("en-US",), "www.ebay.com"),
    "EBAY_GB": EbaySite("GBP", ("en-GB",), "www.ebay.co.uk"),
    "EBAY_AU": EbaySite("AUD", ("en-AU",), "www.ebay.com.au"),
    "EBAY_CA": EbaySite("CAD", ("en-CA", "fr-CA"), "www.ebay.ca"),
    "EBAY_IE": EbaySite("EUR", ("en-IE",), "www.ebay.ie"),
    "EBAY_DE": EbaySite("EUR", ("de-DE",), "www.ebay.de"),
    "EBAY_AT": EbaySite("EUR", ("de-AT",), "www.ebay.at"),
    "EBAY_CH": EbaySite("CHF", ("de-CH",), "www.ebay.ch"),
    "EBAY_FR": EbaySite("EUR", ("fr-FR",), "www.ebay.fr"),
    "EBAY_IT": EbaySite("EUR", ("it-IT",), "www.ebay.it"),
    "EBAY_ES": EbaySite("EUR", ("es-ES",), "www.ebay.es"),
    "EBAY_NL": EbaySite("EUR", ("nl-NL",), "www.ebay.nl"),
    "EBAY_BE": EbaySite("EUR", ("nl-BE", "fr-BE"), "www.ebay.be"),
    "EBAY_PL": EbaySite("PLN", ("pl-PL",), "www.ebay.pl"),
}
"""eBay marketplaces we can list on.

Sources: the locale of each marketplace ID is eBay's "Marketplace ID values" table
(developer.ebay.com/api-docs/static/rest-request-components.html#marketpl) and the Inventory
API's ``LocaleEnum`` (developer.ebay.com/api-docs/sell/inventory/types/slr:LocaleEnum, written
there with an underscore, ``de_DE``; the header takes ``de-DE``, OAS parameter text of
``createOrReplaceInventoryItem``). Belgium and Canada list two languages each. The currency is
the marketplace's default currency as the Metadata API's ``getCurrencies`` reports it
(developer.ebay.com/api-docs/sell/metadata/resources/marketplace/methods/getCurrencies); eBay
converts nothing, so an offer in another currency is refused."""

EBAY_UNBRANDED: dict[str, str] = {
    **dict.fromkeys(("EBAY_DE", "EBAY_AT", "EBAY_CH"), "Markenlos"),
    **dict.fromkeys(("EBAY_US", "EBAY_GB", "EBAY_AU", "EBAY_CA", "EBAY_IE"), "Unbranded"),
}
"""The value eBay sellers give the brand aspect of an item without a brand, per marketplace:
"Unbranded" on the English sites, "Markenlos" on the German-speaking ones (eBay.de's listing
policy names it as the value of the "Marke" field, pages.ebay.de/help/policies/
item-description.html). Sites without an entry have no default: set ``EBAY_DEFAULT_BRAND``."""


VINTED_TITLE_LENGTH = (5, 100)
VINTED_DESCRIPTION_LENGTH = (5, 2000)
VINTED_CURRENCIES = ("EUR", "GBP")
"""Vinted's item schema (api.yml v0.355.1, behind pro-docs.svc.vinted.com's download link) as
anicolao/vintage ``VINTED_INTEGRATION.md`` reports it: "Titles are 5-100 characters and
descriptions 5-2000", "Currency currently enumerates EUR and GBP". samicodesit/quick-vint-api
``validateItemInput`` (api.yml v0.360.0) checks the same lengths."""

VINTED_MINIMUM_PRICE = Decimal("1")
"""quick-vint-api ``validateItemInput``: "Vinted price must be at least 1" (in the item's
currency). No source gives a maximum price: none is checked (ASSUMPTION)."""

VINTED_PHOTOS = (1, 20)
"""Photos per item. At least one: anicolao/vintage (api.yml: "at least one per item"). At most
20: Vinted's own listing form (cbryant93/listing-assistant ``VINTED_CONSTRAINTS.md``, "1-20
photos"); VPI documents no maximum, so that it is the form's is an ASSUMPTION. The contract's
1-10 images are within it: the rule guards a wider contract, it refuses nothing today. Each
photo must also be publicly retrievable and at most 5 MB (vintage), which only a download
could tell: Vinted fetches them itself, after the 202."""


@dataclass(frozen=True)
class ListingLimits:
    """The settings the rules depend on (built by ``Settings.listing_limits()``)."""

    ebay_marketplace_id: str
    etsy_shop_currency: str


@dataclass(frozen=True)
class LimitViolation:
    """One rule a marketplace would enforce: ``field`` is the listing's field path."""

    marketplace: Marketplace
    field: str
    message: str


Rule = Callable[[Listing, ListingLimits], Iterator[LimitViolation]]


def _ebay(listing: Listing, limits: ListingLimits) -> Iterator[LimitViolation]:
    site_id = limits.ebay_marketplace_id
    where = f"ebay ({site_id})"
    if len(listing.description) > EBAY_PRODUCT_DESCRIPTION_MAX:
        yield LimitViolation(
            Marketplace.EBAY,
            "description",
            f"{where} accepts at most {EBAY_PRODUCT_DESCRIPTION_MAX} characters "
            f"(got {len(listing.description)})",
        )
    site = EBAY_SITES.get(site_id)
    if site is not None and listing.price.currency != site.currency:
        yield LimitViolation(
            Marketplace.EBAY,
            "price.currency",
            f"{where} prices in {site.currency}, not {listing.price.currency}",
        )
    for name in ("brand", "size"):
        value = getattr(listing, name)
        if value is not None and len(value) > EBAY_ASPECT_VALUE_MAX:
            yield LimitViolation(
                Marketplace.EBAY,
                name,
                f"{where} accepts item specifics of at most {EBAY_ASPECT_VALUE_MAX} characters "
                f"(got {len(value)})",
            )


def _etsy(listing: Listing, limits: ListingLimits) -> Iterator[LimitViolation]:
    # A shop has one currency and Etsy's prices carry none of their own (createDraftListing
    # takes a bare number in the shop's currency): another currency would be mispriced.
    if listing.price.currency != limits.etsy_shop_currency:
        yield LimitViolation(
            Marketplace.ETSY,
            "price.currency",
            f"etsy prices in the shop's currency {limits.etsy_shop_currency} "
            f"(ETSY_SHOP_CURRENCY), not {listing.price.currency}",
        )


def _vinted(listing: Listing, limits: ListingLimits) -> Iterator[LimitViolation]:
    for name, value, (low, high) in (
        ("title", listing.title, VINTED_TITLE_LENGTH),
        ("description", listing.description, VINTED_DESCRIPTION_LENGTH),
    ):
        if not low <= len(value) <= high:
            yield LimitViolation(
                Marketplace.VINTED,
                name,
                f"vinted accepts {low}-{high} characters (got {len(value)})",
            )
    currency = listing.price.currency
    if currency not in VINTED_CURRENCIES:
        yield LimitViolation(
            Marketplace.VINTED,
            "price.currency",
            f"vinted prices in {' or '.join(VINTED_CURRENCIES)}, not {currency}",
        )
    elif listing.price.decimal_amount < VINTED_MINIMUM_PRICE:
        yield LimitViolation(
            Marketplace.VINTED,
            "price.amount",
            f"vinted accepts a price of at least {VINTED_MINIMUM_PRICE} {currency} "
            f"(got {listing.price.amount})",
        )
    low, high = VINTED_PHOTOS
    if not low <= len(listing.images) <= high:
        yield LimitViolation(
            Marketplace.VINTED,
            "images",
            f"vinted accepts {low}-{high} photos (got {len(listing.images)})",
        )


_RULES: dict[Marketplace, Rule] = {
    Marketplace.EBAY: _ebay,
    Marketplace.ETSY: _etsy,
    Marketplace.VINTED: _vinted,
}
"""Rules per marketplace."""


def listing_violations(
    listing: Listing, marketplaces: Iterable[Marketplace], limits: ListingLimits
) -> list[LimitViolation]:
    """Everything the chosen marketplaces would refuse of ``listing``, in marketplace order."""
    return [
        violation
        for marketplace in marketplaces
        if (rule := _RULES.get(marketplace)) is not None
        for violation in rule(listing, limits)
    ]
