"""WORKER_WORKFLOW_SANDBOX: both modes run the job; ``strict`` (the default) refuses a
non-deterministic call. Passing every module through the sandbox would not: the test shows
it, which is why that cheaper mode is not offered."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain.status import JobStatus
from tests.factories import job_input
from tests.workflow.clock_workflow import ReadsTheClock
from tests.workflow.harness import running_workers, start_job
from tests.workflow.stand_ins import StandInMarketplaces
from tests.workflow.test_job_workflow import signed
from worker import workflow_runner
from workflows.job import JobWorkflow


@pytest.mark.parametrize("sandbox", ["strict", "off"])
async def test_every_sandbox_mode_runs_the_job(time_env: WorkflowEnvironment, sandbox: str):
    stand_ins = StandInMarketplaces()
    async with running_workers(time_env.client, stand_ins, sandbox=sandbox):
        handle = await start_job(time_env.client, job_input(now=await time_env.get_current_time()))
        await handle.signal(JobWorkflow.provide_input, signed())
        view = await handle.result()
    assert view.status is JobStatus.COMPLETED


async def _first_task_failure(client: Client, runner: WorkflowRunner) -> str:
    queue = f"sandbox-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[ReadsTheClock], workflow_runner=runner):
        handle = await client.start_workflow(ReadsTheClock.run, id=queue, task_queue=queue)
        for _ in range(100):
            async for event in handle.fetch_history_events():
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    await handle.terminate("test over")
                    return event.workflow_task_failed_event_attributes.failure.message
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
                    return ""
            await asyncio.sleep(0.1)
    raise AssertionError("the workflow neither failed a task nor completed")


async def test_the_strict_sandbox_refuses_a_non_deterministic_call(time_env: WorkflowEnvironment):
    failure = await _first_task_failure(time_env.client, workflow_runner("strict"))
    assert "datetime.now" in failure or "Cannot access" in failure, failure


async def test_passing_every_module_through_would_let_it_run(time_env: WorkflowEnvironment):
    """Why WORKER_WORKFLOW_SANDBOX has no "passthrough" mode, though it costs less CPU."""
    restrictions = SandboxRestrictions.default.with_passthrough_all_modules()
    runner = SandboxedWorkflowRunner(restrictions=restrictions)
    assert await _first_task_failure(time_env.client, runner) == ""
