"""A job as MIP-003 reads it (issue 15, part 1): five statuses, a status id per status, the
result as text."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.job import Job, JobError, MarketplaceListing
from domain.marketplaces import Marketplace
from domain.mip003 import MIP_STATUS_OF, MipStatus, mip_status_view, result_text, status_id
from domain.status import JobStatus, MarketplaceStatus
from tests.factories import job_input

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _job() -> Job:
    return Job(job_input(now=NOW, marketplaces=[Marketplace.EBAY, Marketplace.ETSY]), NOW)


def test_every_job_status_has_a_mip_status():
    """When the status machine gains a status, it must be given its MIP-003 reading here."""
    assert {s.value for s in JobStatus} <= set(MIP_STATUS_OF)
    assert set(MIP_STATUS_OF.values()) == set(MipStatus)


def test_awaiting_payment_says_until_when():
    view = mip_status_view(_job().view())
    assert view.status is MipStatus.AWAITING_PAYMENT
    assert view.message and view.message.startswith("waiting for payment until 2026-03-02T00:00")
    assert view.result is None and view.input_schema is None


def test_a_cancelled_job_reads_failed_with_its_reason():
    job = _job()
    job.move_to(JobStatus.CANCELLED, NOW, {"reason": "customer withdrew"})
    view = mip_status_view(job.view(), cancel_reason="customer withdrew")
    assert view.status is MipStatus.FAILED
    assert view.message == "cancelled: customer withdrew"


def test_a_failed_job_reads_failed_with_its_error():
    job = _job()
    job.move_to(JobStatus.RUNNING, NOW)
    job.fail(JobError(code="marketplace_failed", message="ebay: title too long"), NOW)
    view = mip_status_view(job.view())
    assert view.status is MipStatus.FAILED
    assert view.message == "marketplace_failed: ebay: title too long"


def test_a_completed_job_has_one_result_line_per_marketplace():
    job = _job()
    job.move_to(JobStatus.RUNNING, NOW)
    for marketplace, url in ((Marketplace.EBAY, "https://e/1"), (Marketplace.ETSY, None)):
        job.move_marketplace(marketplace, MarketplaceStatus.RUNNING, NOW)
        state = job.move_marketplace(marketplace, MarketplaceStatus.COMPLETED, NOW)
        state.listing_id, state.listing_url = "L1", url
    job.move_to(JobStatus.COMPLETED, NOW)
    view = mip_status_view(job.view())
    assert view.status is MipStatus.COMPLETED
    assert view.result == "ebay: https://e/1\netsy: listing L1"


def test_result_text_is_never_empty():
    assert result_text({})
    assert result_text({Marketplace.VINTED: MarketplaceListing(listing_id="9")}) == (
        "vinted: listing 9"
    )


def test_a_status_id_is_stable_per_status_and_new_per_move():
    job = _job()
    first = mip_status_view(job.view()).id
    assert mip_status_view(job.view()).id == first, "the same on every read"
    job.move_to(JobStatus.RUNNING, NOW)
    running = mip_status_view(job.view()).id
    job.fail(JobError(code="x", message="y"), NOW)
    failed_once = mip_status_view(job.view()).id
    job.retry_count = 1
    job.move_to(JobStatus.RUNNING, NOW)
    job.fail(JobError(code="x", message="y"), NOW)
    failed_twice = mip_status_view(job.view()).id
    assert len({first, running, failed_once, failed_twice}) == 4
    assert status_id("j", JobStatus.RUNNING, "a") != status_id("j", JobStatus.RUNNING, "b")
