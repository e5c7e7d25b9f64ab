"""The MIP-003 surface for agent marketplaces (Masumi): availability, the input schema, the
job's status in MIP terms, a demo. ``POST /start_job`` answers MIP-003 too (routes/jobs.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Jobs, TemporalClient
from api.problems import PROBLEM
from api.schemas import EXAMPLE_START_JOB, DemoResponse
from api.services.workers import availability
from domain.job import MarketplaceListing
from domain.listing import Listing
from domain.listing_form import form_values, listing_form_schema
from domain.marketplaces import Marketplace
from domain.mip003 import MipStatusView, result_text

router = APIRouter(tags=["MIP-003"])
_INPUT_SCHEMA = listing_form_schema()
_DEMO = DemoResponse(
    input=form_values(Listing.model_validate(EXAMPLE_START_JOB["input_data"])),
    output={
        "result": result_text(
            {
                Marketplace.EBAY: MarketplaceListing(
                    listing_id="110000000001", listing_url="https://www.ebay.de/itm/110000000001"
                ),
                Marketplace.ETSY: MarketplaceListing(
                    listing_id="1000000001", listing_url="https://www.etsy.com/listing/1000000001"
                ),
                Marketplace.VINTED: MarketplaceListing(
                    listing_id="5000000001", listing_url="https://www.vinted.de/items/5000000001"
                ),
            }
        )
    },
)


@router.get("/availability", summary="`available` while a worker polls the job queue.")
async def get_availability(client: TemporalClient) -> dict[str, Any]:
    return await availability(client)


@router.get(
    "/input_schema",
    summary="The listing as a flat MIP-003 form (Attachment 01), from the listing model; "
    "`POST /start_job` takes its values as `input_data`.",
)
async def input_schema() -> dict[str, Any]:
    return _INPUT_SCHEMA


@router.get(
    "/status",
    response_model=MipStatusView,
    response_model_exclude_none=True,
    responses={404: {"description": "Unknown job.", **PROBLEM}},
    summary="MIP-003 status: `id` (of this status), `status` among awaiting_payment, "
    "awaiting_input, running, completed, failed (a cancelled job is failed, why in "
    "`message`), `result` (listing URLs) once completed. The full view: /status/{job_id}.",
)
async def mip_status(
    jobs: Jobs, job_id: Annotated[str, Query(min_length=1, max_length=255)]
) -> MipStatusView:
    return await jobs.mip_status(job_id)


@router.get("/demo", summary="MIP-003 demo: an example input and the result it gives.")
async def demo() -> DemoResponse:
    return _DEMO
