"""A job asks for fields a marketplace needs (issue 15 part 3, MIP-003 ``awaiting_input``):
running -> awaiting_input -> running -> completed through the listing entity; a wrong
status_id or a job not asking is refused; values that do not fit are refused naming the
field; no answer before INPUT_TIMEOUT fails the job with input_timeout; a cancel withdraws.

The entity is involved, so these run on ``steady_env`` (no automatic time skipping); the
timeout is reached by skipping time explicitly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.job import JobInput, JobView
from domain.marketplaces import Marketplace
from domain.messages import (
    INVALID_INPUT,
    REFUSED,
    CancelRequest,
    FieldsAnswer,
    InputReceipt,
    SignedInput,
)
from domain.mip003 import MipStatus, mip_status_view
from domain.status import Action, JobStatus, MarketplaceStatus
from tests.factories import job_input
from tests.workflow.harness import has_status, running_workers, start_job, wait_for
from tests.workflow.stand_ins import Behaviour, StandInMarketplaces
from workflows.job import JobWorkflow

EBAY, ETSY = Marketplace.EBAY, Marketplace.ETSY


def _signed() -> SignedInput:
    return SignedInput(data={"p": 1}, signature="v1,abc=", received_at=datetime.now(UTC))


def _answer(status_id: str, **values: object) -> FieldsAnswer:
    return FieldsAnswer(status_id=status_id, input_data=values, received_at=datetime.now(UTC))


async def _asking(
    env: WorkflowEnvironment, job: JobInput
) -> tuple[WorkflowHandle[JobWorkflow, JobView], JobView]:
    handle = await start_job(env.client, job)
    await handle.signal(JobWorkflow.provide_input, _signed())
    view = await wait_for(handle, has_status(JobStatus.AWAITING_INPUT))
    return handle, view


def _refusal(err: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> ApplicationError:
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_a_job_asks_for_the_missing_fields_and_completes_with_them(
    steady_env: WorkflowEnvironment,
):
    """eBay needs the listing's size and an item specific no listing field holds; Etsy
    publishes meanwhile. The job asks for exactly those two, takes them, eBay runs again with
    them (and Etsy does not), and the job completes."""
    stand_ins = StandInMarketplaces(
        behaviours={EBAY: Behaviour(require_size=True, require_aspect="Abteilung")}
    )
    job = job_input(now=await steady_env.get_current_time(), marketplaces=[EBAY, ETSY])
    async with running_workers(steady_env.client, stand_ins):
        handle, asking = await _asking(steady_env, job)
        question = asking.input_request
        assert question is not None
        assert [f["id"] for f in question.input_schema["input_data"]] == [
            "size",
            "ebay_abteilung",
        ]
        assert question.marketplaces == {EBAY: ["size", "ebay_abteilung"]}
        assert asking.marketplaces[EBAY].status is MarketplaceStatus.FAILED
        assert asking.marketplaces[EBAY].error and asking.marketplaces[EBAY].error.code == (
            "input_required"
        )
        assert asking.marketplaces[ETSY].status is MarketplaceStatus.COMPLETED
        mip = mip_status_view(asking)
        assert (mip.status, mip.id) == (MipStatus.AWAITING_INPUT, question.status_id)
        assert mip.input_schema == question.input_schema
        receipt = await handle.execute_update(
            JobWorkflow.provide_fields,
            _answer(question.status_id, size="W32 L34", ebay_abteilung="Herren"),
        )
        assert receipt == InputReceipt()
        done = await handle.result()
        events = [e.type for e in await handle.query(JobWorkflow.events)]
    assert done.status is JobStatus.COMPLETED
    assert done.input_request is None and done.input_round == 1
    assert {s.action for s in done.marketplaces.values()} == {Action.CREATED}
    first, second = stand_ins.calls[EBAY]
    assert first.listing.size is None
    assert second.listing.size == "W32 L34"
    assert second.extras.ebay_aspects == {"Abteilung": "Herren"}
    assert len(stand_ins.calls[ETSY]) == 1, "the marketplace that published is left alone"
    assert mip_status_view(done).id != mip_status_view(asking).id
    assert events.count("job.awaiting_input") == 1 and events.count("job.running") == 2


async def test_a_wrong_status_id_a_bad_value_and_a_job_not_asking_are_refused(
    steady_env: WorkflowEnvironment,
):
    """A status_id that is not the question: refused (409 at the gateway). A value that does
    not fit, or a field missing: InvalidInput naming the field (422). Once answered, another
    answer is refused and the very same answer re-sent is a duplicate (asked while the publish
    it started is held: an Update sent as the job completes is "not found", seen on a loaded
    machine)."""
    published = asyncio.Event()
    stand_ins = StandInMarketplaces(behaviours={EBAY: Behaviour(require_size=True, hold=published)})
    job = job_input(now=await steady_env.get_current_time(), marketplaces=[EBAY])
    async with running_workers(steady_env.client, stand_ins):
        handle, asking = await _asking(steady_env, job)
        assert asking.input_request is not None
        status_id = asking.input_request.status_id
        with pytest.raises(WorkflowUpdateFailedError) as wrong:
            await handle.execute_update(JobWorkflow.provide_fields, _answer("other", size="M"))
        assert _refusal(wrong).type == REFUSED and status_id in _refusal(wrong).message
        with pytest.raises(WorkflowUpdateFailedError) as missing:
            await handle.execute_update(JobWorkflow.provide_fields, _answer(status_id, colour="r"))
        details = _refusal(missing).details[0]
        assert _refusal(missing).type == INVALID_INPUT
        assert {d["field"] for d in details} == {"colour", "size"}
        with pytest.raises(WorkflowUpdateFailedError) as too_long:
            await handle.execute_update(
                JobWorkflow.provide_fields, _answer(status_id, size="x" * 101)
            )
        assert _refusal(too_long).details[0][0]["field"] == "size"
        still = await handle.query(JobWorkflow.status)
        assert still.status is JobStatus.AWAITING_INPUT and still.input_round == 0
        taken = _answer(status_id, size="M")
        assert await handle.execute_update(JobWorkflow.provide_fields, taken) == InputReceipt()
        again = await handle.execute_update(JobWorkflow.provide_fields, taken)
        assert again == InputReceipt(duplicate=True)
        with pytest.raises(WorkflowUpdateFailedError) as other:
            await handle.execute_update(JobWorkflow.provide_fields, _answer(status_id, size="L"))
        assert _refusal(other).type == REFUSED and "not awaiting_input" in _refusal(other).message
        published.set()
        done = await handle.result()
    assert done.status is JobStatus.COMPLETED
    assert [c.listing.size for c in stand_ins.calls[EBAY]] == [None, "M"]


async def test_no_answer_before_the_deadline_fails_the_job_with_input_timeout(
    steady_env: WorkflowEnvironment,
):
    """INPUT_TIMEOUT (1 h here) passes in awaiting_input: failed, code input_timeout; the
    deadline is in the question."""
    stand_ins = StandInMarketplaces(behaviours={EBAY: Behaviour(require_size=True)})
    now = await steady_env.get_current_time()
    job = job_input(now=now, marketplaces=[EBAY], max_retries=0).model_copy(
        update={"input_timeout": timedelta(hours=1)}
    )
    async with running_workers(steady_env.client, stand_ins):
        handle, asking = await _asking(steady_env, job)
        assert asking.input_request is not None
        assert asking.input_request.deadline - asking.updated_at == timedelta(hours=1)
        await steady_env.sleep(timedelta(hours=1, minutes=1))
        done = await handle.result()
    assert done.status is JobStatus.FAILED
    assert done.error is not None and done.error.code == "input_timeout"
    assert done.input_request is None
    assert len(stand_ins.calls[EBAY]) == 1


async def test_a_job_cancelled_while_asking_withdraws_what_it_created(
    steady_env: WorkflowEnvironment,
):
    """Cancel in awaiting_input: the Etsy listing this job created is withdrawn (its change
    never finished), eBay never ran again."""
    stand_ins = StandInMarketplaces(behaviours={EBAY: Behaviour(require_size=True)})
    job = job_input(now=await steady_env.get_current_time(), marketplaces=[EBAY, ETSY])
    async with running_workers(steady_env.client, stand_ins):
        handle, _ = await _asking(steady_env, job)
        await handle.execute_update(JobWorkflow.request_cancel, CancelRequest(reason="no size"))
        done = await handle.result()
    assert done.status is JobStatus.CANCELLED
    assert done.marketplaces[ETSY].action is Action.WITHDRAWN
    assert stand_ins.published[ETSY] == []
    assert len(stand_ins.calls[EBAY]) == 1
