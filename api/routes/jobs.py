"""Job routes: start, status, events, provide_input (HTTP only; the work is in services/jobs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response
from fastapi.responses import JSONResponse

from api.deps import IdempotencyKey, Jobs, PreferWait, SettingsDep
from api.problems import PROBLEM
from api.schemas import (
    ProvideFieldsRequest,
    ProvideFieldsResponse,
    ProvideInputBody,
    StartJobRequest,
    StartJobResponse,
)
from domain.job import JobEvent, JobView
from domain.status import SETTLED_JOB_STATUSES

router = APIRouter(tags=["jobs"])
JobIdPath = Annotated[str, Path(min_length=1, max_length=255, description="The job ID.")]


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
    summary="Start a job: it waits for a signed payment confirmation, then publishes. The "
    "answer is the job view and MIP-003's start response in one object.",
)
async def start_job(
    jobs: Jobs,
    settings: SettingsDep,
    response: Response,
    body: Annotated[StartJobRequest, Body()],
    idempotency_key: IdempotencyKey,
) -> StartJobResponse:
    view, created = await jobs.start(body, idempotency_key)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/status/{view.job_id}"
    return StartJobResponse.of(view, settings)


@router.get(
    "/status/{job_id}",
    response_model=JobView,
    responses={404: {"description": "Unknown job.", **PROBLEM}},
    summary="The job view, from the workflow's status query.",
)
async def job_status(jobs: Jobs, job_id: JobIdPath) -> JobView:
    return await jobs.view(job_id)


@router.get(
    "/jobs/{job_id}/events",
    response_model=list[JobEvent],
    responses={404: {"description": "Unknown job.", **PROBLEM}},
    summary="Every transition of the job, ordered by seq.",
)
async def job_events(jobs: Jobs, job_id: JobIdPath) -> list[JobEvent]:
    return await jobs.events(job_id)


@router.post(
    "/provide_input",
    response_model=JobView | ProvideFieldsResponse,
    responses={
        200: {
            "description": "Signed payment: the job settled (its view). MIP-003 input: taken, "
            "`{input_hash, signature}`.",
            "model": JobView | ProvideFieldsResponse,
        },
        202: {"description": "Accepted; the job is still running.", "model": JobView},
        403: {"description": "No valid signature.", **PROBLEM},
        404: {"description": "Unknown job.", **PROBLEM},
        409: {
            "description": "Signed payment: the job is not awaiting payment. MIP-003 input: "
            "the job is not awaiting input, or `status_id` is not its question.",
            **PROBLEM,
        },
        422: {"description": "Invalid body, or input_data that does not fit.", **PROBLEM},
        503: {"description": "Temporal or its workers unavailable; retry.", **PROBLEM},
    },
    summary="Deliver the signed payment confirmation, then wait for the outcome; or, MIP-003, "
    "the fields an awaiting_input job asks for.",
)
async def provide_input(
    jobs: Jobs, settings: SettingsDep, body: ProvideInputBody, wait: PreferWait
) -> Any:
    """Signed payment (``data``, ``signature``): exactly one of several different inputs is
    taken; re-sending the input that was taken gets the same answer as the first time
    (200/202 with the view). MIP-003 input (``status_id``, ``input_data``): 200
    ``{input_hash, signature}``; the job resumes (issue 15)."""
    request = body.root
    if isinstance(request, ProvideFieldsRequest):
        return await jobs.provide_fields(request)
    await jobs.provide_input(request)
    seconds = settings.provide_input_wait if wait is None else wait
    view = await jobs.wait_until_settled(request.job_id, seconds)
    headers = {"Location": f"/status/{view.job_id}"}
    if wait is not None:
        headers["Preference-Applied"] = f"wait={wait:g}"
    return view_response(view, headers)


def view_response(view: JobView, headers: dict[str, str] | None = None) -> JSONResponse:
    """200 once the job settled (completed, failed, cancelled), else 202."""
    settled = view.status in SETTLED_JOB_STATUSES
    return JSONResponse(
        view.model_dump(mode="json"),
        status_code=200 if settled else 202,
        headers=headers or {"Location": f"/status/{view.job_id}"},
    )
