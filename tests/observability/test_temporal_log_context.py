"""Worker log lines about a job carry its job_id: activity and workflow loggers, SDK warnings."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from config.logging_setup import JOB_WORKFLOW_TYPE, JsonFormatter
from domain.marketplaces import ALL_MARKETPLACES, Marketplace, publish_activity_name
from domain.messages import PublishRequest, PublishResult, SignedInput
from domain.status import JobStatus
from tests.factories import job_input
from tests.workflow.harness import running_workers, start_job
from tests.workflow.stand_ins import Behaviour, StandInMarketplaces
from workflows.job import JobWorkflow


class JsonLines(logging.Handler):
    """Keeps every record as the JSON line the processes would write."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def of(self, logger: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["logger"] == logger]


@pytest.fixture
def sdk_lines() -> Iterator[JsonLines]:
    """Capture the SDK's loggers (temporalio.workflow, temporalio.activity, worker internals),
    set up as configure_logging() does for JSON: the SDK's context as fields, not in messages."""
    handler = JsonLines()
    logger = logging.getLogger("temporalio")
    level = logger.level
    flags = (workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    workflow.logger.workflow_info_on_message = activity.logger.activity_info_on_message = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = flags


@dataclass
class LoggingMarketplaces(StandInMarketplaces):
    """The stand-ins, each first logging through ``activity.logger`` as the adapters do."""

    def activities(self) -> dict[Marketplace, list[Callable[..., Any]]]:
        return {m: [_logging(m, publish)] for m, [publish] in super().activities().items()}


def _logging(marketplace: Marketplace, publish: Callable[..., Any]) -> Callable[..., Any]:
    @activity.defn(name=publish_activity_name(marketplace))
    async def publish_and_log(request: PublishRequest) -> PublishResult:
        activity.logger.info("%s publishing sku=%s", marketplace.value, request.listing.sku)
        result: PublishResult = await publish(request)
        return result

    return publish_and_log


async def test_activity_lines_carry_the_job_id(time_env: WorkflowEnvironment, sdk_lines: JsonLines):
    """The real JobWorkflow and worker builder: every activity line (ours, and the SDK's warning
    with the traceback of a failed attempt) carries the job's ID, and the message stays clean."""
    stand_ins = LoggingMarketplaces(behaviours={Marketplace.EBAY: Behaviour(fail_times=1)})
    async with running_workers(time_env.client, stand_ins):
        inp = job_input(now=await time_env.get_current_time())
        handle = await start_job(time_env.client, inp)
        await handle.signal(
            JobWorkflow.provide_input,
            SignedInput(
                data={"payment_id": "p"}, signature="v1,abc=", received_at=datetime.now(UTC)
            ),
        )
        assert (await handle.result()).status is JobStatus.COMPLETED

    lines = sdk_lines.of("temporalio.activity")
    ours = [line for line in lines if "publishing sku=" in line["message"]]
    assert len(ours) == len(ALL_MARKETPLACES) + 1, "one per attempt; eBay has two"
    assert all(line["job_id"] == inp.job_id for line in lines), lines
    assert not any("workflow_id" in line["message"] for line in lines), "context is in fields"
    assert {line["temporal"]["activity_type"] for line in ours} == {
        publish_activity_name(m) for m in ALL_MARKETPLACES
    }
    (failed,) = [line for line in lines if line["level"] == "WARNING"]
    assert failed["exc_type"] == "ApplicationError" and "stand-in failure" in failed["exc_info"]
    assert failed["temporal"]["attempt"] == 1


@workflow.defn(name=JOB_WORKFLOW_TYPE)
class LoggingJobWorkflow:
    """Stands in for JobWorkflow by type name, to log through ``workflow.logger``."""

    @workflow.run
    async def run(self) -> None:
        workflow.logger.info("job step done")


@workflow.defn(name="NotAJob")
class LoggingOtherWorkflow:
    @workflow.run
    async def run(self) -> None:
        workflow.logger.info("other step done")


async def test_workflow_logger_lines_carry_the_job_id(
    time_env: WorkflowEnvironment, sdk_lines: JsonLines
):
    """``workflow.logger`` puts the workflow's context on the record: for JobWorkflow, whose
    workflow ID is the job ID, that becomes job_id; other workflow types get none."""
    queue = f"logs-{uuid.uuid4()}"
    job_id = str(uuid.uuid4())
    async with Worker(
        time_env.client,
        task_queue=queue,
        workflows=[LoggingJobWorkflow, LoggingOtherWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        await time_env.client.execute_workflow(JOB_WORKFLOW_TYPE, id=job_id, task_queue=queue)
        await time_env.client.execute_workflow("NotAJob", id=f"other-{job_id}", task_queue=queue)
    (job_line,) = [
        x for x in sdk_lines.of("temporalio.workflow") if x["message"] == "job step done"
    ]
    assert job_line["job_id"] == job_id
    assert job_line["temporal"]["workflow_type"] == JOB_WORKFLOW_TYPE
    (other,) = [x for x in sdk_lines.of("temporalio.workflow") if "other step" in x["message"]]
    assert "job_id" not in other and other["temporal"]["workflow_type"] == "NotAJob"
