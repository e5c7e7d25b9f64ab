"""The job's hand-off to its SKU's listing entity: signal-with-start (issue 13).

A workflow can signal a workflow that exists but cannot start one it does not own, and the
entity of a new SKU does not exist yet; so the job runs this as a local activity. A retried
attempt may deliver the change twice: the entity drops a change id it has seen.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client

from config.tracing import current_trace_carrier
from domain.job_search import listing_search_attributes
from domain.listing_entity import (
    APPLY_SIGNAL,
    HAND_CHANGE_ACTIVITY,
    LISTING_WORKFLOW,
    Change,
    ListingState,
    listing_workflow_id,
)
from domain.marketplaces import JOB_TASK_QUEUE


class ListingHandOff:
    """Registered on the ``jobs`` worker, which has the client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name=HAND_CHANGE_ACTIVITY)
    async def hand_change_to_listing(self, change: Change) -> None:
        """Signal-with-start ``ListingWorkflow`` ``listing-<sku>`` with ``apply(change)``, the
        change carrying this job's trace context (when tracing is on)."""
        sku = change.listing.sku
        if (carrier := current_trace_carrier()) is not None:
            change = change.model_copy(update={"trace": carrier})
        await self._client.start_workflow(
            LISTING_WORKFLOW,
            ListingState(sku=sku),
            id=listing_workflow_id(sku),
            task_queue=JOB_TASK_QUEUE,
            start_signal=APPLY_SIGNAL,
            start_signal_args=[change],
            # Findable as pending from the start (issue 16); ignored when it already runs.
            search_attributes=listing_search_attributes(
                status="pending", placements={}, sold_out=False
            ),
        )
