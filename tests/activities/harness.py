"""Run a publish activity the way a Temporal worker would, attempt after attempt."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from domain.listing import Listing
from domain.marketplaces import Marketplace, idempotency_key, publish_activity_name
from domain.messages import (
    MarketplaceRef,
    PublishRequest,
    WithdrawRequest,
)
from tests.factories import listing_body


def publish_request(
    marketplace: Marketplace, *, recover: bool = False, **listing: Any
) -> PublishRequest:
    """A create of a new job's listing (``recover``: as an admin retry of that job would)."""
    job_id = str(uuid.uuid4())
    return PublishRequest(
        job_id=job_id,
        marketplace=marketplace,
        idempotency_key=idempotency_key(job_id, marketplace),
        listing=Listing.model_validate(listing_body(**listing)),
        recover=recover,
    )


def revise_request(
    created: PublishRequest,
    current: MarketplaceRef,
    *,
    images_changed: bool = False,
    **listing: Any,
) -> PublishRequest:
    """Another job's change to the listing ``created`` made: the same SKU, new content
    (``listing`` overrides ``listing_body``'s defaults), applied to ``current``."""
    job_id = str(uuid.uuid4())
    marketplace = created.marketplace
    body = listing_body(**{"sku": created.listing.sku, **listing})
    return PublishRequest(
        job_id=job_id,
        marketplace=marketplace,
        idempotency_key=idempotency_key(job_id, marketplace),
        listing=Listing.model_validate(body),
        current=current,
        images_changed=images_changed,
    )


def withdraw_request(
    created: PublishRequest, current: MarketplaceRef | None = None
) -> WithdrawRequest:
    """End what the job of ``created`` made: ``current`` when known, else its lost create."""
    return WithdrawRequest(
        job_id=created.job_id,
        marketplace=created.marketplace,
        idempotency_key=created.idempotency_key,
        sku=created.listing.sku,
        current=current,
        reason="job cancelled",
    )


class Attempts:
    """Successive attempts of one activity: attempt ``n + 1`` sees the last heartbeat details
    of the attempts before it, as the Temporal server hands them over."""

    def __init__(
        self,
        activity_fn: Callable[[Any], Any],
        marketplace: Marketplace,
        *,
        start_to_close: timedelta = timedelta(seconds=20),
    ) -> None:
        self.activity_fn = activity_fn
        self.marketplace = marketplace
        self.start_to_close = start_to_close
        self.attempt = 0
        self.heartbeats: list[Any] = []
        self.last_details: tuple[Any, ...] = ()

    async def run(self, request: Any) -> Any:
        """One attempt (of a publish or a withdraw); raises what the activity raises."""
        self.attempt += 1
        env = ActivityEnvironment()
        env.info = dataclasses.replace(
            env.info,
            activity_type=publish_activity_name(self.marketplace),
            attempt=self.attempt,
            heartbeat_details=list(self.last_details),
            heartbeat_timeout=timedelta(seconds=30),
            start_to_close_timeout=self.start_to_close,
            task_queue=f"marketplace-{self.marketplace.value}",
        )
        env.on_heartbeat = self._record
        return await env.run(self.activity_fn, request)

    async def run_until_done(self, request: Any, max_attempts: int = 5) -> Any:
        """Retry retryable errors like the workflow's retry policy would (without the waits)."""
        while True:
            try:
                return await self.run(request)
            except ApplicationError as err:
                if err.non_retryable or self.attempt >= max_attempts:
                    raise

    def _record(self, *details: Any) -> None:
        self.heartbeats.append(details)
        if details:
            self.last_details = details
