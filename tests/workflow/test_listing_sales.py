"""Sales on the listing entity (issue 14), time-skipping server with stand-in marketplaces:
each order line counted once, the other marketplaces brought to the new quantity, the listing
ended everywhere at 0, two last-unit sales at once oversold; and the orders reader."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from domain.job import JobInput
from domain.listing_entity import ListingView, PlacementState, listing_workflow_id
from domain.marketplaces import JOB_TASK_QUEUE, Marketplace
from domain.messages import SignedInput
from domain.sales import OrderLine, ReaderState
from tests.factories import job_input, order_line
from tests.workflow.harness import running_workers, start_job
from tests.workflow.stand_ins import StandInMarketplaces
from workflows.job import JobWorkflow
from workflows.listing import ListingWorkflow
from workflows.orders_reader import OrdersReaderWorkflow, orders_reader_id

EBAY, ETSY, VINTED = Marketplace.EBAY, Marketplace.ETSY, Marketplace.VINTED


async def _published(client: Client, quantity: int) -> tuple[JobInput, WorkflowHandle]:
    job = job_input()
    job = job.model_copy(update={"listing": job.listing.model_copy(update={"quantity": quantity})})
    handle = await start_job(client, job)
    await handle.signal(
        JobWorkflow.provide_input,
        SignedInput(data={"p": 1}, signature="v1,abc=", received_at=datetime.now(UTC)),
    )
    await handle.result()
    entity = client.get_workflow_handle_for(
        ListingWorkflow.run, listing_workflow_id(job.listing.sku)
    )
    return job, entity


def _line(job: JobInput, marketplace: Marketplace, order: str, quantity: int = 1) -> OrderLine:
    return order_line(job.listing.sku, marketplace, order, quantity)


async def _until(entity: WorkflowHandle, check: Callable[[ListingView], bool]) -> ListingView:
    for _ in range(200):
        view: ListingView = await entity.query(ListingWorkflow.view)
        if check(view):
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached: {view.model_dump_json()}")


async def test_each_sale_lowers_the_others_and_the_last_ends_the_listing_everywhere(
    steady_env: WorkflowEnvironment,
):
    """Quantity 3, a sale of 1 on eBay and 1 on Etsy: every live marketplace is brought to
    the count (the one that sold too: it shows it already, or a late quantity update put a
    sold unit back); the same order reported twice counts once; a last sale ends all, and the
    marketplace that ended it itself is ended without an error."""
    stand_ins = StandInMarketplaces()
    client = steady_env.client
    async with running_workers(client, stand_ins):
        job, entity = await _published(client, quantity=3)
        await entity.signal(ListingWorkflow.order, _line(job, EBAY, "e1"))
        await entity.signal(ListingWorkflow.order, _line(job, EBAY, "e1"))  # reported again
        await _until(entity, lambda v: v.sold == 1 and len(stand_ins.quantities[ETSY]) == 1)
        await entity.signal(ListingWorkflow.order, _line(job, ETSY, "t1"))
        one_left = await _until(
            entity, lambda v: v.sold == 2 and v.marketplaces[EBAY].quantity == 1
        )
        stand_ins.sold_out_on.add(VINTED)  # the last unit sells on Vinted, which ends it
        await entity.signal(ListingWorkflow.order, _line(job, VINTED, "v1"))
        ended = await _until(entity, lambda v: v.status == "ended")
        events = await entity.query(ListingWorkflow.events)
    for marketplace in (EBAY, ETSY, VINTED):
        assert [r.quantity for r in stand_ins.quantities[marketplace]] == [2, 1], marketplace
    assert (one_left.quantity, one_left.marketplaces[ETSY].quantity) == (1, 1)
    assert (ended.sold, ended.oversold, ended.quantity) == (3, 0, 0)
    assert all(p.state is PlacementState.ENDED for p in ended.marketplaces.values())
    assert all(p.error is None for p in ended.marketplaces.values())
    assert {m: len(stand_ins.withdrawn[m]) for m in Marketplace} == {EBAY: 1, ETSY: 1, VINTED: 1}
    types = [e["type"] for e in events]
    assert types.count("listing.sold") == 3 and types.count("order.duplicate") == 1
    assert types.count("listing.quantity_synced") == 6 and "listing.ended" in types
    details = [(e["type"], e["detail"]) for e in events]
    withdrawn = {d["marketplace"] for t, d in details if t == "marketplace.withdrawn"}
    assert withdrawn == {"ebay", "etsy"}
    ended_there = [(d["marketplace"], d["reason"]) for t, d in details if t == "marketplace.ended"]
    assert ended_there == [("vinted", "ended there")]


async def test_a_unit_put_back_on_the_marketplace_that_sold_is_ended_by_our_count(
    steady_env: WorkflowEnvironment,
):
    """The last unit sells on Etsy, but Etsy still shows one (a quantity update for an
    earlier sale landed after this sale there): our count is 0, so Etsy is ended too. Found
    by CI (stop 18): the entity trusted the selling marketplace to have ended itself."""
    stand_ins = StandInMarketplaces()
    client = steady_env.client
    async with running_workers(client, stand_ins):
        job, entity = await _published(client, quantity=1)
        await entity.signal(ListingWorkflow.order, _line(job, ETSY, "t1"))
        view = await _until(entity, lambda v: v.status == "ended")
    assert {m: len(stand_ins.withdrawn[m]) for m in Marketplace} == {EBAY: 1, ETSY: 1, VINTED: 1}
    assert stand_ins.published[ETSY] == [], "the unit Etsy still showed is ended"
    assert all(p.state is PlacementState.ENDED for p in view.marketplaces.values())


async def test_two_last_unit_sales_at_once_are_both_counted_and_oversold(
    steady_env: WorkflowEnvironment,
):
    stand_ins = StandInMarketplaces()
    client = steady_env.client
    async with running_workers(client, stand_ins):
        job, entity = await _published(client, quantity=1)
        await asyncio.gather(
            entity.signal(ListingWorkflow.order, _line(job, EBAY, "e1")),
            entity.signal(ListingWorkflow.order, _line(job, ETSY, "t1")),
        )
        view = await _until(entity, lambda v: v.sold == 2 and v.status == "ended")
        events = [e["type"] for e in await entity.query(ListingWorkflow.events)]
    assert (view.sold, view.oversold, view.quantity) == (2, 1, 0)
    assert events.count("listing.oversold") == 1
    assert all(p.state is PlacementState.ENDED for p in view.marketplaces.values())


async def test_a_listing_the_other_marketplace_already_ended_is_not_ended_again(
    steady_env: WorkflowEnvironment,
):
    stand_ins = StandInMarketplaces(sold_out_on={ETSY})
    client = steady_env.client
    async with running_workers(client, stand_ins):
        job, entity = await _published(client, quantity=2)
        await entity.signal(ListingWorkflow.order, _line(job, EBAY, "e1"))
        view = await _until(entity, lambda v: v.marketplaces[ETSY].state is PlacementState.ENDED)
    assert view.marketplaces[VINTED].state is PlacementState.LIVE
    assert view.marketplaces[VINTED].quantity == 1
    assert view.marketplaces[ETSY].error is None, "ended there is not an error"


async def test_the_orders_reader_signals_each_line_to_its_entity_and_keeps_its_cursor(
    steady_env: WorkflowEnvironment,
):
    stand_ins = StandInMarketplaces()
    client = steady_env.client
    async with running_workers(client, stand_ins):
        job, entity = await _published(client, quantity=2)
        line = _line(job, EBAY, "e9")
        stranger = line.model_copy(update={"sku": "NOTOURS1", "order_id": "x"})
        stand_ins.orders[EBAY] = [line, stranger]
        reader = await client.start_workflow(
            OrdersReaderWorkflow.run,
            ReaderState(marketplace=EBAY, interval_seconds=0.2),
            id=orders_reader_id(EBAY),
            task_queue=JOB_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        stand_ins.orders[EBAY] = [line, stranger]
        view = await _until(entity, lambda v: v.sold == 1)
        await asyncio.sleep(0.6)
        state = await reader.query(OrdersReaderWorkflow.state)
        await reader.terminate("test done")
    assert view.quantity == 1
    assert state.unknown_skus >= 1 and state.lines_seen >= 2
    cursors = [r.cursor for r in stand_ins.reads[EBAY]]
    assert cursors[0] is None and cursors[1:] == [str(i) for i in range(1, len(cursors))]
