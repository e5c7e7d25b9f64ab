"""Replay recorded histories (tests/histories/*.json) against today's workflow code.

A change that would break running jobs (a new command, a reordered activity, a changed timer)
fails here. To change workflow behaviour on purpose, guard it with ``workflow.patched(...)``
and re-record with ``python -m tests.histories.record`` (README, "Testing").
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from domain.job import JobInput, JobView
from workflows.batch import BatchWorkflow
from workflows.etsy_tokens import EtsyTokenWorkflow, TokenState
from workflows.job import JobWorkflow
from workflows.listing import ListingWorkflow
from workflows.request_budget import RequestBudgetWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def _history(path: Path) -> WorkflowHistory:
    document = json.loads(path.read_text())
    return WorkflowHistory.from_json(document["workflow_id"], document["history"])


def test_representative_histories_are_recorded():
    names = {p.stem for p in HISTORIES}
    assert names >= {
        "job_completed",
        "job_failed_then_retried",
        "job_payment_timeout",
        "job_cancelled_while_running",
        "job_webhook_redelivered",
        "batch_continued_as_new",
        "job_paid_by_update_of_many",
        "job_retried_and_cancelled_by_update",
        "batch_paid_by_update",
        "job_completed_through_listing",
        "job_failed_then_retried_through_listing",
        "job_cancelled_while_running_through_listing",
        "listing_revised_withdrawn_and_delisted",
        "etsy_tokens_refresh_and_lease",
        "request_budget_continued_as_new",
        "job_completed_with_callback",
        "job_failed_then_retried_searchable",
        "listing_revised_withdrawn_and_delisted_searchable",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_deterministically(path: Path):
    replayer = Replayer(
        workflows=[
            JobWorkflow,
            BatchWorkflow,
            ListingWorkflow,
            EtsyTokenWorkflow,
            RequestBudgetWorkflow,
        ],
        data_converter=pydantic_data_converter,
    )
    result = await replayer.replay_workflow(_history(path), raise_on_replay_failure=True)
    assert result.replay_failure is None


@workflow.defn(name="JobWorkflow")
class ReorderedJobWorkflow(JobWorkflow):
    """A careless change: a timer before anything else, which running jobs never recorded."""

    @workflow.run
    async def run(self, job_input: JobInput) -> JobView:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(job_input)


async def test_an_incompatible_change_fails_replay():
    """The control: replay must catch a change that breaks recorded histories."""
    completed = next(p for p in HISTORIES if p.stem == "job_completed")
    replayer = Replayer(workflows=[ReorderedJobWorkflow], data_converter=pydantic_data_converter)
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(_history(completed))


@workflow.defn(name="EtsyTokenWorkflow")
class UnboundedWaitTokenWorkflow(EtsyTokenWorkflow):
    """A careless change: a caller waiting on another's lease no longer sets a timer."""

    @workflow.run
    async def run(self, state: TokenState) -> None:
        await super().run(state)

    async def _lease_settled(self, until: datetime) -> None:
        lease = self.state.lease
        await workflow.wait_condition(lambda: self.state.lease is not lease)


async def test_the_token_workflows_type_and_commands_are_pinned_by_its_history():
    """The recorded refresh-and-lease history names the type ``EtsyTokenWorkflow`` (unchanged
    by the move to workflows/etsy_tokens.py), and replay catches a change to its commands."""
    recorded = next(p for p in HISTORIES if p.stem == "etsy_tokens_refresh_and_lease")
    started = json.loads(recorded.read_text())["history"]["events"][0]
    assert started["workflowExecutionStartedEventAttributes"]["workflowType"] == {
        "name": "EtsyTokenWorkflow"
    }
    replayer = Replayer(
        workflows=[UnboundedWaitTokenWorkflow], data_converter=pydantic_data_converter
    )
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(_history(recorded))
