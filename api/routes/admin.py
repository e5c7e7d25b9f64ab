"""Admin routes (bearer token): cancel and retry a job, list the workers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.admin import require_admin
from api.dependencies import get_gateway
from api.gateway import JobGateway
from api.workers import describe_pollers
from domain.job import JobView
from domain.status import SETTLED_JOB_STATUSES

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
router = APIRouter(
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={403: {"description": "Missing or wrong admin token.", **PROBLEM}},
)
Gateway = Annotated[JobGateway, Depends(get_gateway)]
JobIdPath = Annotated[str, Path(min_length=1, max_length=255)]
ADMIN_WAIT_SECONDS = 10.0


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


def _view_response(view: JobView) -> JSONResponse:
    status = 200 if view.status in SETTLED_JOB_STATUSES else 202
    return JSONResponse(
        view.model_dump(mode="json"),
        status_code=status,
        headers={"Location": f"/status/{view.job_id}"},
    )


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobView,
    responses={
        404: {"description": "Unknown job.", **PROBLEM},
        409: {"description": "Already completed or cancelled.", **PROBLEM},
    },
    summary="Cancel a job; running marketplaces are cancelled, published ones reported.",
)
async def cancel_job(
    gateway: Gateway, job_id: JobIdPath, body: Annotated[ReasonBody | None, Body()] = None
) -> Any:
    handle = await gateway.cancel(job_id, (body.reason if body else None) or "cancelled by admin")
    return _view_response(await gateway.wait_until_settled(handle, ADMIN_WAIT_SECONDS))


@router.post(
    "/jobs/{job_id}/retry",
    response_model=JobView,
    status_code=202,
    responses={
        404: {"description": "Unknown job.", **PROBLEM},
        409: {"description": "Not failed, or no retries left.", **PROBLEM},
    },
    summary="Run a failed job's failed marketplaces again (while retries are left).",
)
async def retry_job(
    gateway: Gateway, job_id: JobIdPath, body: Annotated[ReasonBody | None, Body()] = None
) -> Any:
    view = await gateway.retry(job_id, (body.reason if body else None) or "retried by admin")
    return JSONResponse(
        view.model_dump(mode="json"), status_code=202, headers={"Location": f"/status/{job_id}"}
    )


@router.get("/admin/workers", summary="Pollers per task queue, with their last access time.")
async def list_workers(gateway: Gateway) -> dict[str, Any]:
    return await describe_pollers(gateway.client, gateway.settings)
