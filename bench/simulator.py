"""The simulator's control routes (``/__sim``) as the benchmark and the soak use them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

LIVE_STATES = {"ebay": {"PUBLISHED"}, "etsy": {"active"}, "vinted": {"pending", "active"}}
"""States that count as a live listing (as in tests/support/simulator.py)."""
DRAFT_STATES = {"ebay": {"UNPUBLISHED"}, "etsy": {"draft"}, "vinted": set[str]()}
VINTED_SLOTS = 1_000_000
"""The simulator's maximum; its default (500 Vinted items) would fail a long run."""


class SimulatorControl:
    def __init__(self, base_url: str) -> None:
        self._http = httpx.AsyncClient(base_url=f"{base_url}/__sim", timeout=120, trust_env=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = await self._http.request(method, path, json=json)
        response.raise_for_status()
        return response.json()

    async def prepare(self, latency_ms: int) -> dict[str, Any]:
        """Fixed latency on every marketplace call, and room for every Vinted item."""
        await self._call("POST", "/latency", {"delay_ms": latency_ms})
        config: dict[str, Any] = await self._call("POST", "/config", {"vinted_slots": VINTED_SLOTS})
        return {"delay_ms": latency_ms, **config}

    async def reset(self, latency_ms: int) -> dict[str, Any]:
        """Forget every listing and call (the simulator's lookups scan all of them), then
        configure again."""
        await self._call("POST", "/reset")
        return await self.prepare(latency_ms)

    async def calls(self) -> list[dict[str, Any]]:
        """Every marketplace call since the last reset, oldest first (simulator/control.py)."""
        result: list[dict[str, Any]] = await self._call("GET", "/calls")
        return result

    async def sell(self, marketplace: str, sku: str, quantity: int = 1) -> None:
        """A buyer buys ``quantity`` of ``sku`` on ``marketplace`` (simulator/sales.py)."""
        await self._call(
            "POST", "/sales", {"marketplace": marketplace, "sku": sku, "quantity": quantity}
        )

    async def listings(self) -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = await self._call("GET", "/listings")
        return result


def sku_of(marketplace: str, entry: dict[str, Any]) -> str | None:
    """Vinted has no SKU field: its ``reference`` is ``<sku>-<digest of the idempotency key>``."""
    if marketplace == "vinted":
        return str(entry.get("reference", "")).split("-", 1)[0]
    if marketplace == "etsy":
        return entry["skus"][0] if entry.get("skus") else None
    return entry.get("sku")


def state_of(entry: dict[str, Any]) -> str:
    return str(entry.get("status") or entry.get("state"))


@dataclass(frozen=True)
class ListingAudit:
    live: int
    duplicates: list[dict[str, Any]]  # (marketplace, sku) with more than one live listing
    missing: list[dict[str, Any]]  # (marketplace, sku) expected live, none found
    drafts: int  # unpublished eBay offers and Etsy drafts left behind


def audit_listings(
    listings: dict[str, list[dict[str, Any]]], expected: dict[str, list[str]]
) -> ListingAudit:
    """Count live listings per (marketplace, SKU); ``expected`` maps SKU -> marketplaces."""
    live: Counter[tuple[str, str]] = Counter()
    drafts = 0
    for marketplace, entries in listings.items():
        for entry in entries:
            state = state_of(entry)
            if state in LIVE_STATES.get(marketplace, set()):
                live[(marketplace, sku_of(marketplace, entry) or "")] += 1
            elif state in DRAFT_STATES.get(marketplace, set()):
                drafts += 1
    duplicates = [
        {"marketplace": m, "sku": sku, "live": n} for (m, sku), n in sorted(live.items()) if n > 1
    ]
    missing = [
        {"marketplace": m, "sku": sku}
        for sku, marketplaces in expected.items()
        for m in marketplaces
        if live[(m, sku)] == 0
    ]
    return ListingAudit(sum(live.values()), duplicates, missing, drafts)
