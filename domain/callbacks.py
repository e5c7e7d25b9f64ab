"""Completion callbacks: which events, their ids, the retry schedule and the delivery state.

CONTRACT.md "Operations" (``callback_url``): on ``completed``, ``failed`` and ``cancelled`` the
service POSTs ``{"type", "timestamp", "data": <job view>}`` to the job's callback URL, signed
per Standard Webhooks, with one ``webhook-id`` per event for every attempt; non-2xx or timeout
is retried with backoff for ``CALLBACK_RETRY_WINDOW``; 410 stops it. The job view shows the
delivery state (:class:`CallbackView`). Pure: no HTTP, no settings; time is passed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.timestamps import UtcDatetime, format_utc

DELIVER_CALLBACK_ACTIVITY = "deliver_callback"
CALLBACK_PATCH = "completion-callbacks"
"""``workflow.patched`` id of the JobWorkflow change that delivers callbacks (issue 16)."""
MAX_CALLBACK_URL_LENGTH = 2048
GONE = 410
"""The receiver says the endpoint is gone for good (Standard Webhooks): no more attempts."""


class CallbackEvent(StrEnum):
    COMPLETED = "job.completed"
    FAILED = "job.failed"
    CANCELLED = "job.cancelled"


EVENT_OF_STATUS_EVENT = {event.value: event for event in CallbackEvent}
"""The job event types (``job.completed`` …, domain.job) that are also callback events."""


class DeliveryState(StrEnum):
    PENDING = "pending"  # not delivered yet; attempts go on
    DELIVERED = "delivered"  # a 2xx answer
    GAVE_UP = "gave_up"  # the retry window passed without a 2xx
    STOPPED = "stopped"  # the receiver answered 410, or the URL was refused


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # non-2xx (other than 410), timeout, connection error
    GONE = "gone"  # 410
    REFUSED = "refused"  # the outbound guard refused the URL (scheme, non-public address)


class CallbackPolicy(BaseModel):
    """Where and how a job's callbacks go (``JobInput.callback``): the URL from the request, the
    schedule from the gateway's settings (workflow code cannot read the environment)."""

    model_config = ConfigDict(extra="forbid")

    url: str
    retry_window: timedelta = timedelta(hours=24)
    initial_interval: timedelta = timedelta(seconds=5)
    maximum_interval: timedelta = timedelta(hours=1)
    timeout: timedelta = timedelta(seconds=10)

    def delay_after(self, attempts: int) -> timedelta:
        """Wait before the next attempt once ``attempts`` failed: the initial interval, doubling,
        at most the maximum (5 s, 10 s, 20 s … 1 h: about 33 attempts in 24 h)."""
        delay = self.initial_interval * (1 << min(max(attempts - 1, 0), 40))
        return min(delay, self.maximum_interval)


class CallbackRequest(BaseModel):
    """The ``deliver_callback`` activity's input: one attempt of one event. No secret in it: the
    worker signs with ``CALLBACK_SIGNING_SECRET`` as it sends."""

    model_config = ConfigDict(extra="forbid")

    url: str
    webhook_id: str
    payload: dict[str, Any]
    timeout: timedelta = timedelta(seconds=10)


class CallbackAttempt(BaseModel):
    """What one attempt gave: the receiver's status code, or why there was none."""

    model_config = ConfigDict(extra="forbid")

    outcome: AttemptOutcome
    status: int | None = None
    error: str | None = None


class CallbackDelivery(BaseModel):
    """The delivery of one event, across its attempts."""

    model_config = ConfigDict(extra="forbid")

    event: CallbackEvent
    webhook_id: str
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    def take(self, attempt: CallbackAttempt, now: datetime) -> None:
        """Count one attempt; delivered, 410 and refused settle the delivery."""
        self.attempts += 1
        self.last_status = attempt.status
        self.last_error = attempt.error
        self.updated_at = now
        if attempt.outcome is AttemptOutcome.DELIVERED:
            self.state = DeliveryState.DELIVERED
        elif attempt.outcome in (AttemptOutcome.GONE, AttemptOutcome.REFUSED):
            self.state = DeliveryState.STOPPED

    def give_up(self, now: datetime) -> None:
        self.state = DeliveryState.GAVE_UP
        self.updated_at = now


CONTRACT_STATUS = {
    DeliveryState.PENDING: "pending",
    DeliveryState.DELIVERED: "delivered",
    DeliveryState.GAVE_UP: "failed",
    DeliveryState.STOPPED: "failed",
}
"""CONTRACT.md's ``callback.status`` (pending, delivered, failed) of each delivery state."""


class CallbackView(BaseModel):
    """The job view's ``callback``: ``status`` and ``attempts`` of the latest event's delivery
    (CONTRACT.md), and every event's delivery in ``deliveries``, oldest first."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(description="pending, delivered or failed: the latest event's delivery")
    attempts: int = 0
    deliveries: list[CallbackDelivery] = Field(default_factory=list)


def callback_view(deliveries: list[CallbackDelivery]) -> CallbackView:
    """The view of a job that has a callback URL (``pending`` until its first event)."""
    if not deliveries:
        return CallbackView(status="pending")
    latest = deliveries[-1]
    return CallbackView(
        status=CONTRACT_STATUS[latest.state],
        attempts=latest.attempts,
        deliveries=[d.model_copy() for d in deliveries],
    )


def webhook_id(job_id: str, event_seq: int) -> str:
    """One id per event, the same for every attempt: the job and its event's ``seq``, so a
    failed job retried and failing again is a new event with a new id."""
    return f"msg_{job_id}_{event_seq}"


def callback_payload(event: CallbackEvent, at: datetime, view: dict[str, Any]) -> dict[str, Any]:
    """The body: ``{"type", "timestamp", "data"}``, ``data`` the job view when the event
    happened (without its own ``callback`` state, which only the job view keeps current)."""
    data = {k: v for k, v in view.items() if k != "callback"}
    return {"type": event.value, "timestamp": format_utc(at), "data": data}
