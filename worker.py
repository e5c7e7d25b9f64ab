"""The worker process: polls the job queue and one queue per marketplace, until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from config.logging_setup import configure_logging
from config.metrics import metrics_bind_address, serve_sdk_metrics
from config.process import exit_process
from config.settings import ConfigurationError, Settings, load_settings
from config.temporal import connect_with_retry
from domain.marketplaces import (
    ALL_TASK_QUEUES,
    JOB_TASK_QUEUE,
    Marketplace,
    marketplace_task_queue,
)
from workflows.batch import BatchWorkflow
from workflows.job import JobWorkflow

log = logging.getLogger("worker")
HEARTBEAT_THROTTLE = timedelta(seconds=1)


def build_workers(
    client: Client,
    settings: Settings,
    marketplace_activities: Mapping[Marketplace, Callable[..., Any]],
    *,
    run_workflows: bool = True,
) -> list[Worker]:
    """One worker for workflows on ``jobs`` and one per marketplace queue with its rate limit.

    Only the queues ``WORKER_TASK_QUEUES`` names are polled (all of them when it is empty).
    """
    shutdown = timedelta(seconds=settings.worker_graceful_shutdown_seconds)
    workers: list[Worker] = []
    if run_workflows and settings.polls(JOB_TASK_QUEUE):
        workers.append(
            Worker(
                client,
                task_queue=JOB_TASK_QUEUE,
                workflows=[JobWorkflow, BatchWorkflow],
                workflow_runner=workflow_runner(settings.worker_workflow_sandbox),
                max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
                max_cached_workflows=settings.worker_max_cached_workflows,
                graceful_shutdown_timeout=shutdown,
            )
        )
    for marketplace, activity in marketplace_activities.items():
        if not settings.polls(marketplace_task_queue(marketplace)):
            continue
        workers.append(
            Worker(
                client,
                task_queue=marketplace_task_queue(marketplace),
                activities=[activity],
                # Enforced by the server for the whole queue, across all worker processes; its
                # token buckets (one per queue partition) can let a fresh queue burst, so each
                # worker also caps itself, which makes a single worker exact.
                max_task_queue_activities_per_second=settings.rate_limit(marketplace),
                max_activities_per_second=settings.rate_limit(marketplace),
                max_concurrent_activities=settings.marketplace_max_concurrent_activities,
                # Cancellation reaches an activity only in a heartbeat response; without this cap
                # heartbeats are sent at 80 % of heartbeat_timeout, so a cancel would take ~24 s.
                max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
                graceful_shutdown_timeout=shutdown,
            )
        )
    return workers


def workflow_runner(sandbox: str) -> WorkflowRunner:
    """WORKER_WORKFLOW_SANDBOX. ``strict`` (the default) is Temporal's sandbox: every run gets
    fresh imports of the workflow module and a workflow that calls datetime.now(), random or
    does I/O fails its task instead of going wrong on replay. ``off`` saves ~10 ms of CPU per
    job here (bench/README.md) and leaves only the replay tests as the guard. (Passing all
    modules through would save most of that too, but it also lets datetime.now() through,
    so it is not offered: tests/workflow/test_sandbox_modes.py.)
    """
    if sandbox == "off":
        return UnsandboxedWorkflowRunner()
    return SandboxedWorkflowRunner()


async def run_workers(workers: Sequence[Worker], stop: asyncio.Event) -> None:
    """Run every worker until ``stop`` is set, then shut them down gracefully."""
    tasks = [asyncio.create_task(w.run()) for w in workers]
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    if stopper not in done:
        # A worker stopped on its own (fatal error): stop the rest and surface the error.
        stop.set()
    await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
    stopper.cancel()
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception():
            raise task.exception()  # type: ignore[misc]


async def serve(settings: Settings) -> None:
    from activities.registry import create_http_client, marketplace_activities

    identity = f"worker@{socket.gethostname()}:{os.getpid()}"
    client = await connect_with_retry(settings, identity=identity)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with create_http_client(settings) as http:
        workers = build_workers(client, settings, marketplace_activities(settings, http))
        queues = [q for q in ALL_TASK_QUEUES if settings.polls(q)]
        log.info(
            "worker started identity=%s namespace=%s queues=%s rate_limits=%s",
            identity,
            settings.temporal_namespace,
            ",".join(queues),
            {m.value: settings.rate_limit(m) for m in Marketplace},
        )
        if bind_address := metrics_bind_address(settings):
            log.info("sdk metrics at http://%s/metrics", bind_address)
        await run_workers(workers, stop)
    log.info("worker stopped")


def main() -> None:
    configure_logging()
    try:
        settings = load_settings()
    except ConfigurationError as err:
        print(err, file=sys.stderr)
        exit_process(2)
        return
    if not settings.worker_enabled:
        log.info("WORKER_ENABLED=false: this worker will not poll any task queue; exiting")
        exit_process(0)
        return
    serve_sdk_metrics()
    try:
        asyncio.run(serve(settings))
    except Exception:
        log.exception("worker failed")
        exit_process(1)
    exit_process(0)


if __name__ == "__main__":
    main()
