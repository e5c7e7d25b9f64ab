"""The status machines: every legal move allowed, every other move rejected (DESIGN.md)."""

from __future__ import annotations

import itertools

import pytest

from domain.status import (
    InvalidTransitionError,
    JobStatus,
    MarketplaceStatus,
    check_job_transition,
    check_marketplace_transition,
)

LEGAL_JOB_MOVES = {
    (JobStatus.AWAITING_PAYMENT, JobStatus.RUNNING),
    (JobStatus.AWAITING_PAYMENT, JobStatus.FAILED),
    (JobStatus.AWAITING_PAYMENT, JobStatus.CANCELLED),
    (JobStatus.RUNNING, JobStatus.COMPLETED),
    (JobStatus.RUNNING, JobStatus.FAILED),
    (JobStatus.RUNNING, JobStatus.CANCELLED),
    # Issue 15: a marketplace needs fields the listing lacks; they come, the deadline passes
    # (input_timeout) or the job is cancelled.
    (JobStatus.RUNNING, JobStatus.AWAITING_INPUT),
    (JobStatus.AWAITING_INPUT, JobStatus.RUNNING),
    (JobStatus.AWAITING_INPUT, JobStatus.FAILED),
    (JobStatus.AWAITING_INPUT, JobStatus.CANCELLED),
    (JobStatus.FAILED, JobStatus.RUNNING),
    (JobStatus.FAILED, JobStatus.CANCELLED),
}
ALL_JOB_MOVES = set(itertools.product(JobStatus, JobStatus))

LEGAL_MARKETPLACE_MOVES = {
    (MarketplaceStatus.PENDING, MarketplaceStatus.RUNNING),
    (MarketplaceStatus.PENDING, MarketplaceStatus.SKIPPED),
    (MarketplaceStatus.RUNNING, MarketplaceStatus.COMPLETED),
    (MarketplaceStatus.RUNNING, MarketplaceStatus.FAILED),
    (MarketplaceStatus.FAILED, MarketplaceStatus.RUNNING),
    (MarketplaceStatus.COMPLETED, MarketplaceStatus.SKIPPED),
    # A cancelled job's listing withdrawn (issue 13): failed (cancelled), action withdrawn.
    (MarketplaceStatus.COMPLETED, MarketplaceStatus.FAILED),
    (MarketplaceStatus.SKIPPED, MarketplaceStatus.COMPLETED),
}


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL_JOB_MOVES))
def test_legal_job_move_is_allowed(current: JobStatus, target: JobStatus):
    """Seed 004 "State Machine Verification" 1: every valid transition works."""
    assert check_job_transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), sorted(ALL_JOB_MOVES - LEGAL_JOB_MOVES))
def test_illegal_job_move_is_rejected(current: JobStatus, target: JobStatus):
    """Seed 001 TC-2.5 and seed 004 "Invalid Transition Test": e.g. awaiting -> completed."""
    with pytest.raises(InvalidTransitionError) as err:
        check_job_transition(current, target)
    assert current.value in str(err.value) and target.value in str(err.value)


def test_terminal_states_have_no_exit():
    for terminal in (JobStatus.COMPLETED, JobStatus.CANCELLED):
        for target in JobStatus:
            with pytest.raises(InvalidTransitionError):
                check_job_transition(terminal, target)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL_MARKETPLACE_MOVES))
def test_legal_marketplace_move_is_allowed(current: MarketplaceStatus, target: MarketplaceStatus):
    assert check_marketplace_transition(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    sorted(set(itertools.product(MarketplaceStatus, MarketplaceStatus)) - LEGAL_MARKETPLACE_MOVES),
)
def test_illegal_marketplace_move_is_rejected(
    current: MarketplaceStatus, target: MarketplaceStatus
):
    with pytest.raises(InvalidTransitionError):
        check_marketplace_transition(current, target)
