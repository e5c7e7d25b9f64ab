"""OrdersReaderWorkflow: one durable reader of a marketplace's orders (issue 14).

A loop: read the orders modified since the cursor (``read_orders_<marketplace>``, on the
marketplace's rate-limited queue), signal each order line to its SKU's listing entity, keep
the new cursor, sleep ``interval``; continue as new every ``ROUNDS_PER_RUN`` reads with the
cursor. A long-lived workflow rather than a Temporal Schedule: the cursor is the reader's
state, carried across rounds and runs in the workflow itself, and a read that is slow or
retried delays the next one instead of overlapping it (a Schedule's runs would have to keep
the cursor somewhere else and guard against overlap). One per marketplace (workflow id
``orders-<marketplace>``), started by each worker process with USE_EXISTING.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from domain.listing_entity import listing_workflow_id
    from domain.marketplaces import (
        Marketplace,
        marketplace_task_queue,
        read_orders_activity_name,
    )
    from domain.sales import ORDER_SIGNAL, OrderLine, OrdersPage, ReaderState, ReadOrdersRequest

ORDERS_READER = "OrdersReaderWorkflow"
ROUNDS_PER_RUN = 200
READ_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
"""Reads are retried without end: a marketplace outage delays sales, it never loses them (the
cursor only moves once a page was read and every line signalled)."""


def orders_reader_id(marketplace: Marketplace) -> str:
    return f"orders-{marketplace.value}"


@workflow.defn(name=ORDERS_READER)
class OrdersReaderWorkflow:
    @workflow.init
    def __init__(self, state: ReaderState) -> None:
        self._s = state

    @workflow.run
    async def run(self, state: ReaderState) -> None:
        s = self._s
        for _ in range(ROUNDS_PER_RUN):
            page: OrdersPage = await workflow.execute_activity(
                read_orders_activity_name(s.marketplace),
                ReadOrdersRequest(marketplace=s.marketplace, cursor=s.cursor),
                result_type=OrdersPage,
                task_queue=marketplace_task_queue(s.marketplace),
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=READ_RETRY,
                summary=f"read {s.marketplace.value} orders",
            )
            # Every line's signal at once (one workflow task, not one per line: 50 sales in a
            # page were 50 round trips, seconds of delay at 50 sales/s in make bench).
            await asyncio.gather(*(self._signal(line) for line in page.lines))
            s.lines_seen += len(page.lines)
            s.cursor = page.next_cursor
            await workflow.sleep(timedelta(seconds=s.interval_seconds))
        workflow.continue_as_new(s)

    async def _signal(self, line: OrderLine) -> None:
        entity = workflow.get_external_workflow_handle(listing_workflow_id(line.sku))
        try:
            await entity.signal(ORDER_SIGNAL, line)
        except FailureError:  # a SKU never published through us: not ours
            self._s.unknown_skus += 1
            workflow.logger.info("order %s for unknown sku %s ignored", line.key, line.sku)

    @workflow.query
    def state(self) -> ReaderState:
        return self._s
