"""The filters of ``GET /jobs``, ``POST /jobs/bulk`` and ``GET /listings`` (CONTRACT.md
"Operations"), as Temporal visibility queries over the search attributes of
domain/job_search.py, and the opaque page token of ``GET /jobs``.

Every value that reaches a query is validated first (an enum, a SKU of ``[A-Za-z0-9]``, a
datetime rendered here), so a query never carries caller text.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.canonical import fingerprint
from domain.job_search import (
    JOB_CREATED_AT,
    JOB_MARKETPLACES,
    JOB_SKU,
    JOB_STATUS,
    LISTING_PLACEMENTS,
    LISTING_SOLD_OUT,
    LISTING_STATUS,
    failed_marker,
)
from domain.listing import SKU_PATTERN
from domain.listing_entity import LISTING_WORKFLOW, ListingStatus, PlacementState
from domain.marketplaces import Marketplace
from domain.status import JobStatus
from domain.timestamps import UtcDatetime

JOB_WORKFLOW = "JobWorkflow"
Sku = Annotated[str, Field(pattern=SKU_PATTERN, description="A seller SKU, `[A-Za-z0-9]{1,50}`.")]


def visibility_time(value: datetime) -> str:
    """A datetime as a visibility query literal (RFC 3339, UTC, microseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class JobFilter(BaseModel):
    """Which jobs: every given field must hold (AND); none given: every job."""

    model_config = ConfigDict(extra="forbid")

    status: JobStatus | None = None
    sku: Sku | None = None
    marketplace: Marketplace | None = Field(
        default=None,
        description="Jobs on this marketplace; with `status=failed`, jobs whose publish on "
        "this marketplace failed.",
    )
    created_after: UtcDatetime | None = Field(default=None, description="Inclusive, ISO-8601.")
    created_before: UtcDatetime | None = Field(default=None, description="Exclusive, ISO-8601.")

    @model_validator(mode="after")
    def _ordered(self) -> JobFilter:
        if self.created_after and self.created_before and self.created_after >= self.created_before:
            raise ValueError("created_after must be earlier than created_before")
        return self

    def query(
        self,
        *,
        at_or_before: datetime | None = None,
        at_or_after: datetime | None = None,
        running: bool | None = None,
    ) -> str:
        """The visibility query, optionally narrowed to a window of creation times and to
        open (``running``) or closed runs."""
        parts = [f"WorkflowType = '{JOB_WORKFLOW}'", f"{JOB_CREATED_AT.name} IS NOT NULL"]
        if running is not None:
            parts.append(f"ExecutionStatus {'=' if running else '!='} 'Running'")
        if self.status is not None:
            parts.append(f"{JOB_STATUS.name} = '{self.status.value}'")
        if self.sku is not None:
            parts.append(f"{JOB_SKU.name} = '{self.sku}'")
        if self.marketplace is not None:
            value = (
                failed_marker(self.marketplace)
                if self.status is JobStatus.FAILED
                else self.marketplace.value
            )
            parts.append(f"{JOB_MARKETPLACES.name} = '{value}'")
        if self.created_after is not None:
            parts.append(f"{JOB_CREATED_AT.name} >= '{visibility_time(self.created_after)}'")
        if self.created_before is not None:
            parts.append(f"{JOB_CREATED_AT.name} < '{visibility_time(self.created_before)}'")
        if at_or_before is not None:
            parts.append(f"{JOB_CREATED_AT.name} <= '{visibility_time(at_or_before)}'")
        if at_or_after is not None:
            parts.append(f"{JOB_CREATED_AT.name} >= '{visibility_time(at_or_after)}'")
        return " AND ".join(parts)

    def key(self) -> str:
        """Names this filter in a page token: a token is refused with another filter."""
        return fingerprint(self.model_dump(mode="json"))[:16]


class ListingFilter(BaseModel):
    """Which listings (``GET /listings``): every given field must hold (AND)."""

    model_config = ConfigDict(extra="forbid")

    status: ListingStatus | None = None
    marketplace: Marketplace | None = Field(
        default=None, description="Listings placed on this marketplace (in any state)."
    )
    state: PlacementState | None = Field(
        default=None,
        description="A marketplace in this state; with `marketplace`, that marketplace.",
    )
    sold_out: bool | None = Field(default=None, description="Sales brought the quantity to 0.")

    def query(self) -> str:
        # Running runs only: an entity that continued as new leaves closed runs behind.
        parts = [f"WorkflowType = '{LISTING_WORKFLOW}'", "ExecutionStatus = 'Running'"]
        if self.status is not None:
            parts.append(f"{LISTING_STATUS.name} = '{self.status.value}'")
        markets = [self.marketplace] if self.marketplace else list(Marketplace)
        if self.marketplace is not None or self.state is not None:
            states = [self.state] if self.state else list(PlacementState)
            values = ", ".join(f"'{m.value}:{s.value}'" for m in markets for s in states)
            parts.append(f"{LISTING_PLACEMENTS.name} IN ({values})")
        if self.sold_out is not None:
            parts.append(f"{LISTING_SOLD_OUT.name} = {str(self.sold_out).lower()}")
        return " AND ".join(parts)


class PageToken(BaseModel):
    """Where the next page of ``GET /jobs`` starts: after (``created_at``, ``job_id``) in the
    newest-first order. ``window`` is the span of creation times the last page needed, the
    first guess for the next one."""

    model_config = ConfigDict(extra="forbid")

    filter_key: str
    created_at: datetime
    job_id: str
    window: float = Field(gt=0)

    def encode(self) -> str:
        raw = json.dumps(self.model_dump(mode="json"), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, job_filter: JobFilter) -> PageToken:
        """The token, or ``ValueError`` when it is not one of ours or was made for another
        filter."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data: Any = json.loads(raw)
            page = cls.model_validate(data)
        except (ValueError, binascii.Error, ValidationError, UnicodeDecodeError):
            raise ValueError("page_token is not a token this API issued") from None
        if page.created_at.tzinfo is None:
            raise ValueError("page_token is not a token this API issued")
        if page.filter_key != job_filter.key():
            raise ValueError("page_token was issued for other filters")
        return page
