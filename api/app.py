"""create_app(): the FastAPI application, its Temporal client (lifespan) and error handling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.batch_gateway import BatchGateway
from api.gateway import JobGateway
from api.limits import BodySizeLimit
from api.metrics import install_metrics
from api.problems import install_problem_handlers, problem_response
from api.routes import admin, batches, health, jobs, mip003, webhooks
from api.routes.codec import router as codec_router
from config.codec import payload_codec
from config.settings import Settings, load_settings
from config.temporal import connect, is_connect_failure

log = logging.getLogger("api")
CODEC_MAX_BODY_BYTES = 16 * 1_048_576
BATCH_MAX_BODY_BYTES = 64 * 1_048_576


def create_app(client: Client | None = None, settings: Settings | None = None) -> FastAPI:
    """The gateway. Tests pass their own client and settings; the process reads the env."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        temporal = client or await connect(settings, identity="marketplace-jobs-api", lazy=True)
        app.state.gateway = JobGateway(temporal, settings)
        app.state.batches = BatchGateway(temporal, settings)
        if not settings.signing_secrets and not settings.signing_public_keys:
            log.warning(
                "no SIGNING_SECRETS or SIGNING_PUBLIC_KEYS set: every signature will be rejected"
            )
        yield
        app.state.gateway = None
        app.state.batches = None

    app = FastAPI(
        title="Marketplace Jobs",
        version="0.1.0",
        summary="Durable jobs that publish one listing to eBay, Etsy and Vinted, on Temporal.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.payload_codec = payload_codec(settings)
    app.state.gateway = None
    install_problem_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        # Temporal payloads reach 2 MB; the codec routes carry several of them, base64-encoded.
        per_prefix={
            "/codec/": max(settings.max_body_bytes, CODEC_MAX_BODY_BYTES),
            # 10 000 listings with long descriptions.
            "/batches": max(settings.max_body_bytes, BATCH_MAX_BODY_BYTES),
        },
    )
    install_metrics(app)

    @app.exception_handler(RPCError)
    async def _temporal_unavailable(_request, exc: RPCError):  # type: ignore[no-untyped-def]
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return problem_response(503, "Temporal is unavailable; retry later")
        log.error("temporal error %s", exc.status.name)
        return problem_response(502, f"Temporal answered {exc.status.name}")

    @app.exception_handler(RuntimeError)
    async def _runtime(request, exc: RuntimeError):  # type: ignore[no-untyped-def]
        if is_connect_failure(exc):
            return problem_response(503, "Temporal is unreachable; retry later")
        log.error("unhandled error on %s %s: RuntimeError", request.method, request.url.path)
        return problem_response(500, "internal error; the request was not applied")

    app.include_router(jobs.router)
    app.include_router(webhooks.router)
    app.include_router(batches.router)
    app.include_router(mip003.router)
    app.include_router(admin.router)
    app.include_router(health.router)
    app.include_router(codec_router)
    return app
