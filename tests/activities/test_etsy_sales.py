"""Etsy's side of sales (issue 14) against the simulator: a sale read from getShopReceipts,
paging, the overlap; the quantity set by updateListingInventory, a sold-out listing.

Every exchange is judged by Etsy's OpenAPI document (tests/support/spec_judge.py): a rejected
request or answer fails the test.
"""

from __future__ import annotations

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities import sales_window
from activities.etsy import EtsyActivities
from activities.etsy_sales import EtsySalesActivities
from config.settings import Settings
from domain.marketplace_errors import MARKETPLACE_UNAVAILABLE
from domain.marketplaces import Marketplace
from domain.messages import PublishResult
from domain.sales import OrdersPage, ReadOrdersRequest, SetQuantityRequest, SetQuantityResult
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

ETSY = Marketplace.ETSY


async def _publish(
    settings: Settings, http: httpx.AsyncClient, quantity: int
) -> tuple[str, PublishResult]:
    request = publish_request(ETSY, quantity=quantity, price={"amount": "45.50", "currency": "EUR"})
    result: PublishResult = await Attempts(
        EtsyActivities(settings, http).publish_to_etsy, ETSY
    ).run(request)
    return request.listing.sku, result


def _sales(settings: Settings, http: httpx.AsyncClient) -> EtsySalesActivities:
    return EtsySalesActivities(EtsyActivities(settings, http).client)


async def _read(sales: EtsySalesActivities, cursor: str | None) -> OrdersPage:
    page: OrdersPage = await Attempts(sales.read_orders_etsy, ETSY).run(
        ReadOrdersRequest(marketplace=ETSY, cursor=cursor)
    )
    return page


def _quantity_request(sku: str, published: PublishResult, quantity: int) -> SetQuantityRequest:
    return SetQuantityRequest(marketplace=ETSY, sku=sku, current=published.ref(), quantity=quantity)


async def _etsy_listing(sim: SimulatorControl, listing_id: str) -> dict[str, object]:
    [found] = [e for e in (await sim.listings())["etsy"] if str(e["listing_id"]) == listing_id]
    return found


async def test_an_etsy_sale_is_read_from_get_shop_receipts_with_its_transaction(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Issue 14: the simulator records a receipt where Etsy reports it (getShopReceipts, by
    min_last_modified); each transaction with a SKU is an OrderLine keyed by receipt and
    transaction."""
    sku, published = await _publish(settings, http, quantity=3)
    sales = _sales(settings, http)
    first = await _read(sales, None)
    assert first.lines == []
    receipt_id = await sim.sell("etsy", sku, 2)
    page = await _read(sales, first.next_cursor)
    [line] = page.lines
    assert (line.marketplace, line.order_id, line.sku, line.quantity) == (ETSY, receipt_id, sku, 2)
    assert line.listing_id == published.listing_id
    assert line.key == f"etsy:{receipt_id}:{line.line_id}"
    assert sales_window.parse_utc(page.next_cursor) >= sales_window.parse_utc(first.next_cursor)
    assert (await _etsy_listing(sim, published.listing_id))["quantity"] == 1
    [call] = (await sim.calls("etsy", "getShopReceipts"))[-1:]
    assert call["status"] == 200


async def test_the_same_receipt_read_again_in_the_overlap_keeps_its_key(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    sku, _ = await _publish(settings, http, quantity=2)
    sales = _sales(settings, http)
    start = await _read(sales, None)
    await sim.sell("etsy", sku)
    once = await _read(sales, start.next_cursor)
    twice = await _read(sales, once.next_cursor)
    assert len(once.lines) == 1
    assert [line.key for line in once.lines] == [line.key for line in twice.lines]


async def test_every_page_of_receipts_is_read(
    settings: Settings,
    http: httpx.AsyncClient,
    sim: SimulatorControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("activities.etsy_sales.PAGE_SIZE", 2)
    monkeypatch.setattr(sales_window, "PAGE_OVERLAP", 1)
    sku, _ = await _publish(settings, http, quantity=6)
    sales = _sales(settings, http)
    start = await _read(sales, None)
    receipts = {await sim.sell("etsy", sku) for _ in range(5)}
    before = len(await sim.calls("etsy", "getShopReceipts"))
    page = await _read(sales, start.next_cursor)
    assert sorted(line.order_id for line in page.lines) == sorted(receipts), "each once"
    assert len(await sim.calls("etsy", "getShopReceipts")) - before == 4  # offsets 0, 1, 2, 3


async def test_set_quantity_keeps_price_and_sku_and_shows_in_the_listing(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """getListingInventory (with the listing's state), then updateListingInventory with the
    same price and SKU and the new quantity; the same quantity again writes nothing."""
    sku, published = await _publish(settings, http, quantity=5)
    sales = _sales(settings, http)
    attempts = Attempts(sales.set_quantity_etsy, ETSY)
    result: SetQuantityResult = await attempts.run(_quantity_request(sku, published, 2))
    assert (result.quantity, result.ended) == (2, False)
    listing = await _etsy_listing(sim, published.listing_id)
    assert (listing["quantity"], listing["price"], listing["sku"], listing["live"]) == (
        2,
        "45.50",
        sku,
        True,
    )
    assert len(await sim.calls("etsy", "updateListingInventory")) == 2  # the publish, this
    await attempts.run(_quantity_request(sku, published, 2))
    assert len(await sim.calls("etsy", "updateListingInventory")) == 2


async def test_set_quantity_on_a_listing_sold_out_on_etsy_is_ended_not_an_error(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    sku, published = await _publish(settings, http, quantity=1)
    await sim.sell("etsy", sku)
    listing = await _etsy_listing(sim, published.listing_id)
    assert (listing["state"], listing["live"]) == ("sold_out", False)
    result: SetQuantityResult = await Attempts(_sales(settings, http).set_quantity_etsy, ETSY).run(
        _quantity_request(sku, published, 1)
    )
    assert (result.ended, result.quantity) == (True, 0)
    assert (await _etsy_listing(sim, published.listing_id))["state"] == "sold_out"
    assert len(await sim.calls("etsy", "updateListingInventory")) == 1  # the publish only


async def test_set_quantity_is_retried_after_a_5xx(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    sku, published = await _publish(settings, http, quantity=4)
    await sim.add_fault("etsy", "error", "updateListingInventory", status=502)
    attempts = Attempts(_sales(settings, http).set_quantity_etsy, ETSY)
    with pytest.raises(ApplicationError) as failed:
        await attempts.run(_quantity_request(sku, published, 3))
    assert failed.value.type == MARKETPLACE_UNAVAILABLE and not failed.value.non_retryable
    await attempts.run(_quantity_request(sku, published, 3))
    assert (await _etsy_listing(sim, published.listing_id))["quantity"] == 3
