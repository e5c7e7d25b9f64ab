"""Fixtures for simulator tests: the running simulator, its control client, an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from config.settings import Settings, load_settings
from tests.support.simulator import sim, simulator_url  # noqa: F401 - fixtures


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The credentials both the simulator and the clients read (defaults or environment)."""
    return load_settings()


@pytest.fixture
async def http(simulator_url: str) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with httpx.AsyncClient(base_url=simulator_url, timeout=5.0) as client:
        yield client
