"""A listing: the product sold under one SKU, live on up to three marketplaces (issue 13).

``ListingWorkflow`` (workflows/listing.py) is its entity workflow and the only writer of this
state. Jobs are changes to it: they hand a :class:`Change` over and hear back one
:class:`Outcome` per marketplace. Pure: time is always passed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.canonical import fingerprint
from domain.job import JobError, JobEvent, JobView, PublishRetry
from domain.listing import Listing
from domain.marketplaces import Marketplace
from domain.messages import MarketplaceRef
from domain.missing_fields import ListingExtras, MissingField
from domain.sales import OrderLine
from domain.status import Action, JobStatus, MarketplaceStatus
from domain.timestamps import UtcDatetime

APPLY_SIGNAL = "apply"
WITHDRAW_SIGNAL = "withdraw_job"
OUTCOMES_SIGNAL = "listing_outcomes"
WITHDRAWAL_SIGNAL = "listing_withdrawn"
HAND_CHANGE_ACTIVITY = "hand_change_to_listing"
"""The job's local activity that signals-with-start the entity with its :class:`Change`."""
LISTING_WORKFLOW = "ListingWorkflow"
MAX_EVENTS = 200
"""Events a listing keeps (the newest); a listing lives for months, its history is in Temporal."""
MAX_SEEN_ORDERS = 10_000
"""Order lines remembered to count each once (issue 14); a listing sells far fewer."""
MAX_SEEN_CHANGES = 1000
"""Change ids remembered to drop a re-delivered change (an activity's signal-with-start retried)."""


def listing_workflow_id(sku: str) -> str:
    """The entity's workflow id: one per SKU (DESIGN.md, "Listings are entities")."""
    return f"listing-{sku}"


class ListingStatus(StrEnum):
    PENDING = "pending"  # nothing live yet
    LIVE = "live"  # live on every marketplace it was published to
    PARTIAL = "partial"  # live on some
    ENDED = "ended"  # live nowhere: delisted or sold out


class PlacementState(StrEnum):
    PENDING = "pending"
    LIVE = "live"
    ENDED = "ended"
    FAILED = "failed"


def content_fingerprint(listing: Listing, extras: ListingExtras | None = None) -> str:
    """Equal for two listings a marketplace would show alike: a job bringing the same content
    is ``unchanged``, with no write at all. Fields a job supplied beyond the listing (issue
    15) count as content; without them the fingerprint is the listing's alone, as before."""
    if extras is None or extras.is_empty():
        return fingerprint(listing.model_dump(mode="json"))
    return fingerprint(
        {"listing": listing.model_dump(mode="json"), "extras": extras.model_dump(mode="json")}
    )


def images_fingerprint(listing: Listing) -> str:
    return fingerprint(list(listing.images))


class Placement(BaseModel):
    """The listing on one marketplace."""

    model_config = ConfigDict(extra="forbid")

    state: PlacementState = PlacementState.PENDING
    listing_id: str | None = None
    listing_url: str | None = None
    offer_id: str | None = None
    quantity: int = 0
    job_id: str | None = None
    """The job whose content is live there (the last one applied)."""
    created_by: str | None = None
    """The job that created the live listing: cancelling that job withdraws it while no other
    job has revised it since."""
    content: str | None = None
    images: str | None = None
    updated_at: UtcDatetime | None = None
    error: JobError | None = None

    def ref(self) -> MarketplaceRef | None:
        """The ids to revise or withdraw by; None while nothing is live."""
        if self.state is not PlacementState.LIVE or self.listing_id is None:
            return None
        return MarketplaceRef(
            listing_id=self.listing_id, listing_url=self.listing_url, offer_id=self.offer_id
        )


class Change(BaseModel):
    """A job's change to the listing (signal ``apply``): its content on its marketplaces."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    round: int = 0
    """0 for the job's first run, n for its n-th retry (which names only its failed ones)."""
    listing: Listing
    marketplaces: list[Marketplace]
    publish_retry: dict[Marketplace, PublishRetry] = Field(default_factory=dict)
    heartbeat_timeout: timedelta = timedelta(seconds=30)
    trace: dict[str, str] | None = None
    """The job's trace context at the hand-off (W3C ``traceparent``…), so the entity runs this
    change's activities in the job's trace (config/tracing.py); None when tracing is off."""
    extras: ListingExtras = Field(default_factory=ListingExtras)
    """Fields the job was given beyond the listing (issue 15), for the adapters."""
    input_round: int = 0
    """0, or n when the job hands the change over again with the n-th answer to its
    ``awaiting_input`` question (a new change id: not dropped as a re-delivery)."""

    @property
    def change_id(self) -> str:
        base = f"{self.job_id}#{self.round}"
        return f"{base}.{self.input_round}" if self.input_round else base


class WithdrawJob(BaseModel):
    """Signal ``withdraw_job``: the job was cancelled; stop its change and end what it created."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    reason: str = "job cancelled"


class DelistRequest(BaseModel):
    """Update ``delist`` (``POST /listings/{sku}/delist``): end the listing there."""

    model_config = ConfigDict(extra="forbid")

    marketplaces: list[Marketplace] | None = None
    """None: every marketplace."""
    reason: str = "delisted by admin"


class Outcome(BaseModel):
    """Where one marketplace of a change ended (part of :class:`Outcomes`)."""

    model_config = ConfigDict(extra="forbid")

    round: int
    marketplace: Marketplace
    status: MarketplaceStatus  # COMPLETED or FAILED
    action: Action | None = None
    listing_id: str | None = None
    listing_url: str | None = None
    attempts: int = 0
    error: JobError | None = None
    missing_fields: list[MissingField] = Field(default_factory=list)
    """FAILED because the marketplace needs these fields (``input_required``): the job asks
    for them (``awaiting_input``, issue 15)."""


class Outcomes(BaseModel):
    """Entity -> job (signal ``listing_outcomes``): every marketplace of a change, sent once
    the change settled on all of them. One signal per change rather than one per marketplace:
    each signal costs both histories events and the job a workflow task (issue 13,
    "Performance"); while it runs, the job view shows progress from the entity's view
    (:func:`with_listing_progress`)."""

    model_config = ConfigDict(extra="forbid")

    outcomes: list[Outcome]


class Withdrawal(BaseModel):
    """Entity -> job (signal ``listing_withdrawn``): the answer to :class:`WithdrawJob`. Each
    marketplace of the job's change, with ``withdrawn`` when a listing it made was ended."""

    model_config = ConfigDict(extra="forbid")

    withdrawn: list[Marketplace] = Field(default_factory=list)


class PlacementView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: PlacementState
    listing_id: str | None
    listing_url: str | None
    quantity: int
    job_id: str | None
    updated_at: UtcDatetime | None
    error: JobError | None


class ListingView(BaseModel):
    """``GET /listings/{sku}`` (CONTRACT.md, "Listings")."""

    model_config = ConfigDict(extra="forbid")

    sku: str
    status: ListingStatus
    quantity: int
    sold: int = 0
    oversold: int = 0
    marketplaces: dict[Marketplace, PlacementView]
    job_ids: list[str]
    updated_at: UtcDatetime
    stale: bool = False


class ListingState(BaseModel):
    """Everything the entity carries over continue-as-new."""

    model_config = ConfigDict(extra="forbid")

    sku: str
    placements: dict[Marketplace, Placement] = Field(default_factory=dict)
    quantity: int = 0
    sold: int = 0
    oversold: int = 0
    job_ids: list[str] = Field(default_factory=list)
    seen_changes: list[str] = Field(default_factory=list)
    events: list[JobEvent] = Field(default_factory=list)
    next_seq: int = 1
    updated_at: UtcDatetime | None = None
    pending: list[Change] = Field(default_factory=list)
    """Changes received and not applied yet (handed over on continue-as-new)."""
    withdrawals: list[WithdrawJob] = Field(default_factory=list)
    delists: list[DelistRequest] = Field(default_factory=list)
    cancelled_jobs: list[str] = Field(default_factory=list)
    """Jobs that asked for a withdrawal: a late change of theirs is dropped."""
    seen_orders: list[str] = Field(default_factory=list)
    """``OrderLine.key`` of every order line counted (issue 14)."""
    sales: list[OrderLine] = Field(default_factory=list)
    """Order lines received and not synced to the other marketplaces yet."""
    lost_creates: dict[str, list[Marketplace]] = Field(default_factory=dict)
    """Per cancelled job, the marketplaces whose create was stopped midway: it may have been
    made with its answer lost, so the withdrawal looks it up."""

    # -- events ---------------------------------------------------------------------------

    def record(self, at: datetime, event_type: str, detail: dict[str, Any] | None = None) -> None:
        self.events.append(JobEvent(seq=self.next_seq, at=at, type=event_type, detail=detail or {}))
        self.next_seq += 1
        del self.events[:-MAX_EVENTS]
        self.updated_at = at

    # -- changes --------------------------------------------------------------------------

    def remember(self, change: Change) -> bool:
        """True the first time a change id is seen (a re-delivered change is dropped)."""
        if change.change_id in self.seen_changes:
            return False
        self.seen_changes.append(change.change_id)
        del self.seen_changes[:-MAX_SEEN_CHANGES]
        return True

    def count_order(self, line: OrderLine) -> bool:
        """True the first time an order line is reported (a poll overlap or a webhook
        redelivery reports it again: counted once)."""
        if line.key in self.seen_orders:
            return False
        self.seen_orders.append(line.key)
        del self.seen_orders[:-MAX_SEEN_ORDERS]
        return True

    def sell(self, line: OrderLine) -> int:
        """Count the sale: ``sold`` grows, ``quantity`` falls (never below 0: what was sold
        beyond it is ``oversold``). Returns the units oversold by this line."""
        self.sold += line.quantity
        left = self.quantity - line.quantity
        self.quantity = max(left, 0)
        oversold = max(-left, 0)
        self.oversold += oversold
        return oversold

    def placement(self, marketplace: Marketplace) -> Placement:
        return self.placements.setdefault(marketplace, Placement())

    def applied(self, job_id: str) -> None:
        if job_id in self.job_ids:
            self.job_ids.remove(job_id)
        self.job_ids.append(job_id)

    # -- views ----------------------------------------------------------------------------

    def status(self) -> ListingStatus:
        states = [p.state for p in self.placements.values()]
        live = sum(s is PlacementState.LIVE for s in states)
        if live and live == len(states):
            return ListingStatus.LIVE
        if live:
            return ListingStatus.PARTIAL
        if any(s is PlacementState.ENDED for s in states):
            return ListingStatus.ENDED
        return ListingStatus.PENDING

    def view(self, now: datetime) -> ListingView:
        return ListingView(
            sku=self.sku,
            status=self.status(),
            quantity=self.quantity,
            sold=self.sold,
            oversold=self.oversold,
            marketplaces={
                m: PlacementView(
                    state=p.state,
                    listing_id=p.listing_id,
                    listing_url=p.listing_url,
                    quantity=p.quantity if p.state is PlacementState.LIVE else 0,
                    job_id=p.job_id,
                    updated_at=p.updated_at,
                    error=p.error,
                )
                for m, p in sorted(self.placements.items())
            },
            job_ids=list(self.job_ids),
            updated_at=self.updated_at or now,
        )

    def memo(self, now: datetime) -> dict[str, Any]:
        """The memo the entity upserts after each change: the stale view when no worker runs."""
        return {"listing": self.view(now).model_dump(mode="json")}


def with_listing_progress(view: JobView, listing: ListingView) -> JobView:
    """A running job's view with what its listing entity already placed (issue 13).

    The entity tells the job a change's outcomes in one ``listing_outcomes`` signal once the
    change settled everywhere (one signal per change keeps the events per job in budget), so
    while it runs, a marketplace where the entity already shows this job's content live is
    shown ``completed`` from the entity's view, with its listing id and URL: the progress
    CONTRACT.md's job view shows. Failures wait for the job's own outcome (the entity keeps
    a listing live through a failed revise, so "not live" says nothing yet)."""
    if view.status is not JobStatus.RUNNING:
        return view
    marketplaces = dict(view.marketplaces)
    for marketplace, state in view.marketplaces.items():
        placement = listing.marketplaces.get(marketplace)
        if (
            state.status is MarketplaceStatus.RUNNING
            and placement is not None
            and placement.state is PlacementState.LIVE
            and placement.job_id == view.job_id
        ):
            marketplaces[marketplace] = state.model_copy(
                update={
                    "status": MarketplaceStatus.COMPLETED,
                    "listing_id": placement.listing_id,
                    "listing_url": placement.listing_url,
                }
            )
    return view.model_copy(update={"marketplaces": marketplaces})
