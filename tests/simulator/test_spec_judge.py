"""The spec judge (simulator/spec): the official documents accept good requests and reject the
known-bad ones of shared/reference/real_api_fidelity.md, at the simulator's and the real URLs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.marketplaces import Marketplace
from simulator.spec import (
    judge_exchange,
    judge_request,
    judge_response,
    locate,
    operation_id,
    operation_ids,
)

SIM = "http://127.0.0.1:8081"
EBAY = f"{SIM}/ebay/sell/inventory/v1"
ETSY = f"{SIM}/etsy/v3/application"
EBAY_HEADERS = {"Authorization": "Bearer user-token", "Content-Language": "de-DE"}
ETSY_HEADERS = {"x-api-key": "keystring:secret", "Authorization": "Bearer 12345.token"}

DRAFT: dict[str, str] = {
    "quantity": "1",
    "title": "Vintage denim jacket",
    "description": "Levi's trucker jacket, size M.",
    "price": "45.00",
    "who_made": "someone_else",
    "when_made": "2010_2019",
    "is_supply": "false",
    "taxonomy_id": "2",
    "shipping_profile_id": "3",
}

OFFER: dict[str, Any] = {
    "sku": "SKU12345",
    "marketplaceId": "EBAY_DE",
    "format": "FIXED_PRICE",
    "availableQuantity": 1,
    "categoryId": "57988",
    "listingDuration": "GTC",
    "pricingSummary": {"price": {"value": "45.00", "currency": "EUR"}},
}


def _judged(request: httpx.Request) -> tuple[str | None, tuple[str, ...]]:
    verdict = judge_request(request)
    assert verdict is not None and verdict.has_spec
    return verdict.operation_id, verdict.errors


def test_etsy_draft_without_is_supply_is_rejected_and_with_it_accepted() -> None:
    """Fidelity fault 1: who_made/when_made "Require 'is_supply'" (the OAS text)."""
    url = f"{ETSY}/shops/42/listings"
    good = httpx.Request("POST", url, data=DRAFT, headers=ETSY_HEADERS)
    assert _judged(good) == ("createDraftListing", ())

    without = {k: v for k, v in DRAFT.items() if k != "is_supply"}
    operation, errors = _judged(httpx.Request("POST", url, data=without, headers=ETSY_HEADERS))
    assert operation == "createDraftListing"
    assert "request body: 'who_made' requires 'is_supply' and 'when_made'" in errors[0]


def test_etsy_draft_with_a_bad_enum_names_the_field() -> None:
    bad = {**DRAFT, "when_made": "made_yesterday"}
    request = httpx.Request("POST", f"{ETSY}/shops/42/listings", data=bad, headers=ETSY_HEADERS)
    _, errors = _judged(request)
    assert any(
        e.startswith("request body.when_made: 'made_yesterday' is not one of") for e in errors
    )


def test_etsy_image_upload_must_be_multipart_with_a_file() -> None:
    """Fidelity fault 2: form-urlencoded ``image_url`` is no media type the operation takes."""
    url = f"{ETSY}/shops/42/listings/7/images"
    by_url = httpx.Request(
        "POST", url, data={"image_url": "https://example.com/a.jpg"}, headers=ETSY_HEADERS
    )
    operation, errors = _judged(by_url)
    assert operation == "uploadListingImage"
    assert "application/x-www-form-urlencoded" in errors[0] and "multipart/form-data" in errors[0]

    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 16
    upload = httpx.Request(
        "POST",
        url,
        files={"image": ("a.jpg", jpeg, "image/jpeg")},
        data={"rank": "1"},  # a text part: read as the integer the schema wants
        headers=ETSY_HEADERS,
    )
    assert _judged(upload) == ("uploadListingImage", ())
    bad_rank = httpx.Request(
        "POST", url, files={"image": ("a.jpg", jpeg)}, data={"rank": "first"}, headers=ETSY_HEADERS
    )
    assert _judged(bad_rank)[1] == ("request body.rank: 'first' is not of type 'integer'",)


def test_ebay_offer_is_accepted_and_a_wrong_type_rejected() -> None:
    good = httpx.Request("POST", f"{EBAY}/offer", json=OFFER, headers=EBAY_HEADERS)
    assert _judged(good) == ("createOffer", ())

    bad = {**OFFER, "availableQuantity": "one"}
    request = httpx.Request("POST", f"{EBAY}/offer", json=bad, headers=EBAY_HEADERS)
    assert _judged(request) == (
        "createOffer",
        ("request body.availableQuantity: 'one' is not of type 'integer'",),
    )


def test_ebay_write_without_content_language_is_rejected() -> None:
    headers = {"Authorization": "Bearer user-token"}
    request = httpx.Request("POST", f"{EBAY}/offer", json=OFFER, headers=headers)
    _, errors = _judged(request)
    assert errors == ("request: Missing required header parameter: Content-Language",)


def test_calls_without_the_documented_credentials_are_rejected() -> None:
    """eBay: OAuth 2 user token as a bearer; Etsy: ``x-api-key`` and the OAuth 2 token."""
    no_token = httpx.Request(
        "POST", f"{EBAY}/offer", json=OFFER, headers={"Content-Language": "de-DE"}
    )
    assert _judged(no_token)[1] == (
        "request security: Security not found. Schemes not valid for any requirement: "
        "[['api_auth']]",
    )
    no_key = httpx.Request(
        "POST", f"{ETSY}/shops/42/listings", data=DRAFT, headers={"Authorization": "Bearer 1.t"}
    )
    assert "request security:" in _judged(no_key)[1][0]


def test_ebay_product_description_over_4000_characters_is_rejected() -> None:
    """Fidelity fault 11: ``product.description`` "Max Length: 4000" (the OAS text)."""
    url = f"{EBAY}/inventory_item/SKU12345"
    item = {"product": {"title": "Jacket", "description": "x" * 4000}}
    assert _judged(httpx.Request("PUT", url, json=item, headers=EBAY_HEADERS))[1] == ()

    item["product"]["description"] = "x" * 4001
    operation, errors = _judged(httpx.Request("PUT", url, json=item, headers=EBAY_HEADERS))
    assert operation == "createOrReplaceInventoryItem"
    assert errors == (
        "request body.product.description: 4001 characters, at most 4000 "
        "(Max Length in the document's text)",
    )


def test_ebay_aspects_are_arrays_of_strings() -> None:
    """The document types ``aspects`` as a string; its text and the live API use arrays."""
    url = f"{EBAY}/inventory_item/SKU12345"
    good = {"product": {"title": "Jacket", "aspects": {"Marke": ["Levi's"], "Größe": ["M"]}}}
    assert _judged(httpx.Request("PUT", url, json=good, headers=EBAY_HEADERS))[1] == ()
    flat = {"product": {"title": "Jacket", "aspects": {"Marke": "Levi's"}}}
    _, errors = _judged(httpx.Request("PUT", url, json=flat, headers=EBAY_HEADERS))
    assert errors == ("request body.product.aspects.Marke: \"Levi's\" is not of type 'array'",)


def test_responses_are_checked_against_the_documented_status() -> None:
    request = httpx.Request(
        "GET", f"{EBAY}/offer", params={"sku": "SKU12345"}, headers=EBAY_HEADERS
    )
    good = httpx.Response(200, json={"offers": [{"offerId": "5", "status": "PUBLISHED"}]})
    good.request = request
    verdict = judge_response(good)
    assert verdict is not None and verdict.errors == ()

    numeric_id = httpx.Response(200, json={"offers": [{"offerId": 5}]}, request=request)
    verdict = judge_exchange(request, numeric_id)
    assert verdict is not None and verdict.operation_id == "getOffers"
    assert verdict.errors == ("response 200 body.offers[0].offerId: 5 is not of type 'string'",)

    # OAS 3.0: a response list need not name every status; an unlisted 429 is not judged.
    limited = httpx.Response(429, json={"anything": True}, request=request)
    verdict = judge_exchange(request, limited)
    assert verdict is not None and verdict.errors == ()


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("POST", f"{EBAY}/offer/5/publish/", "publishOffer"),
        ("POST", "https://api.ebay.com/sell/inventory/v1/offer/5/publish/", "publishOffer"),
        ("POST", "https://api.sandbox.ebay.com/sell/inventory/v1/offer", "createOffer"),
        ("GET", f"{SIM}/ebay/sell/fulfillment/v1/order", "getOrders"),
        ("PATCH", f"{ETSY}/shops/1/listings/2", "updateListing"),
        ("PUT", f"{ETSY}/shops/1/listings/2", "updateListingDeprecated"),
        ("GET", "https://api.etsy.com/v3/application/shops/1/receipts", "getShopReceipts"),
        ("GET", f"{ETSY}/shops/1/nowhere", None),
    ],
)
def test_operation_ids_come_from_the_documents(method: str, url: str, expected: str | None) -> None:
    assert operation_id(method, url) == expected


def test_vinted_has_no_spec_and_other_urls_are_not_marketplace_calls() -> None:
    vinted = judge_request(httpx.Request("POST", f"{SIM}/vinted/api/v1/items", json={}))
    assert vinted is not None and vinted.marketplace is Marketplace.VINTED
    assert not vinted.has_spec and not vinted.rejected
    oauth = locate(f"{SIM}/ebay/identity/v1/oauth2/token")
    assert oauth is not None and oauth.document is None
    assert locate(f"{SIM}/__sim/faults") is None
    assert locate("http://test/start_job") is None


def test_every_document_loads_with_its_operations() -> None:
    ebay, etsy = operation_ids(Marketplace.EBAY), operation_ids(Marketplace.ETSY)
    assert {"createOrReplaceInventoryItem", "createOffer", "getOffers", "getOrders"} <= ebay
    assert {"getItemAspectsForCategory", "getItemConditionPolicies"} <= ebay
    assert {"createDraftListing", "uploadListingImage", "getShopReceipts"} <= etsy
    assert operation_ids(Marketplace.VINTED) == frozenset()
