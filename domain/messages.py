"""Inputs and outputs of workflow signals and activities: one model per handler."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.canonical import fingerprint
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

    def fingerprint(self) -> str:
        """What "the very same input" means (CONTRACT.md, provide_input): same data, same
        signature. A caller cut off mid-request re-sends it and gets the first answer."""
        return fingerprint({"data": self.data, "signature": self.signature})

    def same_as(self, other: SignedInput) -> bool:
        """A re-send of ``other``: the same webhook delivery, or the same data and signature."""
        if self.webhook_id is not None or other.webhook_id is not None:
            return self.webhook_id == other.webhook_id
        return self.fingerprint() == other.fingerprint()


REFUSED = "Refused"
"""ApplicationError type of an Update a workflow's validator refuses: the gateway answers 409
with its message (the state did not allow it; nothing changed)."""


class InputReceipt(BaseModel):
    """Result of the ``submit_input`` Update: taken now, or a re-send of the input taken."""

    model_config = ConfigDict(extra="forbid")

    duplicate: bool = False


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
