"""The simulator app factory: one in-memory state per app, three marketplaces, control routes."""

from __future__ import annotations

from fastapi import FastAPI

from config.settings import Settings, load_settings
from simulator import (
    control,
    ebay,
    ebay_oauth,
    etsy,
    etsy_inventory,
    etsy_oauth,
    etsy_receipts,
    images,
    sales,
    vinted,
    vinted_changes,
    vinted_webhooks,
)
from simulator.state import SimState


def create_app(settings: Settings | None = None) -> FastAPI:
    """A fresh simulator. Credentials it accepts come from ``settings`` (env by default)."""
    settings = settings or load_settings()
    app = FastAPI(
        title="Marketplace simulator",
        description="Local stand-in for the eBay, Etsy and Vinted listing APIs, with faults.",
        version="1",
    )
    app.state.sim = SimState(settings)
    for module in (
        ebay,
        ebay_oauth,
        etsy,
        etsy_inventory,
        etsy_receipts,
        etsy_oauth,
        vinted,
        vinted_changes,
        vinted_webhooks,
        images,
        control,
        sales,
    ):
        app.include_router(module.router)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
