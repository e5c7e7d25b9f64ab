"""Inputs and outputs of workflow signals and activities: one model per handler."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.canonical import fingerprint
from domain.listing import Listing
from domain.marketplaces import Marketplace
from domain.missing_fields import ListingExtras
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


INVALID_INPUT = "InvalidInput"
"""ApplicationError type of a ``provide_fields`` Update whose values do not fit the question:
the gateway answers 422 naming each field (details: ``[{"field", "message"}]``)."""


class InputReceipt(BaseModel):
    """Result of the ``submit_input`` Update: taken now, or a re-send of the input taken."""

    model_config = ConfigDict(extra="forbid")

    duplicate: bool = False


class FieldsAnswer(BaseModel):
    """The ``provide_fields`` Update: MIP-003's ``POST /provide_input {job_id, status_id,
    input_data}``, the fields a job asks for while ``awaiting_input`` (issue 15)."""

    model_config = ConfigDict(extra="forbid")

    status_id: str
    input_data: dict[str, Any]
    received_at: UtcDatetime

    def fingerprint(self) -> str:
        """The same answer re-sent (same question, same values) is answered alike."""
        return fingerprint({"status_id": self.status_id, "input_data": self.input_data})


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = "cancelled by caller"


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = "retried by admin"


class MarketplaceRef(BaseModel):
    """What the listing entity knows of its live listing on one marketplace (issue 13): the
    ids the adapters use instead of looking the SKU up."""

    model_config = ConfigDict(extra="forbid")

    listing_id: str
    """eBay ``listingId``, Etsy ``listing_id``, Vinted ``item_id`` (a UUID string)."""
    listing_url: str | None = None
    offer_id: str | None = None
    """eBay's ``offerId`` (the offer behind the listing); None elsewhere."""


class PublishRequest(BaseModel):
    """Input of every ``publish_to_<marketplace>`` activity.

    ``current`` None: create the listing (a lookup by SKU / reference only as the recovery of
    an earlier attempt whose answer was lost, or on a retry). ``current`` set: revise that live
    listing with ``listing``'s content, by its ids, no lookup (eBay createOrReplaceInventoryItem
    + updateOffer; Etsy updateListing + updateListingInventory, images replaced only when
    ``images_changed``; Vinted's item update). Old histories send neither field.
    """

    model_config = ConfigDict(extra="forbid")

    job_id: str
    marketplace: Marketplace
    idempotency_key: str
    listing: Listing
    current: MarketplaceRef | None = None
    images_changed: bool = True
    recover: bool = False
    """True when an earlier execution with this ``idempotency_key`` may have written (an admin
    retry of a failed marketplace): a create looks its listing up even on attempt 1. Attempts
    after the first (or with heartbeat details) always do; a fresh create never pages."""
    extras: ListingExtras = Field(default_factory=ListingExtras)
    """What the job was given beyond the listing (eBay item specifics, Vinted's package size)
    after a ``MissingListingFields`` failure (``awaiting_input``, issue 15)."""


class PublishResult(BaseModel):
    """Output of every ``publish_to_<marketplace>`` activity."""

    model_config = ConfigDict(extra="forbid")

    marketplace: Marketplace
    listing_id: str
    listing_url: str | None = None
    attempt: int = 1
    reused_existing: bool = False
    action: Literal["created", "revised"] = "created"
    offer_id: str | None = None
    """eBay's ``offerId``, kept by the entity for later revises and withdraws."""

    def ref(self) -> MarketplaceRef:
        return MarketplaceRef(
            listing_id=self.listing_id, listing_url=self.listing_url, offer_id=self.offer_id
        )


class WithdrawRequest(BaseModel):
    """Input of every ``withdraw_from_<marketplace>`` activity: end the listing (eBay
    ``withdrawOffer``, Etsy deactivation (``state: inactive``; a draft is deleted), Vinted
    item delete). ``current`` None: the listing a create of this job's ``idempotency_key``
    may have made, whose answer was lost; found by the recovery lookup (eBay offers by SKU,
    Etsy the draft marker, Vinted ``item_reference``). Idempotent: nothing live, nothing to do.
    """

    model_config = ConfigDict(extra="forbid")

    job_id: str
    marketplace: Marketplace
    idempotency_key: str
    sku: str
    current: MarketplaceRef | None = None
    reason: str = "withdrawn"


class WithdrawResult(BaseModel):
    """Output of every ``withdraw_from_<marketplace>`` activity."""

    model_config = ConfigDict(extra="forbid")

    marketplace: Marketplace
    withdrawn: bool
    """True when a live (or draft) listing was ended now; False when there was none."""
    listing_id: str | None = None
