"""``POST /__sim/sales`` and where each simulated marketplace reports the sale: eBay getOrders
(and bulkUpdatePriceQuantity), Etsy getShopReceipts (and getListingInventory), Vinted's sold
item. Every eBay and Etsy answer is judged by the official documents (``AnswerJudge``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from config.settings import Settings, load_settings
from domain.timestamps import format_utc
from domain.vinted_reference import item_reference
from simulator.app import create_app
from simulator.state import EbayOffer, EtsyListing, SimState
from tests.support.answer_judge import AnswerJudge
from tests.support.simulator import running_simulator

pytestmark = pytest.mark.asyncio(loop_scope="session")

EBAY_ORDERS = "/ebay/sell/fulfillment/v1/order"
INVENTORY = "/ebay/sell/inventory/v1"
ETSY = "/etsy/v3/application"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def app_state() -> Iterator[tuple[str, SimState]]:
    """A simulator of its own whose state the tests fill directly."""
    app = create_app(load_settings())
    with running_simulator(app=app) as url:
        yield url, app.state.sim


@pytest.fixture
def state(app_state: tuple[str, SimState]) -> SimState:
    app_state[1].reset()
    return app_state[1]


@pytest.fixture
async def http(
    app_state: tuple[str, SimState], state: SimState
) -> AsyncIterator[tuple[httpx.AsyncClient, AnswerJudge]]:
    judge = AnswerJudge(requests=True)
    async with httpx.AsyncClient(
        base_url=app_state[0], timeout=5.0, event_hooks={"response": [judge]}
    ) as client:
        yield client, judge
    assert judge.rejected == [], judge.rejected


def _ebay(settings: Settings, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.ebay_token.get_secret_value()}", **extra}


def _etsy(settings: Settings) -> dict[str, str]:
    return {
        "x-api-key": settings.etsy_api_key.get_secret_value(),
        "Authorization": f"Bearer {settings.etsy_access_token.get_secret_value()}",
    }


def _ebay_listing(state: SimState, sku: str, quantity: int) -> EbayOffer:
    state.ebay_inventory[sku] = {
        "availability": {"shipToLocationAvailability": {"quantity": quantity}},
        "product": {"title": "Vintage denim jacket"},
    }
    body = {
        "availableQuantity": quantity,
        "pricingSummary": {"price": {"value": "45.00", "currency": "EUR"}},
    }
    offer = EbayOffer("5000000001", sku, "EBAY_DE", "FIXED_PRICE", body, "de-DE")
    offer.status, offer.listing_id = "PUBLISHED", "110000000001"
    state.ebay_offers[offer.offer_id] = offer
    return offer


def _etsy_listing(state: SimState, sku: str, quantity: int) -> EtsyListing:
    fields = {
        "title": "Vintage denim jacket",
        "description": "Levi's trucker jacket.",
        "price": "45.0",
        "quantity": str(quantity),
        "who_made": "someone_else",
        "when_made": "before_2006",
        "is_supply": "false",
        "taxonomy_id": "1",
        "shipping_profile_id": "9001",
        "user_id": "12345678",
        "currency_code": "EUR",
    }
    product = {
        "sku": sku,
        "property_values": [],
        "offerings": [{"price": 45.0, "quantity": quantity, "is_enabled": True}],
    }
    listing = EtsyListing(1_000_000_001, state.settings.etsy_shop_id, fields, "active")
    listing.products = [product]
    state.etsy_listings[listing.listing_id] = listing
    return listing


async def _sell(http: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await http.post("/__sim/sales", json=body)


async def test_an_ebay_sale_lowers_the_offer_and_is_in_get_orders(
    http: tuple[httpx.AsyncClient, AnswerJudge], state: SimState
) -> None:
    client, judge = http
    settings = state.settings
    offer = _ebay_listing(state, "SKU1", 3)
    since = format_utc(datetime.now(UTC) - timedelta(seconds=5))
    sold = await _sell(client, {"marketplace": "ebay", "sku": "SKU1", "quantity": 3})
    assert sold.status_code == 201, sold.text
    order_id = sold.json()["order_id"]
    assert offer.body["availableQuantity"] == 0 and offer.out_of_stock
    listed = (
        await client.get(f"{INVENTORY}/offer/{offer.offer_id}", headers=_ebay(settings))
    ).json()
    assert listed["listing"] == {
        "listingId": "110000000001",
        "listingStatus": "OUT_OF_STOCK",
        "soldQuantity": 3,
    }
    response = await client.get(
        EBAY_ORDERS,
        params={"filter": f"lastmodifieddate:[{since}..]", "limit": "200"},
        headers=_ebay(settings),
    )
    assert response.status_code == 200, response.text
    [order] = response.json()["orders"]
    [line] = order["lineItems"]
    assert order["orderId"] == order_id
    assert (line["sku"], line["legacyItemId"], line["quantity"]) == ("SKU1", "110000000001", 3)
    before = await client.get(
        EBAY_ORDERS, params={"filter": f"creationdate:[{since}..{since}]"}, headers=_ebay(settings)
    )
    assert before.json()["orders"] == [], "a window that ended before the sale"
    assert judge.judged >= 3


@pytest.mark.parametrize(
    ("params", "error_id"),
    [
        ({"filter": "createddate:[2026-01-01T00:00:00.000Z..]"}, 30700),
        ({"filter": "lastmodifieddate:[yesterday..]"}, 30810),
        ({"filter": "lastmodifieddate:[..2026-01-01T00:00:00.000Z]"}, 30820),
        ({"filter": "lastmodifieddate:[2099-01-01T00:00:00.000Z..]"}, 30850),
        ({"filter": "lastmodifieddate:[2000-01-01T00:00:00.000Z..]"}, 30830),
        ({"limit": "201"}, 31100),
        ({"offset": "-1"}, 31000),
    ],
)
async def test_get_orders_refuses_what_the_oas_lists(
    http: tuple[httpx.AsyncClient, AnswerJudge],
    state: SimState,
    params: dict[str, str],
    error_id: int,
) -> None:
    response = await http[0].get(EBAY_ORDERS, params=params, headers=_ebay(state.settings))
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorId"] == error_id


async def test_get_orders_needs_the_fulfillment_scope(
    http: tuple[httpx.AsyncClient, AnswerJudge], state: SimState
) -> None:
    """A token the seller consented to without sell.fulfillment: 403 errorId 1100."""
    token = state.ebay_access.issue(
        frozenset({"https://api.ebay.com/oauth/api_scope/sell.inventory"})
    )
    response = await http[0].get(EBAY_ORDERS, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["errorId"] == 1100


async def test_bulk_update_gives_an_out_of_stock_listing_stock_again(
    http: tuple[httpx.AsyncClient, AnswerJudge], state: SimState
) -> None:
    client, _ = http
    offer = _ebay_listing(state, "SKU2", 1)
    assert (await _sell(client, {"marketplace": "ebay", "sku": "SKU2"})).status_code == 201
    body = {
        "requests": [
            {
                "sku": "SKU2",
                "shipToLocationAvailability": {"quantity": 4},
                "offers": [{"offerId": offer.offer_id, "availableQuantity": 4}],
            }
        ]
    }
    response = await client.post(
        f"{INVENTORY}/bulk_update_price_quantity",
        json=body,
        headers=_ebay(state.settings, **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 200, response.text
    assert response.json()["responses"] == [
        {"sku": "SKU2", "offerId": offer.offer_id, "statusCode": 200}
    ]
    assert offer.buyable and offer.body["availableQuantity"] == 4
    unknown = {"requests": [{"sku": "SKU2", "offers": [{"offerId": "9", "availableQuantity": 1}]}]}
    partly = await client.post(
        f"{INVENTORY}/bulk_update_price_quantity", json=unknown, headers=_ebay(state.settings)
    )
    assert partly.status_code == 207
    assert partly.json()["responses"][0]["errors"][0]["errorId"] == 25713


async def test_an_etsy_sale_of_the_last_unit_sells_the_listing_out_and_makes_a_receipt(
    http: tuple[httpx.AsyncClient, AnswerJudge], state: SimState
) -> None:
    client, judge = http
    settings = state.settings
    listing = _etsy_listing(state, "SKU3", 2)
    since = int(datetime.now(UTC).timestamp()) - 5
    sold = await _sell(client, {"marketplace": "etsy", "sku": "SKU3", "quantity": 2})
    assert sold.status_code == 201, sold.text
    assert listing.state == "sold_out" and listing.fields["quantity"] == "0"
    inventory = await client.get(
        f"{ETSY}/listings/{listing.listing_id}/inventory",
        params={"includes": "Listing"},
        headers=_etsy(settings),
    )
    assert inventory.status_code == 200, inventory.text
    assert inventory.json()["listing"]["state"] == "sold_out"
    response = await client.get(
        f"{ETSY}/shops/{settings.etsy_shop_id}/receipts",
        params={"min_last_modified": str(since), "sort_on": "updated", "sort_order": "asc"},
        headers=_etsy(settings),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["count"] == 1
    [receipt] = page["results"]
    [transaction] = receipt["transactions"]
    assert str(receipt["receipt_id"]) == sold.json()["order_id"]
    assert (transaction["sku"], transaction["listing_id"], transaction["quantity"]) == (
        "SKU3",
        listing.listing_id,
        2,
    )
    later = await client.get(
        f"{ETSY}/shops/{settings.etsy_shop_id}/receipts",
        params={"min_last_modified": str(since + 3600)},
        headers=_etsy(settings),
    )
    assert later.json() == {"count": 0, "results": []}
    assert judge.judged >= 3


async def test_a_vinted_sale_sells_the_item(
    http: tuple[httpx.AsyncClient, AnswerJudge], state: SimState
) -> None:
    client, _ = http
    reference = item_reference("SKU4", "job-1:vinted")
    item = state.vinted.new_item(reference, {"price": 45.0, "title": "Jacket"}, 0.0, None)
    sold = await _sell(client, {"marketplace": "vinted", "sku": "SKU4", "quantity": 1})
    assert sold.status_code == 201, sold.text
    assert item.order_id == int(sold.json()["order_id"])
    [view] = (await client.get("/__sim/listings")).json()["vinted"]
    assert (view["status"], view["live"]) == ("sold", False)
    again = await _sell(client, {"marketplace": "vinted", "sku": "SKU4"})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"marketplace": "amazon", "sku": "SKU5"}, 404),
        ({"marketplace": "ebay", "sku": "NOPE"}, 404),
        ({"marketplace": "etsy", "sku": "NOPE"}, 404),
        ({"marketplace": "vinted", "sku": "NOPE"}, 404),
        ({"marketplace": "ebay", "sku": "SKU5", "quantity": 3}, 400),
        ({"marketplace": "etsy", "sku": "SKU5", "quantity": 3}, 400),
        ({"marketplace": "ebay", "sku": "SKU5", "quantity": 0}, 400),
        ({"marketplace": "ebay", "sku": "SKU5", "price": 1}, 400),
        ({"marketplace": "ebay"}, 400),
        ([], 400),
    ],
)
async def test_a_sale_that_cannot_happen_is_a_problem(
    http: tuple[httpx.AsyncClient, AnswerJudge], state: SimState, body: Any, status: int
) -> None:
    """Unknown marketplace or SKU 404; more than is live, or a bad body, 400 (problem+json)."""
    _ebay_listing(state, "SKU5", 2)
    _etsy_listing(state, "SKU5", 2)
    response = await _sell(http[0], body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == status


async def test_a_sale_of_a_listing_that_is_not_live_is_409(
    http: tuple[httpx.AsyncClient, AnswerJudge], state: SimState
) -> None:
    """CONTRACT.md: 409 when the SKU is not live there (withdrawn, or sold out)."""
    offer = _ebay_listing(state, "SKU6", 1)
    offer.status, offer.ended_listing_id, offer.listing_id = "UNPUBLISHED", offer.listing_id, None
    listing = _etsy_listing(state, "SKU6", 1)
    listing.state = "inactive"
    for marketplace in ("ebay", "etsy"):
        response = await _sell(http[0], {"marketplace": marketplace, "sku": "SKU6"})
        assert response.status_code == 409, response.text
