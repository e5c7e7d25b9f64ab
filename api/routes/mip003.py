"""The MIP-003 surface for agent marketplaces: availability and input schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import TemporalClient
from api.input_schema import mip003_input_schema
from api.services.workers import availability
from domain.listing import Listing

router = APIRouter(tags=["MIP-003"])
_INPUT_SCHEMA = mip003_input_schema(Listing)


@router.get("/availability", summary="`available` while a worker polls the job queue.")
async def get_availability(client: TemporalClient) -> dict[str, Any]:
    return await availability(client)


@router.get("/input_schema", summary="The listing's fields in MIP-003 format (from the model).")
async def input_schema() -> dict[str, Any]:
    return _INPUT_SCHEMA
