"""How a job reads in MIP-003 (Masumi's agent API): five statuses, a stable id per status, the
result as text. ``GET /status?job_id=`` serves this view; ``/status/{job_id}`` the full job."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.job import JobView, MarketplaceListing
from domain.marketplaces import Marketplace
from domain.status import JobStatus
from domain.timestamps import format_utc


class MipStatus(StrEnum):
    """MIP-003's statuses (the spec since cc5a38f; Sokosumi's JOB_STATUS)."""

    AWAITING_PAYMENT = "awaiting_payment"
    AWAITING_INPUT = "awaiting_input"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


MIP_STATUS_OF: dict[str, MipStatus] = {
    "awaiting_payment": MipStatus.AWAITING_PAYMENT,
    "awaiting_input": MipStatus.AWAITING_INPUT,
    "running": MipStatus.RUNNING,
    "completed": MipStatus.COMPLETED,
    "failed": MipStatus.FAILED,
    # MIP-003 has no cancelled: to its clients the job failed; the reason is in `message`.
    "cancelled": MipStatus.FAILED,
}
"""Keyed by ``JobStatus`` value."""

_STATUS_ID_NAMESPACE = uuid.UUID("0b6f3f5e-6d1e-4c3a-9a57-7d1f3c2a9e10")


class MipStatusView(BaseModel):
    """``GET /status?job_id=``: what Sokosumi and the ``masumi`` SDK read (plus ``job_id`` and
    ``message``, which both ignore and older MIP-003 clients read)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    job_id: str
    status: MipStatus
    message: str | None = None
    result: str | None = None
    input_schema: dict[str, Any] | None = None


def status_id(job_id: str, status: JobStatus, occurrence: str) -> str:
    """The id of one stay of the job in one status: the same on every read, another one once
    the job moves. ``occurrence`` tells apart stays in the same status (today the retry count,
    as a retried job can fail twice). A job asking for input more than once adds which request
    it is, so that ``/provide_input``'s ``status_id`` names the question it answers."""
    return str(uuid.uuid5(_STATUS_ID_NAMESPACE, f"{job_id}\n{status.value}\n{occurrence}"))


def result_text(published: Mapping[Marketplace, MarketplaceListing]) -> str:
    """The MIP-003 ``result`` of a completed job: one line per marketplace, its listing URL."""
    lines = [
        f"{marketplace.value}: {listing.listing_url or 'listing ' + listing.listing_id}"
        for marketplace, listing in published.items()
    ]
    return "\n".join(lines) or "completed: no marketplace reported a listing"


def status_message(view: JobView, cancel_reason: str | None = None) -> str | None:
    """A line for people: what the job waits for, where it publishes, why it failed."""
    if view.status is JobStatus.AWAITING_PAYMENT:
        return f"waiting for payment until {format_utc(view.pay_by_time)}"
    if view.status is JobStatus.AWAITING_INPUT and view.input_request is not None:
        fields = ", ".join(
            f"{m.value}: {', '.join(ids)}" for m, ids in view.input_request.marketplaces.items()
        )
        deadline = format_utc(view.input_request.deadline)
        return f"waiting for input until {deadline}: {fields}"
    if view.status is JobStatus.RUNNING:
        states = ", ".join(f"{m.value} {s.status.value}" for m, s in view.marketplaces.items())
        return f"publishing: {states}"
    if view.status is JobStatus.COMPLETED:
        return f"published on {len(view.result or {})} marketplace(s)"
    if view.status is JobStatus.FAILED:
        return f"{view.error.code}: {view.error.message}" if view.error else "failed"
    if view.status is JobStatus.CANCELLED:
        return f"cancelled: {cancel_reason or 'no reason given'}"
    return None


def mip_status_view(
    view: JobView,
    *,
    cancel_reason: str | None = None,
    input_schema: dict[str, Any] | None = None,
    occurrence: str | None = None,
) -> MipStatusView:
    """The MIP-003 status of a job view. While ``awaiting_input`` the id and ``input_schema``
    are the job's question (``view.input_request``, issue 15); ``input_schema`` and
    ``occurrence`` override them (see ``status_id``)."""
    completed = view.status is JobStatus.COMPLETED
    asking = view.input_request if view.status is JobStatus.AWAITING_INPUT else None
    if occurrence is None:
        occurrence = f"retry-{view.retry_count}"
        occurrence += f"-input-{view.input_round}" if view.input_round else ""
    if asking is not None and input_schema is None:
        input_schema = asking.input_schema
    return MipStatusView(
        id=asking.status_id
        if asking is not None
        else status_id(view.job_id, view.status, occurrence),
        job_id=view.job_id,
        status=MIP_STATUS_OF[view.status.value],
        message=status_message(view, cancel_reason),
        result=result_text(view.result or {}) if completed else None,
        input_schema=input_schema,
    )
