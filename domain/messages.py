"""Inputs and outputs of workflow signals and activities: one model per handler."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.listing import Listing
from domain.marketplaces import Marketplace
from domain.timestamps import UtcDatetime


class SignedInput(BaseModel):
    """The ``provide_input`` signal: the payment confirmation and the signature that proved it.

    The signature is kept in history as evidence; it is not a secret (only keys are).
    """

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]
    signature: str
    received_at: UtcDatetime
    source: str = "provide_input"
    webhook_id: str | None = None
    """Standard Webhooks delivery id: a repeated delivery is acknowledged, not applied twice."""
    webhook_timestamp: str | None = None
    raw_body: str | None = None
    """The exact signed body of a webhook, so the evidence can be verified again later."""


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = "cancelled by caller"


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = "retried by admin"


class PublishRequest(BaseModel):
    """Input of every ``publish_to_<marketplace>`` activity."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    marketplace: Marketplace
    idempotency_key: str
    listing: Listing


class PublishResult(BaseModel):
    """Output of every ``publish_to_<marketplace>`` activity."""

    model_config = ConfigDict(extra="forbid")

    marketplace: Marketplace
    listing_id: str
    listing_url: str | None = None
    attempt: int = 1
    reused_existing: bool = False
