"""Fixtures for simulator tests: the running simulator, its control client, an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from config.settings import Settings, load_settings
from tests.support.simulator import sim, simulator_url  # noqa: F401 - fixtures
from tests.support.spec_judge import SpecJudgeRecorder


@pytest.fixture(autouse=True)
def _direct_calls_are_not_judged(spec_judge: SpecJudgeRecorder) -> Iterator[None]:
    """These tests call the simulator directly, often off-spec on purpose (to see it reject
    what the real API rejects); the spec judge is for the adapters' exchanges."""
    with spec_judge.paused():
        yield


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The credentials both the simulator and the clients read (defaults or environment)."""
    return load_settings()


@pytest.fixture
async def http(simulator_url: str) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with httpx.AsyncClient(base_url=simulator_url, timeout=5.0) as client:
        yield client
