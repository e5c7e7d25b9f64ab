"""Run the marketplace simulator in a background thread and drive its ``/__sim`` control routes.

Ready-made fixtures: import them into a ``conftest.py``
(``from tests.support.simulator import sim, simulator_url  # noqa: F401``):

- ``simulator_url`` (session): a simulator on ``http://127.0.0.1:<free port>``;
- ``sim``: a ``SimulatorControl`` on it, reset before the test.

Or use ``running_simulator()`` / ``SimulatorControl`` directly.

Point the code under test at it with ``load_settings(simulator_url=url)``: every marketplace
base URL derives from ``simulator_url`` unless ``<MARKETPLACE>_BASE_URL`` is set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from config.settings import Settings, load_settings
from simulator.app import create_app


@contextmanager
def running_simulator(
    settings: Settings | None = None, *, start_timeout: float = 10.0, app: FastAPI | None = None
) -> Iterator[str]:
    """Serve a fresh simulator on 127.0.0.1 (a free port) in a daemon thread; yield its URL.

    The simulator accepts the credentials in ``settings`` (default: the environment/defaults,
    which are also what ``load_settings()`` gives the activities). ``app``: serve this one
    (made with ``create_app``, its state filled by the test beforehand) instead.
    """
    app = app or create_app(settings or load_settings())
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="marketplace-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the marketplace simulator did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    """One simulator for the session (its state is cleared by the ``sim`` fixture)."""
    with running_simulator() as url:
        yield url


@pytest.fixture
async def sim(simulator_url: str) -> AsyncIterator[SimulatorControl]:
    """Control of the session's simulator, reset before each test."""
    async with SimulatorControl(simulator_url) as control:
        await control.reset()
        yield control


class SimulatorControl:
    """An async client for the simulator's control routes (``/__sim/...``)."""

    def __init__(self, base_url: str, http: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(base_url=self.base_url, timeout=10.0)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = await self.http.request(method, f"{self.base_url}/__sim{path}", json=json)
        response.raise_for_status()
        return response.json() if response.content else None

    async def reset(self) -> None:
        """Clear listings, faults, latency, config and calls."""
        await self._call("POST", "/reset")

    async def add_fault(
        self, marketplace: str, mode: str, operation: str | None = None, **options: Any
    ) -> dict[str, Any]:
        """Inject a fault. ``options``: status, retry_after, delay_ms, times (default 1)."""
        body = {"marketplace": marketplace, "mode": mode, "operation": operation, **options}
        result: dict[str, Any] = await self._call("POST", "/faults", body)
        return result

    async def expire_ebay_tokens(self) -> None:
        """Every eBay access token issued so far stops working (401 errorId 1001)."""
        await self._call("POST", "/ebay/expire_tokens")

    async def set_latency(self, delay_ms: int) -> None:
        await self._call("POST", "/latency", {"delay_ms": delay_ms})

    async def configure(self, **options: int) -> dict[str, Any]:
        """``vinted_activation_delay_ms`` and/or ``vinted_slots``."""
        result: dict[str, Any] = await self._call("POST", "/config", options)
        return result

    async def sell(self, marketplace: str, sku: str, quantity: int = 1) -> str:
        """A buyer purchases ``quantity`` of the SKU's live listing there (``POST
        /__sim/sales``); the order id."""
        body = {"marketplace": marketplace, "sku": sku, "quantity": quantity}
        result: dict[str, Any] = await self._call("POST", "/sales", body)
        return str(result["order_id"])

    async def listings(self) -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = await self._call("GET", "/listings")
        return result

    async def calls(
        self, marketplace: str | None = None, operation: str | None = None
    ) -> list[dict[str, Any]]:
        """The request log, optionally only one marketplace and/or operation."""
        entries: list[dict[str, Any]] = await self._call("GET", "/calls")
        return [
            e
            for e in entries
            if (marketplace is None or e["marketplace"] == marketplace)
            and (operation is None or e["operation"] == operation)
        ]

    async def live_listings(self, marketplace: str, sku: str) -> list[dict[str, Any]]:
        """The live listings of one SKU on one marketplace (at most one is the invariant),
        as the simulator marks them (``live``: a published eBay offer, an active Etsy
        listing, a Vinted item being processed or active; not one withdrawn or deleted).

        Vinted has no SKU field: there the activity's ``reference`` is ``<sku>-<key digest>``.
        """
        return [
            entry
            for entry in (await self.listings())[marketplace]
            if sku_of(marketplace, entry) == sku and entry["live"]
        ]

    async def drafts(self, marketplace: str) -> list[dict[str, Any]]:
        """Listings that exist but were never listed (an eBay offer never published, an Etsy
        draft): an orphan if no job finishes them. A withdrawn listing is not one."""
        return [entry for entry in (await self.listings())[marketplace] if entry["draft"]]


def sku_of(marketplace: str, entry: dict[str, Any]) -> str | None:
    """The SKU of a ``/__sim/listings`` entry (Vinted's from its reference ``<sku>-…``)."""
    if marketplace == "vinted":
        return str(entry.get("reference", "")).split("-", 1)[0]
    if marketplace == "etsy":
        return entry["skus"][0] if entry.get("skus") else None
    return entry.get("sku")


def live_on(simulator_url: str, sku: str) -> list[str]:
    """The marketplaces where ``sku`` is live now, from ``GET /__sim/listings`` (for tests
    that drive real processes without an event loop)."""
    listings = httpx.get(f"{simulator_url}/__sim/listings", timeout=10).json()
    return [
        marketplace
        for marketplace in ("ebay", "etsy", "vinted")
        for entry in listings[marketplace]
        if sku_of(marketplace, entry) == sku and entry["live"]
    ]
