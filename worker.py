"""The worker process: polls the job queue and one queue per marketplace, until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.bulk_actions import BulkActions
from activities.callbacks import CallbackSender
from activities.heartbeats import HeartbeatMemory
from activities.job_context import JobContextInterceptor
from activities.listing_handoff import ListingHandOff
from activities.request_leases import LeaseKeeper
from activities.request_pacer import RequestPacer
from config.logging_setup import configure_logging
from config.metrics import metrics_bind_address, serve_sdk_metrics
from config.process import exit_process
from config.settings import ConfigurationError, Settings, load_settings
from config.temporal import connect
from config.tracing import TracingConfigurationError, configure_tracing, shutdown_tracing
from domain.marketplaces import (
    ALL_TASK_QUEUES,
    CALLBACK_TASK_QUEUE,
    JOB_TASK_QUEUE,
    Marketplace,
    marketplace_task_queue,
)
from domain.sales import ReaderState
from workflows.batch import BatchWorkflow
from workflows.bulk_operation import BulkOperationWorkflow
from workflows.etsy_tokens import EtsyTokenWorkflow
from workflows.job import JobWorkflow
from workflows.listing import ListingWorkflow
from workflows.orders_reader import OrdersReaderWorkflow, orders_reader_id
from workflows.request_budget import RequestBudgetWorkflow

log = logging.getLogger("worker")
MARKETPLACE_WORKFLOWS: dict[Marketplace, list[type]] = {
    Marketplace.EBAY: [RequestBudgetWorkflow],
    Marketplace.ETSY: [RequestBudgetWorkflow, EtsyTokenWorkflow],
    Marketplace.VINTED: [RequestBudgetWorkflow],
}
"""Workflows that run on a marketplace's own queue: its request budget (the shares of its
rate limit), and the owner of each Etsy shop's tokens."""
HEARTBEAT_THROTTLE = timedelta(seconds=1)
T = TypeVar("T")

# Until the server answers for the namespace, the worker waits for it instead of exiting: the
# server may simply be starting (or restarting) next to it.
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 5.0
DESCRIBE_TIMEOUT = timedelta(seconds=5)
STARTUP_FAILURES = ("Failed client connect", "Worker validation failed")
RETRYABLE_STATUSES = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.NOT_FOUND, RPCStatusCode.DEADLINE_EXCEEDED}
)


def build_workers(
    client: Client,
    settings: Settings,
    marketplace_activities: Mapping[Marketplace, Sequence[Callable[..., Any]]],
    *,
    run_workflows: bool = True,
    callback_sender: CallbackSender | None = None,
) -> list[Worker]:
    """One worker for workflows on ``jobs``, one per marketplace queue with its rate limit, and
    one for completion callbacks (``callback_sender``, default the real one from settings).

    Only the queues ``WORKER_TASK_QUEUES`` names are polled (all of them when it is empty).
    """
    shutdown = timedelta(seconds=settings.worker_graceful_shutdown_seconds)
    workers: list[Worker] = []
    if run_workflows and settings.polls(JOB_TASK_QUEUE):
        bulk = BulkActions(client, settings)  # issue 16: POST /jobs/bulk
        workers.append(
            Worker(
                client,
                task_queue=JOB_TASK_QUEUE,
                workflows=[
                    JobWorkflow,
                    BatchWorkflow,
                    ListingWorkflow,
                    OrdersReaderWorkflow,
                    BulkOperationWorkflow,
                ],
                activities=[
                    ListingHandOff(client).hand_change_to_listing,
                    bulk.find_bulk_page,
                    bulk.act_on_job,
                ],
                workflow_runner=workflow_runner(settings.worker_workflow_sandbox),
                max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
                max_cached_workflows=settings.worker_max_cached_workflows,
                graceful_shutdown_timeout=shutdown,
            )
        )
    for marketplace, activities in marketplace_activities.items():
        if not settings.polls(marketplace_task_queue(marketplace)):
            continue
        workers.append(
            Worker(
                client,
                task_queue=marketplace_task_queue(marketplace),
                activities=list(activities),
                workflows=MARKETPLACE_WORKFLOWS.get(marketplace, []),
                workflow_runner=workflow_runner(settings.worker_workflow_sandbox),
                # The rate limit counts requests, paced in the process (RequestPacer, README
                # "Rate limits"). Every publish makes at least one request, so starting no more
                # activities per second than that is never the tighter bound; it keeps a
                # backlog waiting in the task queue, where no start-to-close clock runs,
                # rather than in the pacer.
                max_task_queue_activities_per_second=settings.rate_limit(marketplace),
                max_activities_per_second=settings.rate_limit(marketplace),
                max_concurrent_activities=settings.marketplace_max_concurrent_activities,
                # Cancellation reaches an activity only in a heartbeat response; without this cap
                # heartbeats are sent at 80 % of heartbeat_timeout, so a cancel would take ~24 s.
                max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
                # A request waiting for its slot heartbeats with the attempt's last details;
                # log lines name the job an activity works for.
                interceptors=[HeartbeatMemory(), JobContextInterceptor()],
                graceful_shutdown_timeout=shutdown,
            )
        )
    if settings.polls(CALLBACK_TASK_QUEUE):
        # Its own queue: requests to user-given URLs (slow or hostile receivers) never take a
        # marketplace worker's slots, and these workers can run where the network lets them
        # reach the internet only (README "Operating it").
        sender = callback_sender or CallbackSender(settings)
        workers.append(
            Worker(
                client,
                task_queue=CALLBACK_TASK_QUEUE,
                activities=[sender.deliver_callback],
                max_concurrent_activities=settings.callback_max_concurrent_deliveries,
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
    """Run every worker until ``stop`` is set, then shut them down gracefully.

    A worker that stops on its own (a fatal error, or the namespace check every worker makes
    before it polls) stops the rest, and its error is raised.
    """
    tasks = [asyncio.create_task(w.run()) for w in workers]
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
    # Every result is collected, so no failed task is left to be reported at garbage collection.
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def is_startup_failure(err: BaseException) -> bool:
    """The server is not reachable or does not serve the namespace (yet): worth waiting for.

    RuntimeError is what the SDK raises on connect and in a Worker's namespace check (which,
    when the server dies just then, retries for ~15 s and reports "Namespace … not found …
    Unavailable"); RPCError is our own check's.
    """
    if isinstance(err, RPCError):
        return err.status in RETRYABLE_STATUSES
    return isinstance(err, RuntimeError) and str(err).startswith(STARTUP_FAILURES)


def retry_delay(attempt: int) -> float:
    """0.5 s, doubling, at most 5 s: a dev server started a moment later is found at once."""
    return float(min(FIRST_RETRY_SECONDS * 2 ** (attempt - 1), MAX_RETRY_SECONDS))


def _reason(err: BaseException) -> str:
    if isinstance(err, RPCError):
        return f"{err.status.name if err.status else 'error'}: {err.message}"
    text = " ".join(str(err).split())  # one log line, whatever the SDK put in
    return text if len(text) <= 200 else text[:197] + "..."


async def check_namespace(client: Client, settings: Settings) -> None:
    """Raise RPCError unless the server answers for our namespace (a started dev server may
    not have registered it yet); the workers make the same check, but retry it for ~15 s."""
    request = DescribeNamespaceRequest(namespace=settings.temporal_namespace)
    await client.workflow_service.describe_namespace(request, timeout=DESCRIBE_TIMEOUT)


async def wait_before_retry(
    settings: Settings, err: BaseException, attempt: int, stop: asyncio.Event
) -> None:
    """One log line for this retry, then its delay (cut short by ``stop``)."""
    delay = retry_delay(attempt)
    log.warning(
        "temporal not ready at %s namespace=%s (%s); retry %d in %.1f s",
        settings.temporal_address,
        settings.temporal_namespace,
        _reason(err),
        attempt,
        delay,
    )
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)


class StopRequested(Exception):
    """SIGTERM/SIGINT came while the worker was still waiting for the server."""


async def until_stopped(awaitable: Awaitable[T], stop: asyncio.Event) -> T:
    """``awaitable``'s result; cancelled, and StopRequested raised, when ``stop`` is set first."""
    task = asyncio.ensure_future(awaitable)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    # Its outcome (cancelled, or a late error) no longer matters; our own cancellation does.
    await asyncio.gather(task, return_exceptions=True)
    raise StopRequested


def request_budget_keeper(
    client: Client, settings: Settings, pacers: Mapping[Marketplace, RequestPacer], identity: str
) -> LeaseKeeper:
    """Leases for the marketplaces whose queue this process polls. The others' pacers never
    get one: this process runs none of their activities, and would send them nothing."""
    polled = {m: p for m, p in pacers.items() if settings.polls(marketplace_task_queue(m))}
    return LeaseKeeper(
        client,
        polled,
        {m: settings.rate_limit(m) for m in polled},
        # Unique per process start: a restarted process is a new holder, never the old one.
        worker_id=f"{identity}#{uuid.uuid4().hex[:8]}",
    )


ORDER_READERS = (Marketplace.EBAY, Marketplace.ETSY)
"""Marketplaces whose orders are polled; Vinted reports sales by signed webhook (issue 14)."""


async def start_order_readers(client: Client, settings: Settings) -> None:
    """Start each marketplace's orders reader unless it runs (USE_EXISTING: every worker may
    ask; one reader per marketplace runs). Only a process that polls the jobs queue asks, and
    none when SALES_SYNC_INTERVAL is 0."""
    if settings.sales_sync_interval <= 0 or not settings.polls(JOB_TASK_QUEUE):
        return
    for marketplace in ORDER_READERS:
        await client.start_workflow(
            OrdersReaderWorkflow.run,
            ReaderState(marketplace=marketplace, interval_seconds=settings.sales_sync_interval),
            id=orders_reader_id(marketplace),
            task_queue=JOB_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )


async def serve(settings: Settings) -> None:
    from activities.registry import marketplace_activities, open_worker_http

    identity = f"worker@{socket.gethostname()}:{os.getpid()}"
    # Before connecting: a SIGTERM while the server is still awaited must stop cleanly too.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pacers = {m: RequestPacer(m) for m in Marketplace}
    async with open_worker_http(settings, pacers) as http:
        activities = marketplace_activities(settings, http)
        client: Client | None = None
        attempt = 0
        while not stop.is_set():
            try:
                if client is None:  # once connected, the client reconnects by itself
                    client = await until_stopped(connect(settings, identity=identity), stop)
                await until_stopped(check_namespace(client, settings), stop)
                workers = build_workers(client, settings, activities)
                log_started(settings, identity)
                async with request_budget_keeper(client, settings, pacers, identity).running():
                    await start_order_readers(client, settings)
                    await run_workers(workers, stop)
                break
            except StopRequested:
                break
            except (RuntimeError, RPCError) as err:
                if not is_startup_failure(err):
                    raise
                if stop.is_set():
                    break
                attempt += 1
                await wait_before_retry(settings, err, attempt, stop)
    log.info("worker stopped")


def log_started(settings: Settings, identity: str) -> None:
    queues = [q for q in ALL_TASK_QUEUES if settings.polls(q)]
    log.info(
        "worker started identity=%s namespace=%s queues=%s requests_per_second=%s",
        identity,
        settings.temporal_namespace,
        ",".join(queues),
        {m.value: settings.rate_limit(m) for m in Marketplace},
    )
    if bind_address := metrics_bind_address(settings):
        log.info("sdk metrics at http://%s/metrics", bind_address)


def main() -> None:
    configure_logging()
    try:
        settings = load_settings()
        configure_tracing("marketplace-jobs-worker")
    except (ConfigurationError, TracingConfigurationError) as err:
        print(_configuration_error(err), file=sys.stderr)
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
        shutdown_tracing()
        exit_process(1)
    shutdown_tracing()
    exit_process(0)


def _configuration_error(err: BaseException) -> str:
    """One line naming the variable (ConfigurationError already says "configuration error")."""
    text = str(err)
    return text if text.startswith("configuration error") else f"configuration error: {text}"


if __name__ == "__main__":
    main()
