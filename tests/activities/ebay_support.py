"""Fixtures for the eBay adapter tests: an HTTP client whose every eBay exchange is judged by
eBay's OpenAPI documents, stand-in answers of real eBay, and a controllable clock.

The fixtures ``wire`` and ``ebay_http`` are imported by ``tests/activities/conftest.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from config.settings import Settings
from tests.support.ebay_openapi import EbayJudge, JudgedTransport, Responder


@dataclass
class Wire:
    """What went over the wire to eBay in one test, and stand-ins for some of its answers."""

    judge: EbayJudge = field(default_factory=EbayJudge)
    responders: list[Responder] = field(default_factory=list)

    def answer(self, request: httpx.Request) -> httpx.Response | None:
        for responder in self.responders:
            if (response := responder(request)) is not None:
                return response
        return None

    def sent(self, method: str, path_suffix: str) -> list[httpx.Request]:
        return [
            r for r in self.judge.sent if r.method == method and r.url.path.endswith(path_suffix)
        ]

    def sent_json(self, method: str, path_part: str) -> list[dict[str, Any]]:
        return [
            json.loads(r.content)
            for r in self.judge.sent
            if r.method == method and path_part in r.url.path
        ]


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
    """The adapter's HTTP client: every eBay request it sends and every answer it gets must
    validate against the official documents (checked when the test ends)."""
    transport = JudgedTransport(wire.judge, responder=wire.answer)
    async with httpx.AsyncClient(
        timeout=settings.marketplace_http_timeout, transport=transport
    ) as client:
        yield client
    assert wire.judge.rejected == [], wire.judge.rejected
