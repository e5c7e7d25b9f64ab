"""From a validated start-job request to the JobWorkflow input: one place for both single
jobs and batch children (hash, payment reference, deadlines, retry policy)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from api.schemas import StartJobRequest
from config.settings import Settings
from domain.canonical import fingerprint, input_hash
from domain.job import JobInput, PublishRetry
from domain.marketplaces import ALL_MARKETPLACES


def request_fingerprint(request: StartJobRequest) -> str:
    """What "the same body" means for Idempotency-Key (the caller's fields, canonical JSON)."""
    return fingerprint(request_json(request))


def request_json(request: StartJobRequest) -> dict[str, Any]:
    return {
        "input_data": request.input_data.model_dump(mode="json", exclude_unset=True),
        "identifier_from_purchaser": request.identifier_from_purchaser,
        "marketplaces": request.marketplaces,
    }


def build_job_input(
    request: StartJobRequest,
    settings: Settings,
    *,
    job_id: str,
    now: datetime,
    batch_id: str | None = None,
    batch_index: int | None = None,
) -> JobInput:
    listing_json = request.input_data.model_dump(mode="json", exclude_unset=True)
    identifier = request.identifier_from_purchaser or f"mj-{uuid.uuid4().hex[:16]}"
    marketplaces = list(request.marketplaces or ALL_MARKETPLACES)
    return JobInput(
        job_id=job_id,
        listing=request.input_data,
        marketplaces=marketplaces,
        identifier_from_purchaser=identifier,
        input_hash=input_hash(identifier, listing_json),
        blockchain_identifier=f"pay_{uuid.uuid4().hex}",
        created_at=now,
        pay_by_time=now + settings.payment_timeout,
        max_retries=settings.job_max_retries,
        retry_window=settings.retry_window,
        request_fingerprint=request_fingerprint(request),
        publish_heartbeat_timeout=settings.publish_heartbeat_timeout,
        batch_id=batch_id,
        batch_index=batch_index,
        publish_retry={
            m: PublishRetry(
                initial_interval=settings.publish_retry_initial_interval,
                maximum_interval=settings.publish_retry_maximum_interval,
                maximum_attempts=settings.max_attempts(m),
            )
            for m in marketplaces
        },
    )
