"""A job's search attributes follow its status with one upsert per status transition, and
none per marketplace (issue 16; the lead's event budget, issue 13). On the time-skipping
server, where the attributes are registered through the operator service (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.services.jobs import start_job_workflow
from api.services.temporal import Executions
from config.settings import Settings
from domain.job_search import (
    JOB_CREATED_AT,
    JOB_MARKETPLACES,
    JOB_SKU,
    JOB_STATUS,
    LISTING_PLACEMENTS,
    LISTING_SOLD_OUT,
    LISTING_STATUS,
)
from domain.listing_entity import listing_workflow_id
from domain.marketplaces import Marketplace
from domain.messages import RetryRequest, SignedInput
from domain.status import JobStatus
from tests.factories import job_input
from tests.workflow.harness import has_status, running_workers, wait_for
from tests.workflow.stand_ins import Behaviour, StandInMarketplaces
from workflows.job import JobWorkflow
from workflows.patches import JOB_V2


def _signed() -> SignedInput:
    return SignedInput(data={"p": 1}, signature="v1,abc=", received_at=datetime.now(UTC))


async def _upserts(handle: WorkflowHandle) -> list[list[str]]:
    """The keys of each search attribute upsert the workflow code made, in order. Left out:
    the SDK's own ``TemporalChangeVersion`` upsert that comes with the first
    ``workflow.patched`` of each patch id (sdk-core's patch state machine)."""
    history = await handle.fetch_history()
    upserts = [
        sorted(
            e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        )
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    return [keys for keys in upserts if keys != ["TemporalChangeVersion"]]


async def test_one_upsert_per_status_transition_set_at_start_by_the_gateway(
    time_env: WorkflowEnvironment,
):
    """Started as the gateway starts it (all four attributes set), a job that fails on Etsy,
    is retried and completes upserts exactly at running, failed, running, completed: each
    time the status, at failed (and after it) the marketplaces too."""
    stand_ins = StandInMarketplaces(
        behaviours={
            Marketplace.ETSY: Behaviour(
                fail_times=1, error_type="MarketplaceValidationError", non_retryable=True
            )
        }
    )
    job = job_input(now=await time_env.get_current_time())
    executions = Executions(time_env.client, Settings())
    async with running_workers(time_env.client, stand_ins):
        assert await start_job_workflow(executions, job, "search attributes")
        handle = time_env.client.get_workflow_handle_for(JobWorkflow.run, job.job_id)
        started = (await handle.describe()).typed_search_attributes
        assert started.get(JOB_STATUS) == "awaiting_payment"
        assert started.get(JOB_SKU) == job.listing.sku
        assert list(started.get(JOB_MARKETPLACES) or []) == ["ebay", "etsy", "vinted"]
        assert started.get(JOB_CREATED_AT) is not None

        await handle.signal(JobWorkflow.provide_input, _signed())
        await wait_for(handle, has_status(JobStatus.FAILED))
        failed = (await handle.describe()).typed_search_attributes
        assert failed.get(JOB_STATUS) == "failed"
        assert list(failed.get(JOB_MARKETPLACES) or []) == [
            "ebay", "etsy", "vinted", "etsy:failed"
        ]  # fmt: skip
        await handle.signal(JobWorkflow.retry, RetryRequest())
        await handle.result()

    done = (await handle.describe()).typed_search_attributes
    assert done.get(JOB_STATUS) == "completed"
    assert list(done.get(JOB_MARKETPLACES) or []) == ["ebay", "etsy", "vinted"]
    assert await _upserts(handle) == [
        ["JobStatus"],
        ["JobMarketplaces", "JobStatus"],
        ["JobMarketplaces", "JobStatus"],
        ["JobStatus"],
    ]
    history = await handle.fetch_history()
    markers = [
        e.marker_recorded_event_attributes.SerializeToString()
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    assert sum(JOB_V2.encode() in marker for marker in markers) == 1


async def test_a_job_started_without_them_gets_all_at_its_first_transition(
    time_env: WorkflowEnvironment,
):
    """A job started directly on Temporal (or before issue 16) gets all four in one upsert at
    its first workflow task, then one per status transition."""
    from tests.workflow.harness import start_job

    async with running_workers(time_env.client, StandInMarketplaces()):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, _signed())
        await handle.result()

    assert await _upserts(handle) == [
        ["JobCreatedAt", "JobMarketplaces", "JobSku", "JobStatus"],  # its first workflow task
        ["JobStatus"],
        ["JobStatus"],
    ]


async def test_the_listing_entity_upserts_its_status_and_placements(
    time_env: WorkflowEnvironment,
):
    """Set at start by the hand-off (pending), upserted once the change is applied."""
    from tests.workflow.harness import start_job

    job = job_input(now=await time_env.get_current_time(), marketplaces=[Marketplace.EBAY])
    async with running_workers(time_env.client, StandInMarketplaces()):
        handle = await start_job(time_env.client, job)
        await handle.signal(JobWorkflow.provide_input, _signed())
        await handle.result()
        entity = time_env.client.get_workflow_handle(listing_workflow_id(job.listing.sku))
        # The entity tells the job first, then saves its memo and attributes.
        for _ in range(100):
            attributes = (await entity.describe()).typed_search_attributes
            if attributes.get(LISTING_STATUS) == "live":
                break
            await asyncio.sleep(0.05)

    assert attributes.get(LISTING_STATUS) == "live"
    assert list(attributes.get(LISTING_PLACEMENTS) or []) == ["ebay:live"]
    assert attributes.get(LISTING_SOLD_OUT) is False
