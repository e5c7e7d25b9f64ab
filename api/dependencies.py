"""FastAPI dependencies: the gateway and the settings built in the app's lifespan."""

from __future__ import annotations

from typing import cast

from fastapi import Request

from api.batch_gateway import BatchGateway
from api.gateway import JobGateway
from api.problems import ProblemError
from config.settings import Settings


def get_gateway(request: Request) -> JobGateway:
    gateway = getattr(request.app.state, "gateway", None)
    if gateway is None:
        raise ProblemError(503, "not connected to Temporal yet")
    return cast(JobGateway, gateway)


def get_batches(request: Request) -> BatchGateway:
    batches = getattr(request.app.state, "batches", None)
    if batches is None:
        raise ProblemError(503, "not connected to Temporal yet")
    return cast(BatchGateway, batches)


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)
