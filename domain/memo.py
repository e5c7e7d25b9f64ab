"""The workflow memo: one schema that the gateway and the workflows write and the gateway reads.

A memo is readable with ``describe()`` while no worker runs (a server read, no workflow task),
so the gateway keeps answering from it. The gateway writes the start part when it starts a
workflow; the workflow upserts its part on every transition (only the keys that changed).
Every reader goes through :class:`JobMemo` / :class:`BatchMemo`, never through raw keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.callbacks import CallbackView
from domain.job import JobError, JobView
from domain.marketplaces import Marketplace
from domain.missing_fields import InputRequestView
from domain.status import JobStatus, MarketplaceStatus


class JobMemo(BaseModel):
    """What ``JobWorkflow``'s memo holds. Keys a run has not written yet are ``None``."""

    model_config = ConfigDict(extra="ignore")

    # Written by the gateway at start.
    request_fingerprint: str | None = None
    """Canonical hash of the start request: a reused Idempotency-Key must match it."""
    view: JobView | None = None
    """The job view at start: the base of the stale view."""
    batch_id: str | None = None
    """Set on a batch child: it is paid through its batch."""

    # Written by the workflow on every transition.
    status: JobStatus | None = None
    updated_at: datetime | None = None
    retry_count: int = 0
    input_webhook_id: str | None = None
    input_fingerprint: str | None = None
    """``SignedInput.fingerprint()`` of the input the job took (a re-send is answered alike)."""
    error: JobError | None = None
    marketplaces: dict[Marketplace, MarketplaceStatus] = {}
    callback: CallbackView | None = None
    """Written only for a job with a callback URL (issue 16), so other jobs' memos stay as
    recorded histories have them."""
    input_request: InputRequestView | None = None
    input_round: int = 0
    """Both written once a job first asks for fields (issue 15), from then on every time (a
    question answered must be cleared); other jobs' memos stay as recorded."""

    @staticmethod
    def at_start(
        view: JobView, request_fingerprint: str | None, batch_id: str | None = None
    ) -> dict[str, Any]:
        """The memo the gateway starts a job with (batch children too: issue 11, case 2)."""
        memo: dict[str, Any] = {"view": view.model_dump(mode="json")}
        if request_fingerprint is not None:
            memo["request_fingerprint"] = request_fingerprint
        if batch_id is not None:
            memo["batch_id"] = batch_id
        return memo

    def workflow_part(self) -> dict[str, Any]:
        """The keys ``JobWorkflow`` upserts, as JSON values. ``updated_at`` stays in
        ``isoformat()`` and ``input_fingerprint`` is left out until set: recorded histories
        carry exactly these values."""
        assert self.status is not None and self.updated_at is not None
        part: dict[str, Any] = {
            "status": self.status.value,
            "updated_at": self.updated_at.isoformat(),
            "retry_count": self.retry_count,
            "input_webhook_id": self.input_webhook_id,
            "error": self.error.model_dump(mode="json") if self.error else None,
            "marketplaces": {m.value: s.value for m, s in self.marketplaces.items()},
        }
        if self.input_fingerprint is not None:
            part["input_fingerprint"] = self.input_fingerprint
        if self.callback is not None:
            part["callback"] = self.callback.model_dump(mode="json")
        if self.input_request is not None or self.input_round:
            request = self.input_request
            part["input_request"] = request.model_dump(mode="json") if request else None
            part["input_round"] = self.input_round
        return part

    def callback_pending(self) -> bool:
        """A settled job whose callback is still being delivered keeps its workflow open."""
        return self.callback is not None and self.callback.status == "pending"

    def stale_view(self, job_id: str, closed: bool) -> JobView:
        """The job view rebuilt from the memo (``stale: true``), for when no worker answers."""
        if self.view is None:
            raise ValueError(f"job {job_id} has no view in its memo")
        update: dict[str, Any] = {"stale": True}
        if self.status is not None and self.updated_at is not None:
            update["status"] = self.status
            update["updated_at"] = self.updated_at
            update["retry_count"] = self.retry_count
            update["error"] = self.error
            if self.callback is not None:
                update["callback"] = self.callback
            # A question is open only while awaiting_input (a cancel leaves the key behind).
            awaiting = self.status is JobStatus.AWAITING_INPUT
            update["input_request"] = self.input_request if awaiting else None
            update["input_round"] = self.input_round
        marketplaces = {m: s.model_copy() for m, s in self.view.marketplaces.items()}
        for name, status in self.marketplaces.items():
            if name in marketplaces:
                marketplaces[name].status = status
        update["marketplaces"] = marketplaces
        view = self.view.model_copy(update=update)
        if closed and view.status is JobStatus.AWAITING_PAYMENT:
            # Closed before its first workflow task wrote a status (e.g. terminated).
            view = view.model_copy(update={"status": JobStatus.CANCELLED})
        return view


class BatchMemo(BaseModel):
    """What ``BatchWorkflow``'s memo holds (the gateway writes the first three keys)."""

    model_config = ConfigDict(extra="ignore")

    request_fingerprint: str | None = None
    children_ready: bool = False
    size: int
    status: JobStatus = JobStatus.AWAITING_PAYMENT
    progress: int = 0
    counts: dict[JobStatus, int] = {}
    updated_at: datetime | None = None
    input_fingerprint: str | None = None

    @staticmethod
    def at_start(request_fingerprint: str, size: int) -> dict[str, Any]:
        """Until a worker runs the batch's first task, this is all the view there is."""
        return {"request_fingerprint": request_fingerprint, "children_ready": False, "size": size}

    def workflow_part(self) -> dict[str, Any]:
        """The keys ``BatchWorkflow`` upserts (all of them, each time)."""
        assert self.updated_at is not None
        part: dict[str, Any] = {
            "status": self.status.value,
            "progress": self.progress,
            "counts": {k.value: v for k, v in self.counts.items()},
            "updated_at": self.updated_at.isoformat(),
            "size": self.size,
            "children_ready": self.children_ready,
            "request_fingerprint": self.request_fingerprint,
        }
        if self.input_fingerprint is not None:
            part["input_fingerprint"] = self.input_fingerprint
        return part

    def stale_view(self, batch_id: str) -> dict[str, Any]:
        """``GET /batches/{id}`` from the memo (``stale: true``)."""
        body = self.model_dump(
            mode="json", exclude={"request_fingerprint", "input_fingerprint", "children_ready"}
        )
        return {**body, "batch_id": batch_id, "stale": True}
