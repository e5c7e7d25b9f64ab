"""How a job published before listing entities existed: its own activities, one per marketplace.

Kept only so that histories recorded before issue 13 replay (``JobWorkflow`` takes this path
where its history has no ``listing-entity`` patch marker). New rounds go through the SKU's
``ListingWorkflow``. Delete once no execution started before that release is open (and its
recorded histories with it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.job import Job, JobError, PublishRetry
    from domain.marketplace_errors import attempts_of, job_error
    from domain.marketplaces import (
        Marketplace,
        idempotency_key,
        marketplace_task_queue,
        publish_activity_name,
    )
    from domain.messages import PublishRequest, PublishResult
    from domain.status import MarketplaceStatus

PUBLISH_START_TO_CLOSE = timedelta(minutes=2)
PUBLISH_SCHEDULE_TO_CLOSE = timedelta(minutes=30)


async def publish_round(
    job: Job,
    marketplaces: list[Marketplace],
    cancelled: Callable[[], bool],
    save_memo: Callable[[], None],
) -> None:
    """Publish to every marketplace concurrently; a cancel stops the round."""
    tasks = [asyncio.create_task(_publish_one(job, m, cancelled, save_memo)) for m in marketplaces]
    await workflow.wait_condition(lambda: all(task.done() for task in tasks) or cancelled())
    if cancelled():
        for task in tasks:
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _publish_one(
    job: Job,
    marketplace: Marketplace,
    cancelled: Callable[[], bool],
    save_memo: Callable[[], None],
) -> None:
    job_id = job.input.job_id
    state = job.move_marketplace(marketplace, MarketplaceStatus.RUNNING, workflow.now())
    save_memo()
    try:
        result = await workflow.execute_activity(
            publish_activity_name(marketplace),
            PublishRequest(
                job_id=job_id,
                marketplace=marketplace,
                idempotency_key=idempotency_key(job_id, marketplace),
                listing=job.input.listing,
                recover=job.retry_count > 0,
            ),
            result_type=PublishResult,
            task_queue=marketplace_task_queue(marketplace),
            start_to_close_timeout=PUBLISH_START_TO_CLOSE,
            schedule_to_close_timeout=PUBLISH_SCHEDULE_TO_CLOSE,
            heartbeat_timeout=job.input.publish_heartbeat_timeout,
            retry_policy=job.input.publish_retry.get(marketplace, PublishRetry()).policy(),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=f"publish {job.input.listing.sku} to {marketplace.value}",
        )
    except ActivityError as err:
        state.attempts += attempts_of(err)
        state.error = (
            JobError(code="cancelled", message="job cancelled while publishing")
            if cancelled()
            else job_error(err)
        )
        job.move_marketplace(
            marketplace,
            MarketplaceStatus.FAILED,
            workflow.now(),
            {"code": state.error.code, "message": state.error.message},
        )
        save_memo()
        return
    except asyncio.CancelledError:
        state.error = JobError(code="cancelled", message="job cancelled before publishing")
        job.move_marketplace(
            marketplace, MarketplaceStatus.FAILED, workflow.now(), {"code": "cancelled"}
        )
        save_memo()
        return
    state.attempts += result.attempt
    state.listing_id = result.listing_id
    state.listing_url = result.listing_url
    state.error = None
    job.move_marketplace(
        marketplace,
        MarketplaceStatus.COMPLETED,
        workflow.now(),
        {"listing_id": result.listing_id, "attempts": result.attempt},
    )
    save_memo()
