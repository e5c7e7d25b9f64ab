"""The listing entity (issue 13) on the time-skipping server with stand-in marketplaces: one
listing per SKU across jobs, revise vs create vs unchanged, withdraw on cancel, delist."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.job import JobInput, JobView
from domain.listing_entity import DelistRequest, ListingView, PlacementState, listing_workflow_id
from domain.marketplaces import Marketplace
from domain.messages import CancelRequest, SignedInput
from domain.status import Action, JobStatus, MarketplaceStatus
from tests.factories import job_input
from tests.workflow.harness import (
    has_status,
    running_workers,
    start_job,
    wait_for,
    wait_for_progress,
)
from tests.workflow.stand_ins import Behaviour, StandInMarketplaces
from workflows.job import JobWorkflow
from workflows.listing import ListingWorkflow


def _signed() -> SignedInput:
    return SignedInput(data={"p": 1}, signature="v1,abc=", received_at=datetime.now(UTC))


def _same_sku(first: JobInput, **changes: object) -> JobInput:
    listing = first.listing.model_copy(update=changes)
    return job_input(now=first.created_at).model_copy(update={"listing": listing})


async def _run(client: Client, job: JobInput) -> JobView:
    handle = await start_job(client, job)
    await handle.signal(JobWorkflow.provide_input, _signed())
    return await handle.result()


async def _listing(client: Client, sku: str) -> ListingView:
    handle = client.get_workflow_handle_for(ListingWorkflow.run, listing_workflow_id(sku))
    return await handle.query(ListingWorkflow.view)


async def test_a_second_job_revises_and_a_third_with_the_same_content_changes_nothing(
    steady_env: WorkflowEnvironment,
):
    stand_ins = StandInMarketplaces()
    client = steady_env.client
    async with running_workers(client, stand_ins):
        first = job_input(now=await steady_env.get_current_time())
        created = await _run(client, first)
        second = _same_sku(first, title="Revised title")
        revised = await _run(client, second)
        third = _same_sku(first, title="Revised title")
        unchanged = await _run(client, third)
        listing = await _listing(client, first.listing.sku)
    for view, action in ((created, Action.CREATED), (revised, Action.REVISED)):
        assert view.status is JobStatus.COMPLETED
        assert {s.action for s in view.marketplaces.values()} == {action}
    assert {s.action for s in unchanged.marketplaces.values()} == {Action.UNCHANGED}
    for marketplace in Marketplace:
        calls = stand_ins.calls[marketplace]
        assert len(calls) == 2, "the unchanged job wrote nothing"
        assert calls[0].current is None
        assert calls[1].current is not None, "the revise names the live listing's ids"
        assert calls[1].current.listing_id == created.marketplaces[marketplace].listing_id
        assert stand_ins.published[marketplace] == [f"{marketplace.value}-{first.listing.sku}"]
    assert listing.status == "live"
    assert listing.job_ids == [first.job_id, second.job_id, third.job_id]
    assert {p.job_id for p in listing.marketplaces.values()} == {third.job_id}


async def test_two_jobs_at_once_for_a_new_sku_create_once_and_revise_once(
    steady_env: WorkflowEnvironment,
):
    stand_ins = StandInMarketplaces(behaviours={m: Behaviour(delay=0.2) for m in Marketplace})
    client = steady_env.client
    async with running_workers(client, stand_ins):
        first = job_input(now=await steady_env.get_current_time())
        second = _same_sku(first, title="The other title")
        views = await asyncio.gather(_run(client, first), _run(client, second))
        listing = await _listing(client, first.listing.sku)
    actions = sorted(v.marketplaces[Marketplace.EBAY].action or "" for v in views)
    assert actions == ["created", "revised"]
    for marketplace in Marketplace:
        assert [c.current is None for c in stand_ins.calls[marketplace]] == [True, False]
        assert len(stand_ins.published[marketplace]) == 1
    last = listing.job_ids[-1]
    assert {p.job_id for p in listing.marketplaces.values()} == {last}


async def test_a_job_cancelled_mid_create_withdraws_the_listing_whose_answer_was_lost(
    steady_env: WorkflowEnvironment,
):
    stand_ins = StandInMarketplaces(
        behaviours={Marketplace.VINTED: Behaviour(create_then_block=True)}
    )
    client = steady_env.client
    async with running_workers(client, stand_ins):
        job = job_input(now=await steady_env.get_current_time())
        handle = await start_job(client, job)
        await handle.signal(JobWorkflow.provide_input, _signed())
        await wait_for_progress(
            client,
            handle,
            lambda v: (
                v.marketplaces[Marketplace.EBAY].status is MarketplaceStatus.COMPLETED
                and v.marketplaces[Marketplace.ETSY].status is MarketplaceStatus.COMPLETED
            ),
        )
        await handle.signal(JobWorkflow.cancel, CancelRequest(reason="changed my mind"))
        view = await handle.result()
        listing = await _listing(client, job.listing.sku)
    assert view.status is JobStatus.CANCELLED
    for marketplace in Marketplace:
        state = view.marketplaces[marketplace]
        assert state.status is MarketplaceStatus.FAILED
        assert state.action is Action.WITHDRAWN, marketplace
        assert stand_ins.published[marketplace] == [], f"{marketplace} left live"
    assert stand_ins.withdrawn[Marketplace.VINTED][0].current is None, "found by the lookup"
    assert stand_ins.withdrawn[Marketplace.EBAY][0].current is not None
    assert listing.status == "ended"


async def test_a_cancelled_revise_leaves_the_listing_that_was_live_before(
    steady_env: WorkflowEnvironment,
):
    stand_ins = StandInMarketplaces()
    client = steady_env.client
    async with running_workers(client, stand_ins):
        first = job_input(now=await steady_env.get_current_time(), marketplaces=[Marketplace.EBAY])
        await _run(client, first)
        stand_ins.behaviours[Marketplace.EBAY] = Behaviour(block_until_cancelled=True)
        second = _same_sku(first, title="Never applied")
        second = second.model_copy(update={"marketplaces": [Marketplace.EBAY]})
        handle = await start_job(client, second)
        await handle.signal(JobWorkflow.provide_input, _signed())
        await wait_for(handle, has_status(JobStatus.RUNNING))
        for _ in range(200):  # until the revise runs
            if stand_ins.calls[Marketplace.EBAY][1:]:
                break
            await asyncio.sleep(0.05)
        await handle.signal(JobWorkflow.cancel, CancelRequest())
        view = await handle.result()
        listing = await _listing(client, first.listing.sku)
    assert view.status is JobStatus.CANCELLED
    assert view.marketplaces[Marketplace.EBAY].action is None
    assert stand_ins.withdrawn[Marketplace.EBAY] == []
    assert listing.marketplaces[Marketplace.EBAY].state is PlacementState.LIVE
    assert listing.marketplaces[Marketplace.EBAY].job_id == first.job_id


async def test_delist_ends_the_listing_and_is_idempotent(steady_env: WorkflowEnvironment):
    stand_ins = StandInMarketplaces()
    client = steady_env.client
    async with running_workers(client, stand_ins):
        job = job_input(now=await steady_env.get_current_time())
        await _run(client, job)
        entity = client.get_workflow_handle_for(
            ListingWorkflow.run, listing_workflow_id(job.listing.sku)
        )
        await entity.execute_update(
            ListingWorkflow.delist, DelistRequest(marketplaces=[Marketplace.ETSY])
        )
        await entity.execute_update(ListingWorkflow.delist, DelistRequest())
        await entity.execute_update(ListingWorkflow.delist, DelistRequest())
        for _ in range(100):
            listing = await entity.query(ListingWorkflow.view)
            if listing.status == "ended":
                break
            await asyncio.sleep(0.05)
    assert listing.status == "ended"
    assert {len(stand_ins.withdrawn[m]) for m in Marketplace} == {1}, "each ended once"
    assert all(p.state is PlacementState.ENDED for p in listing.marketplaces.values())
