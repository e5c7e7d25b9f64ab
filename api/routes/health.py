"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from api.deps import OptionalClient
from api.problems import PROBLEM, ProblemError

router = APIRouter(tags=["health"])
READY_TIMEOUT = 3.0


@router.get("/health", summary="200 while the process runs.")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="200 when Temporal answers, else 503.",
    responses={503: {"description": "Temporal is not reachable.", **PROBLEM}},
)
async def ready(client: OptionalClient) -> dict[str, str]:
    if client is None:
        raise ProblemError(503, "not connected to Temporal")
    try:
        healthy = await asyncio.wait_for(client.service_client.check_health(), READY_TIMEOUT)
    except Exception as err:  # any transport failure means "not ready"
        raise ProblemError(503, f"Temporal is not reachable: {type(err).__name__}") from None
    if not healthy:
        raise ProblemError(503, "Temporal reports it is not serving")
    return {"status": "ready"}
