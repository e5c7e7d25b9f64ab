"""The Job aggregate: transitions record events, views and memo follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.job import Job, JobError, initial_view
from domain.marketplaces import Marketplace
from domain.status import InvalidTransitionError, JobStatus, MarketplaceStatus
from tests.factories import job_input

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_new_job_awaits_payment_with_a_created_event():
    job = Job(job_input(now=T0), T0)
    assert job.status is JobStatus.AWAITING_PAYMENT
    assert [e.type for e in job.events] == ["job.created"]
    assert job.view() == initial_view(job.input)


def test_illegal_move_changes_nothing():
    """Seed 001 TC-2.5: awaiting_payment -> completed is rejected and leaves the job as it was."""
    job = Job(job_input(now=T0), T0)
    with pytest.raises(InvalidTransitionError):
        job.move_to(JobStatus.COMPLETED, T0 + timedelta(seconds=1))
    assert job.status is JobStatus.AWAITING_PAYMENT
    assert len(job.events) == 1
    assert job.updated_at == T0


def test_moves_update_updated_at_and_append_ordered_events():
    """Seed 001 TC-2.4 (legal transition updates status and updated_at)."""
    job = Job(job_input(now=T0), T0)
    job.move_to(JobStatus.RUNNING, T0 + timedelta(seconds=1))
    job.move_marketplace(Marketplace.EBAY, MarketplaceStatus.RUNNING, T0 + timedelta(seconds=2))
    assert job.updated_at == T0 + timedelta(seconds=2)
    assert [e.seq for e in job.events] == [1, 2, 3]
    assert job.events[1].detail == {"from": "awaiting_payment"}


def test_completed_view_has_result_and_no_error():
    """Seed 001 TC-2.8: a completed job stores its result, error None."""
    job = Job(job_input(now=T0, marketplaces=[Marketplace.ETSY]), T0)
    job.move_to(JobStatus.RUNNING, T0)
    state = job.move_marketplace(Marketplace.ETSY, MarketplaceStatus.RUNNING, T0)
    state.listing_id = "123"
    job.move_marketplace(Marketplace.ETSY, MarketplaceStatus.COMPLETED, T0)
    job.move_to(JobStatus.COMPLETED, T0)
    view = job.view()
    assert view.result is not None and view.result[Marketplace.ETSY].listing_id == "123"
    assert view.error is None


def test_failed_view_has_error_and_memo_follows():
    job = Job(job_input(now=T0), T0)
    job.fail(JobError(code="payment_timeout", message="late"), T0 + timedelta(hours=12))
    view = job.view()
    assert view.status is JobStatus.FAILED and view.error and view.error.code == "payment_timeout"
    assert job.memo()["status"] == "failed"
    assert job.memo()["error"]["code"] == "payment_timeout"


def test_view_timestamps_serialise_as_utc_z():
    dumped = Job(job_input(now=T0), T0).view().model_dump(mode="json")
    assert dumped["created_at"] == "2026-01-01T00:00:00.000Z"
    assert dumped["pay_by_time"] == "2026-01-01T12:00:00.000Z"
