"""create_app(): the FastAPI application, its Temporal client and services (lifespan)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api.deps import Services
from api.limits import BodySizeLimit
from api.metrics import install_metrics
from api.problems import install_problem_handlers
from api.routes import (
    admin,
    batches,
    codec,
    health,
    jobs,
    listings,
    mip003,
    operations,
    vinted_webhooks,
    webhooks,
)
from api.services.batches import BatchService
from api.services.jobs import JobService
from api.services.listings import ListingService
from api.services.operations import OperationService
from api.services.payments import Payments
from api.services.temporal import Executions
from api.services.vinted_sales import VintedSales
from config.codec import payload_codec
from config.settings import Settings, load_settings
from config.temporal import connect
from config.tracing import instrument_app
from domain.signatures import SignatureVerifier

log = logging.getLogger("api")
CODEC_MAX_BODY_BYTES = 16 * 1_048_576
BATCH_MAX_BODY_BYTES = 64 * 1_048_576


def build_services(client: Client, settings: Settings) -> Services:
    """The services around one Temporal client (the signature keys decoded once)."""
    executions = Executions(client, settings)
    payments = Payments(
        executions, SignatureVerifier.from_keys(settings.signing_keys(), settings.public_keys())
    )
    return Services(
        client=client,
        jobs=JobService(executions, payments, settings),
        batches=BatchService(executions, payments, settings),
        payments=payments,
        listings=ListingService(executions),
        vinted_sales=VintedSales(executions, settings),
        operations=OperationService(executions, settings),
    )


def create_app(client: Client | None = None, settings: Settings | None = None) -> FastAPI:
    """The gateway. Tests pass their own client and settings; the process reads the env."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        temporal = client or await connect(
            settings,
            identity="marketplace-jobs-api",
            lazy=True,
            retry_seconds=settings.temporal_rpc_retry_seconds,
        )
        app.state.services = build_services(temporal, settings)
        if not settings.signing_secrets and not settings.signing_public_keys:
            log.warning(
                "no SIGNING_SECRETS or SIGNING_PUBLIC_KEYS set: every signature will be rejected"
            )
        yield
        app.state.services = None

    app = FastAPI(
        title="Marketplace Jobs",
        version="0.1.0",
        summary="Durable jobs that publish one listing to eBay, Etsy and Vinted, on Temporal.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.payload_codec = payload_codec(settings)
    app.state.services = None
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
    for module in (
        jobs,
        webhooks,
        vinted_webhooks,
        batches,
        listings,
        mip003,
        admin,
        operations,
        health,
        codec,
    ):
        app.include_router(module.router)
    instrument_app(app)  # when OTEL_* turned tracing on (config/tracing.py)
    return app
