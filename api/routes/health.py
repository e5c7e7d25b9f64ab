"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.problems import ProblemError

router = APIRouter(tags=["health"])


@router.get("/health", summary="200 while the process runs.")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _gateway_client(request: Request):  # type: ignore[no-untyped-def]
    gateway = getattr(request.app.state, "gateway", None)
    return gateway.client if gateway else None


@router.get(
    "/ready",
    summary="200 when Temporal answers, else 503.",
    responses={
        503: {
            "description": "Temporal is not reachable.",
            "content": {"application/problem+json": {}},
        }
    },
)
async def ready(client: Annotated[object, Depends(_gateway_client)]) -> dict[str, str]:
    if client is None:
        raise ProblemError(503, "not connected to Temporal")
    try:
        healthy = await asyncio.wait_for(client.service_client.check_health(), timeout=3)  # type: ignore[attr-defined]
    except Exception as err:  # any transport failure means "not ready"
        raise ProblemError(503, f"Temporal is not reachable: {type(err).__name__}") from None
    if not healthy:
        raise ProblemError(503, "Temporal reports it is not serving")
    return {"status": "ready"}
