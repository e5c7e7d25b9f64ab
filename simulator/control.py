"""Test control routes under ``/__sim``: listings, faults, latency, config, calls, reset."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from simulator.faults import FaultRule
from simulator.pipeline import served_operations, sim_state

router = APIRouter(prefix="/__sim", tags=["simulator control"])


class LatencyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay_ms: int = Field(ge=0, le=600_000)


class ConfigBody(BaseModel):
    """Simulator tunables; omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    vinted_activation_delay_ms: int | None = Field(default=None, ge=0, le=600_000)
    vinted_slots: int | None = Field(default=None, ge=0, le=1_000_000)


@router.get("/listings")
async def listings(request: Request) -> dict[str, list[dict[str, Any]]]:
    """Every listing per marketplace with its SKU (Vinted: reference), id and state."""
    return sim_state(request).listings_view()


@router.post("/ebay/expire_tokens")
async def expire_ebay_tokens(request: Request) -> dict[str, int]:
    """Make every eBay access token issued so far invalid (the next call gets 401 1001)."""
    return {"expired": sim_state(request).expire_ebay_tokens()}


@router.post("/faults", status_code=201)
async def add_fault(request: Request, rule: FaultRule) -> dict[str, Any]:
    """A fault rule; ``operation`` is an official operationId (Vinted: its name) that this
    simulator serves, else 422 (a rule that can never match is a test's silent mistake)."""
    if rule.operation is not None:
        served = served_operations(request.app)[rule.marketplace]
        if rule.operation not in served:
            message = (
                f"operation {rule.operation!r} is not simulated for {rule.marketplace.value}; "
                f"served: {', '.join(sorted(served))}"
            )
            error = {"type": "value_error", "loc": ("body", "operation"), "msg": message}
            raise RequestValidationError([{**error, "input": rule.operation}])
    return sim_state(request).faults.add(rule).view()


@router.get("/faults")
async def faults(request: Request) -> list[dict[str, Any]]:
    return sim_state(request).faults.view()


@router.delete("/faults", status_code=204)
async def clear_faults(request: Request) -> None:
    sim_state(request).faults.clear()


@router.post("/latency")
async def set_latency(request: Request, body: LatencyBody) -> dict[str, int]:
    """A fixed delay before every marketplace call is answered."""
    sim_state(request).latency_ms = body.delay_ms
    return {"delay_ms": body.delay_ms}


@router.get("/config")
async def get_config(request: Request) -> dict[str, Any]:
    return vars(sim_state(request).config)


@router.post("/config")
async def set_config(request: Request, body: ConfigBody) -> dict[str, Any]:
    """Vinted's activation delay (pending -> active) and its number of item slots."""
    config = sim_state(request).config
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(config, name, value)
    return vars(config)


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    """Clear listings, faults, latency, config and the call log; release held connections."""
    sim_state(request).reset()
    return {"reset": True}


@router.get("/calls")
async def calls(request: Request) -> list[dict[str, Any]]:
    """Every marketplace call, oldest first: at, marketplace, operation, method, path, status."""
    return sim_state(request).calls
