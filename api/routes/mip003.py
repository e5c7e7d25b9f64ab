"""The MIP-003 surface for agent marketplaces: availability and input schema."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from api.dependencies import get_gateway
from api.gateway import JobGateway
from api.input_schema import mip003_input_schema
from domain.listing import Listing
from domain.marketplaces import JOB_TASK_QUEUE

router = APIRouter(tags=["MIP-003"])
_INPUT_SCHEMA = mip003_input_schema(Listing)


@router.get("/availability", summary="`available` while a worker polls the job queue.")
async def availability(gateway: Annotated[JobGateway, Depends(get_gateway)]) -> dict[str, Any]:
    client = gateway.client
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


@router.get("/input_schema", summary="The listing's fields in MIP-003 format (from the model).")
async def input_schema() -> dict[str, Any]:
    return _INPUT_SCHEMA
