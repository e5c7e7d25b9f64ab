"""Job routes: start, status, provide_input, events."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from api.dependencies import get_gateway
from api.gateway import JobGateway
from api.idempotency import parse_idempotency_key
from api.schemas import ProvideInputRequest, StartJobRequest, StartJobResponse
from domain.job import JobEvent, JobView
from domain.status import SETTLED_JOB_STATUSES

router = APIRouter(tags=["jobs"])
Gateway = Annotated[JobGateway, Depends(get_gateway)]
JobIdPath = Annotated[str, Path(min_length=1, max_length=255, description="The job ID.")]
MAX_PREFER_WAIT = 300.0

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "/start_job",
    status_code=201,
    response_model=StartJobResponse,
    responses={
        200: {
            "description": "Same Idempotency-Key and body: the existing job.",
            "model": StartJobResponse,
        },
        400: {"description": "Malformed JSON or Idempotency-Key.", **PROBLEM},
        422: {
            "description": "Invalid listing, or Idempotency-Key reused with another body.",
            **PROBLEM,
        },
        503: {"description": "Temporal unavailable.", **PROBLEM},
    },
    summary="Start a job: it waits for a signed payment confirmation, then publishes.",
)
async def start_job(
    gateway: Gateway,
    response: Response,
    body: Annotated[StartJobRequest, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="Same key + same body = same job (200)."),
    ] = None,
) -> StartJobResponse:
    view, created = await gateway.start_job(body, parse_idempotency_key(idempotency_key))
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/status/{view.job_id}"
    return StartJobResponse.of(view)


@router.get(
    "/status/{job_id}",
    response_model=JobView,
    responses={404: {"description": "Unknown job.", **PROBLEM}},
    summary="The job view, from the workflow's status query.",
)
async def job_status(gateway: Gateway, job_id: JobIdPath) -> JobView:
    return await gateway.view(job_id)


@router.get(
    "/status",
    response_model=JobView,
    responses={404: {"description": "Unknown job.", **PROBLEM}},
    summary="MIP-003 form of the status route: `GET /status?job_id=…`.",
)
async def job_status_mip003(
    gateway: Gateway,
    job_id: Annotated[str, Query(min_length=1, max_length=255)],
) -> JobView:
    return await gateway.view(job_id)


@router.get(
    "/jobs/{job_id}/events",
    response_model=list[JobEvent],
    responses={404: {"description": "Unknown job.", **PROBLEM}},
    summary="Every transition of the job, ordered by seq.",
)
async def job_events(gateway: Gateway, job_id: JobIdPath) -> list[JobEvent]:
    return await gateway.events(job_id)


def _prefer_wait(prefer: str | None) -> float | None:
    if not prefer:
        return None
    match = re.search(r"(?:^|[;,\s])wait\s*=\s*(\d+(?:\.\d+)?)", prefer)
    return min(float(match.group(1)), MAX_PREFER_WAIT) if match else None


@router.post(
    "/provide_input",
    response_model=JobView,
    responses={
        202: {"description": "Accepted; the job is still running.", "model": JobView},
        403: {"description": "No valid signature.", **PROBLEM},
        404: {"description": "Unknown job.", **PROBLEM},
        409: {"description": "The job is not awaiting payment.", **PROBLEM},
        422: {"description": "Invalid body.", **PROBLEM},
    },
    summary="Deliver the signed payment confirmation, then wait for the outcome.",
)
async def provide_input(
    gateway: Gateway,
    body: ProvideInputRequest,
    prefer: Annotated[
        str | None, Header(description="RFC 7240, e.g. `wait=5`: how long to wait for the outcome.")
    ] = None,
) -> Any:
    handle = await gateway.provide_input(body)
    requested = _prefer_wait(prefer)
    wait = gateway.settings.provide_input_wait if requested is None else requested
    view = await gateway.wait_until_settled(handle, wait)
    headers = {"Location": f"/status/{view.job_id}"}
    if requested is not None:
        headers["Preference-Applied"] = f"wait={prefer_value(requested)}"
    settled = view.status in SETTLED_JOB_STATUSES
    return JSONResponse(
        view.model_dump(mode="json"), status_code=200 if settled else 202, headers=headers
    )


def prefer_value(seconds: float) -> str:
    return str(int(seconds)) if seconds == int(seconds) else str(seconds)
