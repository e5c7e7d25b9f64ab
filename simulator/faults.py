"""Fault rules for the simulator: what to break, how, and for how many matching calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches
from enum import StrEnum
from itertools import count
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.marketplaces import Marketplace
from simulator.spec import operation_id, operation_ids

VINTED_OPERATIONS: frozenset[str] = frozenset(
    {
        "create_items",
        "update_items",
        "delete_items",
        "list_items",
        "item_status",
        "get_ontologies",
        "create_webhook",
        "list_webhooks",
    }
)
"""Vinted publishes no OpenAPI document, so no operationIds: these are the simulator's names for
its calls (CreateItems, UpdateItems, DeleteItems, GetItems, item status by id, GetOntologies,
webhooks), README "Vinted assumptions"."""

SPEC_DOCUMENTS: dict[Marketplace, str] = {
    Marketplace.EBAY: "eBay's Sell Inventory, Fulfillment, Taxonomy, Metadata or Notification API",
    Marketplace.ETSY: "Etsy Open API v3",
}


def official_operation(marketplace: Marketplace, label: str, method: str, url: str) -> str:
    """The operation a call is logged and matched under: for eBay and Etsy the official
    operationId, found in the spec by method and path (``POST .../offer`` -> ``createOffer``);
    for Vinted the simulator's own name ``label``. A route no spec operation matches keeps
    ``label`` (and no fault rule can name it)."""
    if marketplace not in SPEC_DOCUMENTS:
        return label
    return operation_id(method, url) or label


def known_operations(marketplace: Marketplace) -> frozenset[str]:
    """Every name a fault rule may give: the official operationIds, or Vinted's names."""
    if marketplace not in SPEC_DOCUMENTS:
        return VINTED_OPERATIONS
    return operation_ids(marketplace)


def unknown_operation_message(marketplace: Marketplace, operation: str) -> str:
    known = known_operations(marketplace)
    where = SPEC_DOCUMENTS.get(marketplace)
    message = f"unknown operation {operation!r} for {marketplace.value}: " + (
        f"not an operationId of {where}" if where else f"known: {', '.join(sorted(known))}"
    )
    close = get_close_matches(operation, known, n=3, cutoff=0.6)
    return message + (f"; did you mean {', '.join(close)}?" if close else "")


TIMEOUT_DEFAULT_DELAY_MS = 310_000
"""How long a ``timeout`` fault holds the connection by default: longer than any client
timeout the settings allow (300 s). ``POST /__sim/reset`` releases held connections early."""


class FaultMode(StrEnum):
    ERROR = "error"
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    GHOST_WRITE = "ghost_write"
    AUTH = "auth"
    VALIDATION = "validation"


_DEFAULT_STATUS: dict[FaultMode, int] = {
    FaultMode.ERROR: 500,
    FaultMode.RATE_LIMIT: 429,
    FaultMode.TIMEOUT: 504,
    FaultMode.GHOST_WRITE: 500,
    FaultMode.AUTH: 401,
    FaultMode.VALIDATION: 400,
}

_ALLOWED_STATUS: dict[FaultMode, range] = {
    FaultMode.ERROR: range(500, 600),
    FaultMode.RATE_LIMIT: range(429, 430),
    FaultMode.TIMEOUT: range(500, 600),
    FaultMode.GHOST_WRITE: range(500, 600),
    FaultMode.AUTH: range(401, 404),
    FaultMode.VALIDATION: range(400, 500),
}


class FaultRule(BaseModel):
    """Body of ``POST /__sim/faults``. ``times`` omitted = 1; ``0`` or ``null`` = until reset."""

    model_config = ConfigDict(extra="forbid")

    marketplace: Marketplace
    operation: str | None = Field(
        default=None,
        description="The official operationId (eBay, Etsy) or Vinted's name; None: every one.",
    )
    mode: FaultMode
    status: int | None = None
    retry_after: int | None = Field(default=None, ge=0, le=86_400)
    delay_ms: int | None = Field(default=None, ge=0, le=600_000)
    times: int | None = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.operation is not None and self.operation not in known_operations(self.marketplace):
            raise ValueError(unknown_operation_message(self.marketplace, self.operation))
        allowed = _ALLOWED_STATUS[self.mode]
        if self.status is not None and self.status not in allowed:
            raise ValueError(
                f"status {self.status} does not fit mode {self.mode.value} "
                f"({allowed.start}-{allowed.stop - 1})"
            )
        return self

    @property
    def http_status(self) -> int:
        return self.status if self.status is not None else _DEFAULT_STATUS[self.mode]

    @property
    def retry_after_seconds(self) -> int:
        return self.retry_after if self.retry_after is not None else 1

    @property
    def hold_seconds(self) -> float:
        delay = self.delay_ms if self.delay_ms is not None else TIMEOUT_DEFAULT_DELAY_MS
        return delay / 1000


@dataclass
class ActiveFault:
    fault_id: int
    rule: FaultRule
    remaining: int | None
    hits: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "fault_id": self.fault_id,
            **self.rule.model_dump(mode="json"),
            "remaining": self.remaining,
            "hits": self.hits,
        }


@dataclass
class FaultBook:
    """The active faults, matched in the order they were added."""

    faults: list[ActiveFault] = field(default_factory=list)
    _ids: count[int] = field(default_factory=lambda: count(1))

    def add(self, rule: FaultRule) -> ActiveFault:
        remaining = rule.times if rule.times else None
        fault = ActiveFault(fault_id=next(self._ids), rule=rule, remaining=remaining)
        self.faults.append(fault)
        return fault

    def take(self, marketplace: Marketplace, operation: str) -> FaultRule | None:
        """The first fault matching this call, counted as hit (and dropped when used up)."""
        for fault in self.faults:
            rule = fault.rule
            if rule.marketplace is not marketplace:
                continue
            if rule.operation is not None and rule.operation != operation:
                continue
            fault.hits += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
            return rule
        return None

    def clear(self) -> None:
        self.faults.clear()

    def view(self) -> list[dict[str, Any]]:
        return [fault.view() for fault in self.faults]
