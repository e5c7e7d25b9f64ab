"""Operating at scale (issue 16; CONTRACT.md "Operations"), admin only: find jobs and
listings, retry or cancel the jobs a filter matches, follow such an operation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AdminOnly, IdempotencyKey, Operations
from api.problems import PROBLEM
from api.services.job_search import JobPage, ListingPage
from domain.bulk import BulkAccepted, BulkRequest, OperationView
from domain.search_filters import JobFilter, ListingFilter

router = APIRouter(
    tags=["operations"],
    dependencies=[AdminOnly],
    responses={
        403: {"description": "Missing or wrong admin token.", **PROBLEM},
        422: {
            "description": "A bad filter value, an unknown parameter, a bad page_token.",
            **PROBLEM,
        },
    },
)


class Paging(BaseModel):
    limit: int = Field(default=100, ge=1, le=500, description="Rows per page, 1-500.")
    page_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="`next_page_token` of the page before.",
    )


class JobQuery(JobFilter, Paging):
    """``GET /jobs``'s query string: the filters, ``limit``, ``page_token``; nothing else."""

    model_config = ConfigDict(extra="forbid")

    def job_filter(self) -> JobFilter:
        return JobFilter.model_validate(self.model_dump(exclude={"limit", "page_token"}))


class ListingQuery(ListingFilter, Paging):
    model_config = ConfigDict(extra="forbid")

    def listing_filter(self) -> ListingFilter:
        return ListingFilter.model_validate(self.model_dump(exclude={"limit", "page_token"}))


@router.get(
    "/jobs",
    response_model=JobPage,
    summary="Find jobs: newest first, by status, SKU, marketplace, creation time (visibility).",
)
async def find_jobs(operations: Operations, query: Annotated[JobQuery, Query()]) -> JobPage:
    return await operations.jobs(query.job_filter(), query.limit, query.page_token)


@router.get(
    "/listings",
    response_model=ListingPage,
    summary="Find listings by status, a marketplace's state, sold out (visibility).",
)
async def find_listings(
    operations: Operations, query: Annotated[ListingQuery, Query()]
) -> ListingPage:
    return await operations.listings(query.listing_filter(), query.limit, query.page_token)


@router.post(
    "/jobs/bulk",
    status_code=202,
    response_model=BulkAccepted,
    responses={
        200: {"description": "Same Idempotency-Key and body: the operation it started."},
        422: {
            "description": "A bad filter or action, or Idempotency-Key reused with another body.",
            **PROBLEM,
        },
    },
    summary="Retry or cancel every job the filter matches, as a durable operation.",
)
async def bulk_action(
    operations: Operations,
    body: BulkRequest,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> BulkAccepted:
    accepted, started = await operations.start_bulk(body, idempotency_key)
    response.headers["Location"] = f"/operations/{accepted.operation_id}"
    if not started:
        response.status_code = 200
    return accepted


@router.get(
    "/operations/{operation_id}",
    response_model=OperationView,
    responses={404: {"description": "Unknown operation.", **PROBLEM}},
    summary="A bulk operation's progress: matched, applied, skipped, failed.",
)
async def operation_view(
    operations: Operations,
    operation_id: Annotated[str, Path(min_length=1, max_length=255)],
) -> OperationView:
    return await operations.view(operation_id)
