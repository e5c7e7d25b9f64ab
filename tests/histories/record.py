"""Record representative histories as JSON: ``python -m tests.histories.record``.

Run it when a workflow change is *meant* to change histories, after guarding the change with
``workflow.patched("<change-id>")`` so that running jobs replay the old path (see README,
"Testing"). The new files replace the old ones; keep old ones that running jobs may still have.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy

from activities.etsy_oauth import TokenCipher, fingerprint
from api.app import build_services
from api.schemas import StartJobRequest
from config.settings import Settings
from domain.callbacks import CallbackPolicy
from domain.job import JobInput, JobView
from domain.listing_entity import DelistRequest, ListingView, listing_workflow_id
from domain.marketplaces import JOB_TASK_QUEUE, Marketplace, marketplace_task_queue
from domain.messages import CancelRequest, FieldsAnswer, RetryRequest, SignedInput
from domain.sales import OrderLine, ReaderState
from domain.status import JobStatus
from tests.factories import job_input, order_line, start_job_body
from tests.support.callback_receiver import callback_receiver
from tests.temporal_binaries import start_dev_env
from tests.workflow.harness import has_status, running_workers, start_job, wait_for
from tests.workflow.stand_ins import Behaviour, StandInMarketplaces
from workflows.batch import BatchWorkflow
from workflows.etsy_tokens import EtsyTokenWorkflow, RefreshReport, TokenRequest, TokenState
from workflows.job import JobWorkflow
from workflows.listing import ListingWorkflow
from workflows.orders_reader import OrdersReaderWorkflow
from workflows.request_budget import BudgetState, LeaseRequest, RequestBudgetWorkflow

HERE = Path(__file__).parent


def _signed(webhook_id: str | None = None) -> SignedInput:
    return SignedInput(
        data={"payment_id": "pay_recorded"},
        signature="v1,recorded=",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        source="webhook" if webhook_id else "provide_input",
        webhook_id=webhook_id,
    )


async def job_completed(client: Client) -> WorkflowHandle:
    handle = await start_job(client, job_input())
    await handle.signal(JobWorkflow.provide_input, _signed())
    await handle.result()
    return handle


async def job_completed_with_callback(client: Client) -> WorkflowHandle:
    """Issue 16: a job with a callback URL; the receiver fails the first attempt (a backoff
    timer), then takes it."""
    with callback_receiver([500, 200]) as receiver:
        callback = CallbackPolicy(url=receiver.url, initial_interval=timedelta(seconds=1))
        handle = await start_job(client, job_input(callback=callback))
        await handle.signal(JobWorkflow.provide_input, _signed())
        await handle.result()
    return handle


async def job_webhook_redelivered(client: Client) -> WorkflowHandle:
    handle = await start_job(client, job_input())
    await handle.signal(JobWorkflow.provide_input, _signed("msg_1"))
    await handle.signal(JobWorkflow.provide_input, _signed("msg_1"))
    await handle.result()
    return handle


async def job_failed_then_retried(client: Client) -> WorkflowHandle:
    handle = await start_job(client, job_input())
    await handle.signal(JobWorkflow.provide_input, _signed())
    await wait_for(handle, has_status(JobStatus.FAILED))
    await handle.signal(JobWorkflow.retry, RetryRequest())
    await handle.result()
    return handle


async def job_payment_timeout(client: Client) -> WorkflowHandle:
    handle = await start_job(client, job_input(payment_timeout=timedelta(seconds=1), max_retries=0))
    await handle.result()
    return handle


async def job_cancelled_while_running(client: Client) -> WorkflowHandle:
    handle = await start_job(client, job_input())
    await handle.signal(JobWorkflow.provide_input, _signed())
    await wait_for(handle, lambda v: v.status is JobStatus.RUNNING)
    await asyncio.sleep(0.5)
    await handle.signal(JobWorkflow.cancel, CancelRequest(reason="recorded cancel"))
    await handle.result()
    return handle


async def job_awaiting_input_then_completed(client: Client) -> WorkflowHandle:
    """Issue 15: eBay needs the listing's size; the job asks (awaiting_input), takes it by the
    provide_fields Update, eBay runs again and the job completes."""
    handle = await start_job(client, job_input())
    await handle.signal(JobWorkflow.provide_input, _signed())
    asking = await wait_for(handle, has_status(JobStatus.AWAITING_INPUT))
    assert asking.input_request is not None
    answer = FieldsAnswer(
        status_id=asking.input_request.status_id,
        input_data={"size": "M"},
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    await handle.execute_update(JobWorkflow.provide_fields, answer)
    await handle.result()
    return handle


async def batch_continued_as_new(client: Client) -> WorkflowHandle:
    """A first run that ends in continue-as-new (low threshold), children released."""
    settings = Settings(batch_concurrency=3, batch_history_events_per_run=40)
    jobs = [StartJobRequest.model_validate(start_job_body(marketplaces=["ebay"])) for _ in range(8)]
    batches = build_services(client, settings).batches
    batch_id, _ = await batches.create(jobs, None)
    handle = client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
    first_run = (await handle.describe()).run_id
    await handle.signal(BatchWorkflow.provide_input, _signed())
    await handle.result()
    return client.get_workflow_handle(batch_id, run_id=first_run)


async def job_paid_by_update_of_many(client: Client) -> WorkflowHandle:
    """Issue 11: the gateway's path. Three different inputs race as Updates (one taken, two
    refused by the validator: no trace in history), then the taken one is re-sent (accepted as
    a duplicate)."""
    handle = await start_job(client, job_input())
    inputs = [_signed().model_copy(update={"data": {"payment_id": f"pay_{i}"}}) for i in range(3)]
    outcomes = await asyncio.gather(
        *(handle.execute_update(JobWorkflow.submit_input, i) for i in inputs),
        return_exceptions=True,
    )
    taken = next(i for i, o in zip(inputs, outcomes, strict=True) if not isinstance(o, Exception))
    await handle.execute_update(JobWorkflow.submit_input, taken)
    await handle.result()
    return handle


async def job_retried_and_cancelled_by_update(client: Client) -> WorkflowHandle:
    """Issue 11: admin retry and cancel as Updates (a failed job retried, failing again, then
    cancelled)."""
    handle = await start_job(client, job_input())
    await handle.execute_update(JobWorkflow.submit_input, _signed())
    await wait_for(handle, has_status(JobStatus.FAILED))
    await handle.execute_update(JobWorkflow.request_retry, RetryRequest())
    await wait_for(handle, lambda view: view.retry_count == 1 and view.status is JobStatus.FAILED)
    await handle.execute_update(JobWorkflow.request_cancel, CancelRequest(reason="recorded"))
    await handle.result()
    return handle


async def batch_paid_by_update(client: Client) -> WorkflowHandle:
    """Issue 11: a batch paid by the ``submit_input`` Update, the same input re-sent."""
    jobs = [StartJobRequest.model_validate(start_job_body(marketplaces=["ebay"])) for _ in range(2)]
    batch_id, _ = await build_services(client, Settings()).batches.create(jobs, None)
    handle = client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
    await handle.execute_update(BatchWorkflow.submit_input, _signed())
    await handle.execute_update(BatchWorkflow.submit_input, _signed())
    await handle.result()
    return handle


async def listing_revised_withdrawn_and_delisted(client: Client) -> WorkflowHandle:
    """Issue 13: a listing entity through a create, a revise, an unchanged job, a job cancelled
    mid-revise, and a delist (the entity's own history is the one recorded)."""
    first = job_input()
    await _paid(client, first)
    for title in ("Revised title", "Revised title"):
        await _paid(client, _same_sku(first, title=title))
    await _paid(client, _same_sku(first, title="Cancelled"), cancel=True)
    entity = client.get_workflow_handle_for(
        ListingWorkflow.run, listing_workflow_id(first.listing.sku)
    )
    await entity.execute_update(ListingWorkflow.delist, DelistRequest())
    await wait_for_listing(entity, lambda view: view.status == "ended")
    return entity


async def _paid(client: Client, job: JobInput, *, cancel: bool = False) -> JobView:
    handle = await start_job(client, job)
    await handle.execute_update(JobWorkflow.submit_input, _signed())
    if cancel:
        await wait_for(handle, lambda v: v.status is JobStatus.RUNNING)
        await handle.execute_update(JobWorkflow.request_cancel, CancelRequest(reason="recorded"))
    return await handle.result()


def _same_sku(first: JobInput, **changes: object) -> JobInput:
    return job_input().model_copy(update={"listing": first.listing.model_copy(update=changes)})


async def wait_for_listing(
    entity: WorkflowHandle, predicate: Callable[[ListingView], bool]
) -> ListingView:
    for _ in range(400):
        view: ListingView = await entity.query(ListingWorkflow.view)
        if predicate(view):
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"listing condition not reached: {view}")


async def etsy_tokens_refresh_and_lease(client: Client) -> WorkflowHandle:
    """Issue 12: Etsy refused the configured access token on two workers at once. The first
    Update starts the shop's token workflow with the configured pair and gets the refresh
    lease; the second waits for it; the lease holder reports the new pair; both then use it.
    The run stays open (the workflow lives until continue-as-new): recorded as it stands."""
    cipher = TokenCipher(Settings())
    access, refresh = "12345678.recorded-access", "12345678.recorded-refresh"
    refused = TokenRequest(seed=cipher.pair(access, refresh), rejected_fp=fingerprint(access))
    workflow_id = "etsy-tokens-recorded"
    start = WithStartWorkflowOperation(
        EtsyTokenWorkflow.run,
        TokenState(shop_id="recorded"),
        id=workflow_id,
        task_queue=marketplace_task_queue(Marketplace.ETSY),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    lease = await client.execute_update_with_start_workflow(
        EtsyTokenWorkflow.access_token, refused, start_workflow_operation=start
    )
    assert lease.kind == "refresh" and lease.lease_id is not None
    handle = client.get_workflow_handle_for(EtsyTokenWorkflow.run, workflow_id)
    waiting = asyncio.create_task(handle.execute_update(EtsyTokenWorkflow.access_token, refused))
    await asyncio.sleep(0.5)  # the second caller is waiting on the lease
    renewed = cipher.pair(
        "12345678.recorded-access-2",
        "12345678.recorded-refresh-2",
        datetime(2026, 1, 1, 1, tzinfo=UTC) + timedelta(days=3650),
    )
    report = RefreshReport(lease_id=lease.lease_id, outcome="refreshed", pair=renewed)
    granted = await handle.execute_update(EtsyTokenWorkflow.complete_refresh, report)
    assert granted.kind == "use" and (await waiting).kind == "use"


async def request_budget_continued_as_new(client: Client) -> WorkflowHandle:
    """Issue 12: two processes lease eBay's request budget the way ``LeaseKeeper`` asks
    (update-with-start); the first run continues as new (low threshold) with their leases."""
    workflow_id = f"request-budget-recorded-{uuid.uuid4().hex[:8]}"
    first_run = None
    for worker_id in ("a", "b", "a", "b", "a", "b", "a"):
        start = WithStartWorkflowOperation(
            RequestBudgetWorkflow.run,
            BudgetState(marketplace=Marketplace.EBAY, events_per_run=20),
            id=workflow_id,
            task_queue=marketplace_task_queue(Marketplace.EBAY),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await client.execute_update_with_start_workflow(
            RequestBudgetWorkflow.lease,
            LeaseRequest(worker_id=worker_id, rate_per_second=5.0),
            start_workflow_operation=start,
        )
        first_run = first_run or (await client.get_workflow_handle(workflow_id).describe()).run_id
    handle = client.get_workflow_handle(workflow_id, run_id=first_run)
    # The Update that crossed the threshold was answered in the task that continued as new.
    assert (await handle.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    return handle


async def listing_sold_out_across_marketplaces(client: Client) -> WorkflowHandle:
    """Issue 14: quantity 3; a sale on eBay (reported twice: counted once) brings every live
    marketplace to 2; then two last units sell at once on Etsy and Vinted (oversold 1) and the
    listing ends everywhere (the entity's own history is the one recorded)."""
    job = job_input()
    job = job.model_copy(update={"listing": job.listing.model_copy(update={"quantity": 3})})
    await _paid(client, job)
    entity = client.get_workflow_handle_for(
        ListingWorkflow.run, listing_workflow_id(job.listing.sku)
    )
    sale = _sale(job, Marketplace.EBAY, "e1")
    await entity.signal(ListingWorkflow.order, sale)
    await entity.signal(ListingWorkflow.order, sale)
    await wait_for_listing(entity, lambda view: view.marketplaces[Marketplace.ETSY].quantity == 2)
    await entity.signal(ListingWorkflow.order, _sale(job, Marketplace.ETSY, "t1", quantity=2))
    await entity.signal(ListingWorkflow.order, _sale(job, Marketplace.VINTED, "v1"))
    await wait_for_listing(entity, lambda view: view.status == "ended" and view.sold == 4)
    return entity


def _sale(job: JobInput, marketplace: Marketplace, order: str, quantity: int = 1) -> OrderLine:
    return order_line(
        job.listing.sku, marketplace, order, quantity, datetime(2026, 1, 1, tzinfo=UTC)
    )


async def orders_reader_reading(client: Client) -> WorkflowHandle:
    """Issue 14: an eBay orders reader's round: a read with a line for a listing of ours and one
    for a SKU we never published (its signal fails: ignored), then the timer to the next read;
    recorded as it stands (the run lives until continue-as-new)."""
    job = job_input()
    await _paid(client, job)
    handle = await client.start_workflow(
        OrdersReaderWorkflow.run,
        ReaderState(marketplace=Marketplace.EBAY, interval_seconds=0.2),
        id=f"orders-recorded-{uuid.uuid4().hex[:8]}",
        task_queue=JOB_TASK_QUEUE,
    )
    ours = _sale(job, Marketplace.EBAY, "e1")
    _ORDERS[Marketplace.EBAY] = [ours, ours.model_copy(update={"sku": "NOTOURS1"})]
    for _ in range(100):
        state = await handle.query(OrdersReaderWorkflow.state)
        if state.unknown_skus and state.lines_seen >= 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    await handle.terminate("recorded")
    return handle


_ORDERS: dict[Marketplace, list[OrderLine]] = defaultdict(list)
"""What the stand-in orders reads return next (``orders_reader_reading`` fills it)."""


SCENARIOS: dict[
    str, tuple[Callable[[Client], Awaitable[WorkflowHandle]], dict[Marketplace, Behaviour]]
] = {
    "job_completed": (job_completed, {}),
    "job_webhook_redelivered": (job_webhook_redelivered, {}),
    "job_failed_then_retried": (
        job_failed_then_retried,
        {
            Marketplace.ETSY: Behaviour(
                fail_times=1, error_type="MarketplaceValidationError", non_retryable=True
            )
        },
    ),
    "job_payment_timeout": (job_payment_timeout, {}),
    "job_cancelled_while_running": (
        job_cancelled_while_running,
        {Marketplace.VINTED: Behaviour(block_until_cancelled=True)},
    ),
    "batch_continued_as_new": (batch_continued_as_new, {}),
    "job_paid_by_update_of_many": (job_paid_by_update_of_many, {}),
    "job_retried_and_cancelled_by_update": (
        job_retried_and_cancelled_by_update,
        {
            Marketplace.ETSY: Behaviour(
                fail_times=2, error_type="MarketplaceValidationError", non_retryable=True
            )
        },
    ),
    "batch_paid_by_update": (batch_paid_by_update, {}),
    # Issue 13: jobs through their listing entity (the files above are the pre-entity shapes,
    # kept: they replay the legacy path). With issue 16's search attribute upserts: both under
    # the one patch id JOB_V2 (workflows/patches.py); neither shape ran before the other.
    "job_completed_through_listing": (job_completed, {}),
    "job_failed_then_retried_through_listing": (
        job_failed_then_retried,
        {
            Marketplace.ETSY: Behaviour(
                fail_times=1, error_type="MarketplaceValidationError", non_retryable=True
            )
        },
    ),
    "job_cancelled_while_running_through_listing": (
        job_cancelled_while_running,
        {Marketplace.VINTED: Behaviour(create_then_block=True)},
    ),
    # Issue 16: completion callbacks (workflow.patched("completion-callbacks")).
    "job_completed_with_callback": (job_completed_with_callback, {}),
    "listing_revised_withdrawn_and_delisted": (
        listing_revised_withdrawn_and_delisted,
        {Marketplace.EBAY: Behaviour(delay=1.5)},
    ),
    "etsy_tokens_refresh_and_lease": (etsy_tokens_refresh_and_lease, {}),
    "request_budget_continued_as_new": (request_budget_continued_as_new, {}),
    # Issue 14: sales on the entity, and an orders reader.
    "listing_sold_out_across_marketplaces": (listing_sold_out_across_marketplaces, {}),
    "orders_reader_reading": (orders_reader_reading, {}),
    # Issue 15: a job asks for a field a marketplace needs (workflow.patched("awaiting-input")).
    "job_awaiting_input_then_completed": (
        job_awaiting_input_then_completed,
        {Marketplace.EBAY: Behaviour(require_size=True)},
    ),
}


async def record(names: list[str] | None = None) -> list[Path]:
    env = await start_dev_env()
    written = []
    try:
        for name, (scenario, behaviours) in SCENARIOS.items():
            if names and name not in names:
                continue
            stand_ins = StandInMarketplaces(behaviours=dict(behaviours), orders=_ORDERS)
            async with running_workers(env.client, stand_ins):
                handle = await scenario(env.client)
                history = await handle.fetch_history()
            path = HERE / f"{name}.json"
            document = {"workflow_id": handle.id, "history": json.loads(history.to_json())}
            path.write_text(json.dumps(document, indent=1) + "\n")
            written.append(path)
            print(f"recorded {path.name}: {len(history.events)} events")
    finally:
        await env.shutdown()
    return written


if __name__ == "__main__":
    import os
    import sys

    asyncio.run(record(sys.argv[1:] or None))
    os._exit(0)  # temporalio/sdk-python#300: skip interpreter finalisation
