"""``python -m bench.sandbox_cpu``: CPU per job of the workflow side alone, per sandbox mode.

A dev server of its own (in memory), the real JobWorkflow on a worker built like worker.py
(WORKER_WORKFLOW_SANDBOX strict and off, twice each, alternating), marketplaces stood in by
tests/workflow/stand_ins.py (no HTTP), SANDBOX_CPU_JOBS jobs (default 150) at 10 in flight.
Prints the CPU time of this process (client + workers) per job: what the workflow sandbox and
the payload handling cost, without the marketplace calls that dominate ``make bench``.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

from temporalio.testing import WorkflowEnvironment

from config.codec import data_converter
from config.process import exit_process
from config.settings import Settings
from domain.job_search import SEARCH_ATTRIBUTES
from tests.factories import job_input
from tests.temporal_binaries import dev_server_path
from tests.workflow.harness import running_workers, start_job
from tests.workflow.stand_ins import StandInMarketplaces
from tests.workflow.test_job_workflow import signed
from workflows.job import JobWorkflow

CONCURRENCY = 10


async def one_job(env: WorkflowEnvironment) -> None:
    handle = await start_job(env.client, job_input(now=datetime.now(UTC)))
    await handle.signal(JobWorkflow.provide_input, signed())
    await handle.result()


async def measure(env: WorkflowEnvironment, sandbox: str, jobs: int) -> str:
    async with running_workers(env.client, StandInMarketplaces(), sandbox=sandbox):
        await asyncio.gather(*(one_job(env) for _ in range(CONCURRENCY)))  # warm-up
        slots = asyncio.Semaphore(CONCURRENCY)

        async def limited() -> None:
            async with slots:
                await one_job(env)

        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.gather(*(limited() for _ in range(jobs)))
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    rate, cpu_ms = jobs / wall, cpu / jobs * 1000
    return f"sandbox={sandbox:<6} jobs={jobs} {rate:5.1f} jobs/s  {cpu_ms:5.1f} ms CPU/job"


async def main() -> None:
    jobs = int(os.environ.get("SANDBOX_CPU_JOBS", "150"))
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(),
        data_converter=data_converter(Settings()),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    try:
        for sandbox in ("strict", "off", "strict", "off"):
            print(await measure(env, sandbox, jobs), flush=True)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
    exit_process(0)
