"""Fixtures for activity tests: the simulator, settings pointing at it, an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from activities.registry import create_http_client
from config.settings import Settings, load_settings
from tests.activities.ebay_support import ebay_http, wire  # noqa: F401 - fixtures
from tests.support.simulator import sim, simulator_url  # noqa: F401 - fixtures


@pytest.fixture(scope="session")
def settings(simulator_url: str) -> Settings:  # noqa: F811
    """Worker settings whose marketplace base URLs all point at the test simulator."""
    return load_settings(
        simulator_url=simulator_url,
        ebay_base_url=None,
        etsy_base_url=None,
        vinted_base_url=None,
        # eBay's token endpoint is eBay's own unless named: name the simulator's.
        ebay_oauth_url=f"{simulator_url}/ebay/identity/v1/oauth2/token",
        marketplace_http_timeout=2.0,
    )


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with create_http_client(settings) as client:
        yield client
