"""A job's state, events and view; every change goes through the status machine."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import RetryPolicy, TypedSearchAttributes

from domain.callbacks import CallbackDelivery, CallbackPolicy, CallbackView, callback_view
from domain.job_search import job_search_attributes
from domain.listing import Listing
from domain.marketplaces import Marketplace
from domain.missing_fields import (
    InputRequest,
    InputRequestView,
    ListingExtras,
    MissingField,
    merge,
)
from domain.status import (
    Action,
    JobStatus,
    MarketplaceStatus,
    check_job_transition,
    check_marketplace_transition,
)
from domain.timestamps import UtcDatetime


class JobError(BaseModel):
    """Why a job or one marketplace failed. ``code`` is stable; ``message`` is for people."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    retryable: bool = False


class MarketplaceState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: MarketplaceStatus = MarketplaceStatus.PENDING
    attempts: int = 0
    listing_id: str | None = None
    listing_url: str | None = None
    error: JobError | None = None
    action: Action | None = None
    """created, revised, unchanged or withdrawn (issue 13); None until the listing answered."""


class MarketplaceListing(BaseModel):
    """The published listing on one marketplace."""

    model_config = ConfigDict(extra="forbid")

    listing_id: str
    listing_url: str | None = None


class JobEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int
    at: UtcDatetime
    type: str
    detail: dict[str, Any] = Field(default_factory=dict)


class PublishRetry(BaseModel):
    """How one marketplace's publish activity is retried (becomes a Temporal RetryPolicy)."""

    model_config = ConfigDict(extra="forbid")

    initial_interval: timedelta = timedelta(seconds=1)
    backoff_coefficient: float = 2.0
    maximum_interval: timedelta = timedelta(seconds=60)
    maximum_attempts: int = 6

    def policy(self) -> RetryPolicy:
        """The Temporal retry policy; 4xx validation and auth errors are never retried (the
        activities also raise them as non-retryable)."""
        from domain.marketplace_errors import NON_RETRYABLE_ERROR_TYPES

        return RetryPolicy(
            initial_interval=self.initial_interval,
            backoff_coefficient=self.backoff_coefficient,
            maximum_interval=self.maximum_interval,
            maximum_attempts=self.maximum_attempts,
            non_retryable_error_types=list(NON_RETRYABLE_ERROR_TYPES),
        )


class JobInput(BaseModel):
    """What the gateway starts ``JobWorkflow`` with. Add fields with defaults only."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    listing: Listing
    marketplaces: list[Marketplace]
    identifier_from_purchaser: str
    input_hash: str
    blockchain_identifier: str
    created_at: UtcDatetime
    pay_by_time: UtcDatetime
    max_retries: int = 3
    retry_window: timedelta = timedelta(days=7)
    request_fingerprint: str | None = None
    publish_heartbeat_timeout: timedelta = timedelta(seconds=30)
    """How soon a publish attempt whose worker died is retried (it stops heartbeating)."""
    batch_id: str | None = None
    """Set for a batch child: it waits for its batch's release instead of its own payment."""
    batch_index: int | None = None
    publish_retry: dict[Marketplace, PublishRetry] = Field(default_factory=dict)
    """Per marketplace, from the gateway's settings; absent entries use the defaults."""
    callback: CallbackPolicy | None = None
    """Where completed, failed and cancelled are POSTed (``callback_url``, issue 16)."""
    input_timeout: timedelta = timedelta(hours=24)
    """How long the job waits in ``awaiting_input`` (INPUT_TIMEOUT) before ``input_timeout``."""


class JobView(BaseModel):
    """What ``GET /status/{job_id}`` returns (CONTRACT.md, "The job view")."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    status: JobStatus
    sku: str | None = Field(
        default=None, description="The SKU of the listing the job publishes (its entity's id)."
    )
    input_hash: str
    blockchain_identifier: str
    identifier_from_purchaser: str
    pay_by_time: UtcDatetime
    created_at: UtcDatetime
    updated_at: UtcDatetime
    marketplaces: dict[Marketplace, MarketplaceState]
    result: dict[Marketplace, MarketplaceListing] | None = None
    error: JobError | None = None
    retry_count: int = 0
    max_retries: int = 3
    callback: CallbackView | None = Field(
        default=None,
        description="The completion callbacks' delivery (null: the job has no callback_url).",
    )
    input_request: InputRequestView | None = Field(
        default=None,
        description="While `awaiting_input`: the fields a marketplace needs, as a MIP-003 "
        "input schema, and the `status_id` that `POST /provide_input` names (issue 15).",
    )
    input_round: int = Field(
        default=0, description="How many times the job was given fields it asked for."
    )
    stale: bool = Field(
        default=False,
        description="True when the view was rebuilt from the workflow memo because no worker "
        "answered the status query; per-marketplace details may then lag behind.",
    )


class Job:
    """The mutable state a ``JobWorkflow`` keeps. Pure: time is always passed in."""

    def __init__(self, job_input: JobInput, now: datetime) -> None:
        self.input = job_input
        self.status = JobStatus.AWAITING_PAYMENT
        self.updated_at = now
        self.marketplaces = {m: MarketplaceState() for m in job_input.marketplaces}
        self.error: JobError | None = None
        self.retry_count = 0
        self.input_webhook_id: str | None = None
        self.input_fingerprint: str | None = None
        self.callbacks: list[CallbackDelivery] = []
        # Issue 15: the listing as applied (with fields the job was given), what the
        # marketplaces found missing, the open question and how many were answered.
        self.listing = job_input.listing
        self.extras = ListingExtras()
        self.missing: dict[Marketplace, list[MissingField]] = {}
        self.input_request: InputRequest | None = None
        self.input_round = 0
        self.answered_status_id: str | None = None
        self.answer_fingerprint: str | None = None
        self.events: list[JobEvent] = []
        self.record(now, "job.created", {"marketplaces": [m.value for m in job_input.marketplaces]})

    # -- events ---------------------------------------------------------------------------

    def record(
        self, at: datetime, event_type: str, detail: dict[str, Any] | None = None
    ) -> JobEvent:
        event = JobEvent(seq=len(self.events) + 1, at=at, type=event_type, detail=detail or {})
        self.events.append(event)
        self.updated_at = at
        return event

    # -- job status -----------------------------------------------------------------------

    def move_to(
        self, target: JobStatus, at: datetime, detail: dict[str, Any] | None = None
    ) -> None:
        """Apply one job transition (rejects illegal ones) and record it as an event."""
        previous = self.status
        self.status = check_job_transition(self.status, target)
        self.record(at, f"job.{target.value}", {"from": previous.value, **(detail or {})})

    def fail(self, error: JobError, at: datetime) -> None:
        self.error = error
        self.move_to(JobStatus.FAILED, at, {"code": error.code, "message": error.message})

    # -- marketplaces ---------------------------------------------------------------------

    def move_marketplace(
        self,
        marketplace: Marketplace,
        target: MarketplaceStatus,
        at: datetime,
        detail: dict[str, Any] | None = None,
    ) -> MarketplaceState:
        state = self.marketplaces[marketplace]
        previous = state.status
        state.status = check_marketplace_transition(state.status, target)
        self.record(
            at,
            f"marketplace.{target.value}",
            {"marketplace": marketplace.value, "from": previous.value, **(detail or {})},
        )
        return state

    # -- asking for fields a marketplace needs (issue 15) ------------------------------------

    def ask_for_input(self, at: datetime) -> InputRequest:
        """``running -> awaiting_input``: one question with every field the marketplaces
        found missing (one per form id), open until ``at`` + INPUT_TIMEOUT."""
        fields = merge(f for fields in self.missing.values() for f in fields)
        self.input_request = InputRequest(
            number=self.input_round + 1,
            fields=fields,
            asked_at=at,
            deadline=at + self.input.input_timeout,
        )
        detail = {
            "fields": [f.id for f in fields],
            "marketplaces": [m.value for m in self.missing],
        }
        self.move_to(JobStatus.AWAITING_INPUT, at, detail)
        return self.input_request

    def take_fields(
        self, listing: Listing, extras: ListingExtras, fingerprint: str, at: datetime
    ) -> list[Marketplace]:
        """``awaiting_input -> running`` with the answer applied; the marketplaces that asked
        (they run again). ``fingerprint``: the answer's, so that a re-send is known."""
        asked = list(self.missing)
        fields = [f.id for f in self.input_request.fields] if self.input_request else []
        view = self.input_request_view()
        self.answered_status_id = view.status_id if view else None
        self.listing, self.extras = listing, extras
        self.missing = {}
        self.input_request = None
        self.input_round += 1
        self.answer_fingerprint = fingerprint
        self.move_to(JobStatus.RUNNING, at, {"fields": fields, "input_round": self.input_round})
        return asked

    def status_occurrence(self) -> str:
        """Which stay in its status the job is in (domain.mip003.status_id): the retry, and
        the question asked or answered last, once there is one."""
        occurrence = f"retry-{self.retry_count}"
        number = self.input_request.number if self.input_request else self.input_round
        return f"{occurrence}-input-{number}" if number else occurrence

    def marketplaces_in(self, *statuses: MarketplaceStatus) -> list[Marketplace]:
        return [m for m, s in self.marketplaces.items() if s.status in statuses]

    def published(self) -> dict[Marketplace, MarketplaceListing]:
        return {
            m: MarketplaceListing(listing_id=s.listing_id, listing_url=s.listing_url)
            for m, s in self.marketplaces.items()
            if s.listing_id is not None
        }

    # -- views ----------------------------------------------------------------------------

    def view(self) -> JobView:
        return JobView(
            job_id=self.input.job_id,
            status=self.status,
            sku=self.input.listing.sku,
            input_hash=self.input.input_hash,
            blockchain_identifier=self.input.blockchain_identifier,
            identifier_from_purchaser=self.input.identifier_from_purchaser,
            pay_by_time=self.input.pay_by_time,
            created_at=self.input.created_at,
            updated_at=self.updated_at,
            marketplaces={m: s.model_copy(deep=True) for m, s in self.marketplaces.items()},
            result=self.published() if self.status is JobStatus.COMPLETED else None,
            error=self.error,
            retry_count=self.retry_count,
            max_retries=self.input.max_retries,
            callback=self.callback_view(),
            input_request=self.input_request_view(),
            input_round=self.input_round,
        )

    def input_request_view(self) -> InputRequestView | None:
        request = self.input_request
        if request is None or self.status is not JobStatus.AWAITING_INPUT:
            return None
        from domain.mip003 import status_id  # domain.mip003 reads this module's types

        return InputRequestView(
            status_id=status_id(self.input.job_id, self.status, self.status_occurrence()),
            input_schema=request.input_schema(),
            marketplaces={m: [f.id for f in fields] for m, fields in self.missing.items()},
            deadline=request.deadline,
        )

    def callback_view(self) -> CallbackView | None:
        return callback_view(self.callbacks) if self.input.callback is not None else None

    def search_attributes(self) -> TypedSearchAttributes:
        """What makes the job findable by ``GET /jobs`` (the rule: domain/job_search.py)."""
        return job_search_attributes(
            status=self.status,
            sku=self.input.listing.sku,
            created_at=self.input.created_at,
            marketplaces={m: s.status for m, s in self.marketplaces.items()},
        )

    def memo(self) -> dict[str, Any]:
        """The memo keys the workflow upserts on every transition (schema: domain/memo.py)."""
        from domain.memo import JobMemo  # domain.memo reads this module's types

        return JobMemo(
            status=self.status,
            updated_at=self.updated_at,
            retry_count=self.retry_count,
            input_webhook_id=self.input_webhook_id,
            input_fingerprint=self.input_fingerprint,
            error=self.error,
            marketplaces={m: s.status for m, s in self.marketplaces.items()},
            callback=self.callback_view(),
            input_request=self.input_request_view(),
            input_round=self.input_round,
        ).workflow_part()


def initial_view(job_input: JobInput) -> JobView:
    """The view of a job that was just started, without asking the workflow."""
    return Job(job_input, job_input.created_at).view()
