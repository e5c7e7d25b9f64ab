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
from domain.messages import PublishRequest, PublishResult
from tests.factories import listing_body


def publish_request(marketplace: Marketplace, **listing: Any) -> PublishRequest:
    job_id = str(uuid.uuid4())
    return PublishRequest(
        job_id=job_id,
        marketplace=marketplace,
        idempotency_key=idempotency_key(job_id, marketplace),
        listing=Listing.model_validate(listing_body(**listing)),
    )


class Attempts:
    """Successive attempts of one activity: attempt ``n + 1`` sees the last heartbeat details
    of the attempts before it, as the Temporal server hands them over."""

    def __init__(
        self,
        activity_fn: Callable[[PublishRequest], Any],
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

    async def run(self, request: PublishRequest) -> PublishResult:
        """One attempt; raises what the activity raises."""
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
        result: PublishResult = await env.run(self.activity_fn, request)
        return result

    async def run_until_done(self, request: PublishRequest, max_attempts: int = 5) -> PublishResult:
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
