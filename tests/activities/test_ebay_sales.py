"""eBay's side of sales (issue 14) against the simulator: a sale read from getOrders, paging,
the cursor, the overlap; the quantity set by bulkUpdatePriceQuantity, a sold-out listing.

Every exchange is judged by the Sell Inventory and Sell Fulfillment OAS
(tests/support/spec_judge.py): a rejected request or answer fails the test.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities import sales_window
from activities.ebay import EbayActivities
from activities.ebay_sales import EbaySalesActivities
from config.settings import Settings
from domain.marketplace_errors import MARKETPLACE_UNAVAILABLE, RATE_LIMITED
from domain.marketplaces import Marketplace
from domain.messages import PublishResult
from domain.sales import OrdersPage, ReadOrdersRequest, SetQuantityRequest, SetQuantityResult
from domain.timestamps import format_utc
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

EBAY = Marketplace.EBAY


async def _publish(settings: Settings, http: httpx.AsyncClient, quantity: int) -> PublishResult:
    request = publish_request(EBAY, quantity=quantity)
    result: PublishResult = await Attempts(
        EbayActivities(settings, http).publish_to_ebay, EBAY
    ).run(request)
    return result


def _sales(settings: Settings, http: httpx.AsyncClient) -> EbaySalesActivities:
    return EbaySalesActivities(EbayActivities(settings, http).client)


async def _read(sales: EbaySalesActivities, cursor: str | None) -> OrdersPage:
    page: OrdersPage = await Attempts(sales.read_orders_ebay, EBAY).run(
        ReadOrdersRequest(marketplace=EBAY, cursor=cursor)
    )
    return page


async def _set(
    sales: EbaySalesActivities, published: PublishResult, sku: str, quantity: int
) -> SetQuantityResult:
    request = SetQuantityRequest(
        marketplace=EBAY, sku=sku, current=published.ref(), quantity=quantity
    )
    result: SetQuantityResult = await Attempts(sales.set_quantity_ebay, EBAY).run_until_done(
        request
    )
    return result


async def _sku(sim: SimulatorControl, published: PublishResult) -> str:
    [listing] = [e for e in (await sim.listings())["ebay"] if e["offerId"] == published.offer_id]
    return str(listing["sku"])


async def test_an_ebay_sale_is_read_from_get_orders_with_its_sku_listing_and_quantity(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Issue 14: the simulator records the order where eBay reports it (Fulfillment
    getOrders, filtered by lastmodifieddate); the reader turns its line item into an OrderLine
    and hands back a cursor that moved forward."""
    published = await _publish(settings, http, quantity=3)
    sku = await _sku(sim, published)
    sales = _sales(settings, http)
    first = await _read(sales, None)
    assert first.lines == []
    order_id = await sim.sell("ebay", sku, 2)
    page = await _read(sales, first.next_cursor)
    [line] = page.lines
    assert (line.marketplace, line.order_id, line.sku, line.quantity) == (EBAY, order_id, sku, 2)
    assert line.listing_id == published.listing_id
    assert line.line_id and line.key == f"ebay:{order_id}:{line.line_id}"
    assert sales_window.parse_utc(page.next_cursor) > sales_window.parse_utc(first.next_cursor)
    [getorders] = (await sim.calls("ebay", "getOrders"))[-1:]
    assert "/sell/fulfillment/v1/order" in getorders["path"] and getorders["status"] == 200
    [live] = await sim.live_listings("ebay", sku)
    assert (live["quantity"], live["sold"]) == (1, 2)


async def test_the_same_order_read_again_in_the_overlap_keeps_its_key(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Two reads whose windows overlap (the cursor less a few seconds, for clock skew) both
    report the order: duplicates are the entity's to drop, by the same key."""
    published = await _publish(settings, http, quantity=2)
    sku = await _sku(sim, published)
    sales = _sales(settings, http)
    start = await _read(sales, None)
    await sim.sell("ebay", sku)
    once = await _read(sales, start.next_cursor)
    twice = await _read(sales, once.next_cursor)
    assert [line.key for line in once.lines] == [line.key for line in twice.lines]
    assert len(once.lines) == 1


async def test_a_read_after_the_cursor_moved_past_an_order_no_longer_reports_it(
    settings: Settings,
    http: httpx.AsyncClient,
    sim: SimulatorControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cursor moves forward: with no overlap, the next window starts after the order."""
    monkeypatch.setattr(sales_window, "OVERLAP", timedelta(0))
    published = await _publish(settings, http, quantity=2)
    sku = await _sku(sim, published)
    sales = _sales(settings, http)
    start = await _read(sales, None)
    await sim.sell("ebay", sku)
    await asyncio.sleep(0.01)
    seen = await _read(sales, start.next_cursor)
    assert len(seen.lines) == 1
    later = await _read(sales, seen.next_cursor)
    assert later.lines == []


async def test_every_page_of_orders_is_read(
    settings: Settings,
    http: httpx.AsyncClient,
    sim: SimulatorControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More orders than a page holds: the reader follows offset until total, each page
    re-reading the last of the one before (an order moved up cannot slip between two); what
    it read twice it returns once."""
    monkeypatch.setattr("activities.ebay_sales.PAGE_SIZE", 3)
    monkeypatch.setattr(sales_window, "PAGE_OVERLAP", 1)
    published = await _publish(settings, http, quantity=8)
    sku = await _sku(sim, published)
    sales = _sales(settings, http)
    start = await _read(sales, None)
    order_ids = {await sim.sell("ebay", sku) for _ in range(7)}
    before = len(await sim.calls("ebay", "getOrders"))
    page = await _read(sales, start.next_cursor)
    assert sorted(line.order_id for line in page.lines) == sorted(order_ids), "each once"
    assert len(await sim.calls("ebay", "getOrders")) - before == 3  # offsets 0, 2, 4


async def test_a_cursor_no_reader_made_fails_without_retries(
    settings: Settings, http: httpx.AsyncClient
) -> None:
    with pytest.raises(ApplicationError) as failed:
        await _read(_sales(settings, http), "not a time")
    assert failed.value.non_retryable


async def test_set_quantity_revises_the_live_listing_with_bulk_update_price_quantity(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """getOffer (still buyable?) then bulkUpdatePriceQuantity: the live listing shows the new
    quantity in /__sim/listings, under the same listing id; the same quantity again writes
    nothing (eBay limits revisions to 250 a day)."""
    published = await _publish(settings, http, quantity=5)
    sku = await _sku(sim, published)
    sales = _sales(settings, http)
    result = await _set(sales, published, sku, 2)
    assert (result.quantity, result.ended) == (2, False)
    [live] = await sim.live_listings("ebay", sku)
    assert (live["quantity"], live["listingId"]) == (2, published.listing_id)
    assert len(await sim.calls("ebay", "bulkUpdatePriceQuantity")) == 1
    again = await _set(sales, published, sku, 2)
    assert (again.quantity, again.ended) == (2, False)
    assert len(await sim.calls("ebay", "bulkUpdatePriceQuantity")) == 1


async def test_set_quantity_on_a_listing_that_sold_out_on_ebay_is_ended_not_an_error(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """The buyer took the last units on eBay (OUT_OF_STOCK): the quantity is not set, so the
    listing is not brought back, and the answer is ``ended``."""
    published = await _publish(settings, http, quantity=2)
    sku = await _sku(sim, published)
    await sim.sell("ebay", sku, 2)
    assert await sim.live_listings("ebay", sku) == []
    result = await _set(_sales(settings, http), published, sku, 1)
    assert (result.ended, result.quantity) == (True, 0)
    assert await sim.calls("ebay", "bulkUpdatePriceQuantity") == []
    assert await sim.live_listings("ebay", sku) == []


async def test_set_quantity_is_retried_after_a_5xx_like_a_publish(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """A 503 on bulkUpdatePriceQuantity is MarketplaceUnavailable (retryable); the retry
    sets the quantity."""
    published = await _publish(settings, http, quantity=4)
    sku = await _sku(sim, published)
    await sim.add_fault("ebay", "error", "bulkUpdatePriceQuantity", status=503)
    attempts = Attempts(_sales(settings, http).set_quantity_ebay, EBAY)
    request = SetQuantityRequest(marketplace=EBAY, sku=sku, current=published.ref(), quantity=3)
    with pytest.raises(ApplicationError) as failed:
        await attempts.run(request)
    assert failed.value.type == MARKETPLACE_UNAVAILABLE and not failed.value.non_retryable
    result: SetQuantityResult = await attempts.run(request)
    assert result.quantity == 3
    [live] = await sim.live_listings("ebay", sku)
    assert live["quantity"] == 3


async def test_reading_orders_is_retried_after_a_429(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """getOrders answering 429 is RateLimited, retried by the reader's retry policy."""
    await sim.add_fault("ebay", "rate_limit", "getOrders", retry_after=1)
    attempts = Attempts(_sales(settings, http).read_orders_ebay, EBAY)
    request = ReadOrdersRequest(marketplace=EBAY, cursor=format_utc(datetime.now(UTC)))
    with pytest.raises(ApplicationError) as failed:
        await attempts.run(request)
    assert failed.value.type == RATE_LIMITED and not failed.value.non_retryable
    assert isinstance(await attempts.run(request), OrdersPage)
