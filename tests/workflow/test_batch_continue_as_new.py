"""A batch that continues as new many times, on the real dev server (inside make test)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from api.app import build_services
from config.settings import Settings
from domain.status import JobStatus
from tests.temporal_binaries import start_dev_env
from tests.workflow.harness import running_workers
from tests.workflow.stand_ins import StandInMarketplaces
from tests.workflow.test_batch_workflow import _jobs, _pay
from workflows.batch import SIGNALS_AT_ONCE, BatchWorkflow

CHILDREN = 300
EVENTS_PER_RUN = 200


@pytest.fixture
async def own_dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """Its own dev server: the session's one has the API tests' worker polling `jobs`."""
    env = await start_dev_env()
    yield env
    await env.shutdown()


@pytest.mark.timeout(300)
async def test_batch_progress_survives_many_continue_as_new(own_dev_env: WorkflowEnvironment):
    """Issue 5: history stays bounded (continue-as-new every ~200 events here), progress is
    carried across runs, and no child's report is lost at a run boundary."""
    client = own_dev_env.client
    async with running_workers(client, StandInMarketplaces(), sandbox="off"):
        settings = Settings(batch_concurrency=50, batch_history_events_per_run=EVENTS_PER_RUN)
        batch_id, _ = await build_services(client, settings).batches.create(_jobs(CHILDREN), None)
        handle = client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
        await handle.signal(BatchWorkflow.provide_input, _pay())
        final = await asyncio.wait_for(handle.result(), timeout=240)
        lengths, run_id = [], None
        started = time.monotonic()
        while True:  # walk the continue-as-new chain back from the last run
            history = await client.get_workflow_handle(batch_id, run_id=run_id).fetch_history()
            lengths.append(len(history.events))
            first = history.events[0]
            assert first.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
            run_id = first.workflow_execution_started_event_attributes.continued_execution_run_id
            if not run_id or time.monotonic() - started > 60:
                break
    assert final.status is JobStatus.COMPLETED and final.progress == 100
    assert final.counts[JobStatus.COMPLETED] == CHILDREN
    assert final.runs == len(lengths) > 3, lengths
    assert max(lengths) <= EVENTS_PER_RUN + 4 * SIGNALS_AT_ONCE, lengths
