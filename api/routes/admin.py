"""Admin routes (bearer token): cancel and retry a job, list the workers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminOnly, Jobs, SettingsDep, TemporalClient
from api.problems import PROBLEM
from api.routes.jobs import view_response
from api.services.workers import describe_pollers
from domain.job import JobView

router = APIRouter(
    tags=["admin"],
    dependencies=[AdminOnly],
    responses={403: {"description": "Missing or wrong admin token.", **PROBLEM}},
)
JobIdPath = Annotated[str, Path(min_length=1, max_length=255)]


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


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
    jobs: Jobs, job_id: JobIdPath, body: Annotated[ReasonBody | None, Body()] = None
) -> Any:
    view = await jobs.cancel(job_id, (body.reason if body else None) or "cancelled by admin")
    return view_response(view)


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
    jobs: Jobs, job_id: JobIdPath, body: Annotated[ReasonBody | None, Body()] = None
) -> Any:
    view = await jobs.retry(job_id, (body.reason if body else None) or "retried by admin")
    return JSONResponse(
        view.model_dump(mode="json"), status_code=202, headers={"Location": f"/status/{job_id}"}
    )


@router.get("/admin/workers", summary="Pollers per task queue, with their last access time.")
async def list_workers(client: TemporalClient, settings: SettingsDep) -> dict[str, Any]:
    return await describe_pollers(client, settings)
