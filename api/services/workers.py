"""Who polls which task queue: ``GET /admin/workers`` and MIP-003 ``GET /availability``."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from config.settings import Settings
from domain.marketplaces import (
    CALLBACK_TASK_QUEUE,
    JOB_TASK_QUEUE,
    Marketplace,
    marketplace_task_queue,
)
from domain.timestamps import format_utc


async def describe_pollers(client: Client, settings: Settings) -> dict[str, Any]:
    """For ``jobs``, each ``marketplace-*`` queue and ``callbacks``: pollers (identity, last
    access) and the configured rate limit."""
    queues: list[tuple[str, int, float | None]] = [
        (JOB_TASK_QUEUE, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, None)
    ]
    queues += [
        (marketplace_task_queue(m), TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, settings.rate_limit(m))
        for m in Marketplace
    ]
    queues.append((CALLBACK_TASK_QUEUE, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, None))
    result: dict[str, Any] = {}
    for name, queue_type, rate_limit in queues:
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=name),
                task_queue_type=queue_type,  # type: ignore[arg-type]
            )
        )
        result[name] = {
            "kind": "workflow"
            if queue_type == TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
            else "activity",
            "configured_rate_limit_per_second": rate_limit,
            "pollers": [
                {
                    "identity": poller.identity,
                    "last_access_time": format_utc(poller.last_access_time.ToDatetime())
                    if poller.HasField("last_access_time")
                    else None,
                    "rate_per_second": poller.rate_per_second or None,
                }
                for poller in response.pollers
            ],
        }
    return {"task_queues": result}


async def availability(client: Client) -> dict[str, Any]:
    """MIP-003 availability: ``available`` while a worker polls the job queue."""
    try:
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=JOB_TASK_QUEUE),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
    except Exception as err:  # an unreachable cluster is "unavailable", not an error
        return {
            "status": "unavailable",
            "type": "masumi-agent",
            "message": f"Temporal is not reachable ({type(err).__name__})",
        }
    if not response.pollers:
        return {
            "status": "unavailable",
            "type": "masumi-agent",
            "message": f"no worker polls the {JOB_TASK_QUEUE!r} task queue",
        }
    return {
        "status": "available",
        "type": "masumi-agent",
        "message": f"{len(response.pollers)} worker poller(s) on {JOB_TASK_QUEUE!r}",
    }
