"""Batch routes: create (many listings), pay once, watch progress, cancel (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response
from fastapi.responses import JSONResponse

from api.deps import AdminOnly, Batches, IdempotencyKey
from api.problems import PROBLEM, ProblemError
from api.schemas import BatchCreated, BatchProvideInputRequest, CreateBatchRequest
from domain.batch import child_job_id

router = APIRouter(tags=["batches"])
BatchIdPath = Annotated[str, Path(min_length=1, max_length=255)]


@router.post(
    "/batches",
    status_code=201,
    response_model=BatchCreated,
    responses={
        200: {"description": "Same Idempotency-Key and body: the existing batch."},
        422: {"description": "Invalid entries (every one named), or a reused key.", **PROBLEM},
    },
    summary="Start a batch: one job per listing, all paid by one signed input.",
)
async def create_batch(
    batches: Batches,
    response: Response,
    body: Annotated[CreateBatchRequest, Body()],
    idempotency_key: IdempotencyKey,
) -> BatchCreated:
    batch_id, created = await batches.create(body.jobs, idempotency_key)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/batches/{batch_id}"
    return BatchCreated(
        batch_id=batch_id, job_ids=[child_job_id(batch_id, i) for i in range(len(body.jobs))]
    )


@router.get(
    "/batches/{batch_id}",
    responses={404: {"description": "Unknown batch.", **PROBLEM}},
    summary="Status, progress (0-100, share of jobs finished), counts per status, job IDs.",
)
async def get_batch(batches: Batches, batch_id: BatchIdPath) -> dict[str, Any]:
    return await batches.view(batch_id)


@router.post(
    "/batches/{batch_id}/provide_input",
    status_code=202,
    responses={
        403: {"description": "No valid signature.", **PROBLEM},
        404: {"description": "Unknown batch.", **PROBLEM},
        409: {"description": "The batch is not awaiting payment.", **PROBLEM},
        422: {"description": "Invalid body, or batch_id differs from the path.", **PROBLEM},
    },
    summary="Pay a batch once: its jobs are released, BATCH_CONCURRENCY at a time.",
)
async def provide_batch_input(
    batches: Batches, batch_id: BatchIdPath, body: BatchProvideInputRequest
) -> Any:
    if body.batch_id != batch_id:
        raise ProblemError(422, "batch_id in the body must match the path")
    await batches.provide_input(body)
    return JSONResponse(
        await batches.view(batch_id), status_code=202, headers={"Location": f"/batches/{batch_id}"}
    )


@router.post(
    "/batches/{batch_id}/cancel",
    status_code=202,
    dependencies=[AdminOnly],
    responses={
        403: {"description": "Missing or wrong admin token.", **PROBLEM},
        404: {"description": "Unknown batch.", **PROBLEM},
        409: {"description": "Already finished.", **PROBLEM},
    },
    summary="Cancel a batch (admin): every unfinished job of it is cancelled.",
)
async def cancel_batch(batches: Batches, batch_id: BatchIdPath) -> Any:
    await batches.cancel(batch_id, "batch cancelled by admin")
    return JSONResponse(await batches.view(batch_id), status_code=202)
