"""Fixtures for the eBay adapter tests: a record of what the adapter sent to eBay, stand-ins
for some of real eBay's answers, and a clock the test moves.

Every exchange is also judged by the official documents, as in every test
(``tests/support/spec_judge.py``). ``wire`` and ``ebay_http`` are imported by
``tests/activities/conftest.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from config.settings import Settings

Responder = Callable[[httpx.Request], httpx.Response | None]
"""A stand-in for an answer of real eBay: a response, or None to let the simulator answer."""


@dataclass
class Wire:
    """What went over the wire to eBay in one test, and stand-ins for some of its answers."""

    requests: list[httpx.Request] = field(default_factory=list)
    responders: list[Responder] = field(default_factory=list)

    def answer(self, request: httpx.Request) -> httpx.Response | None:
        for responder in self.responders:
            if (response := responder(request)) is not None:
                return response
        return None

    def sent(self, method: str, path_suffix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path.endswith(path_suffix)]

    def sent_json(self, method: str, path_suffix: str) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.sent(method, path_suffix)]


class WireTransport(httpx.AsyncBaseTransport):
    """Records each request, answers it with a stand-in or sends it on."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/ebay/"):
            await request.aread()
            self.wire.requests.append(request)
        canned = self.wire.answer(request)
        if canned is not None:
            return canned
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Clock:
    """A monotonic clock the test moves forward."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
async def ebay_http(settings: Settings, wire: Wire) -> AsyncIterator[httpx.AsyncClient]:
    """The adapter's HTTP client, recorded by ``wire``."""
    async with httpx.AsyncClient(
        timeout=settings.marketplace_http_timeout, transport=WireTransport(wire)
    ) as client:
        yield client
