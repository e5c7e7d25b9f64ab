"""Shared fixtures: real Temporal servers (dev server and time-skipping test server)."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.temporal_binaries import register_search_attributes, start_dev_env, test_server_path

# Every marketplace exchange is judged by the official OpenAPI documents (see the module).
pytest_plugins = ("tests.support.spec_judge",)

_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(session.exitstatus)  # as plugins left it (the spec judge may fail it)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave with pytest's own exit status, skipping CPython finalisation.

    The Temporal Rust runtime's threads can abort finalisation with SIGABRT
    (temporalio/sdk-python#300), which would turn a green run red, or hide the real status.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (in-memory SQLite) for the whole session."""
    env = await start_dev_env()
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def dev_client(dev_env: WorkflowEnvironment) -> Client:
    return dev_env.client


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping test server per test: 12 h timers pass in milliseconds. The
    search attributes are registered as on the dev server (workflows upsert them)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(),
        data_converter=pydantic_data_converter,
    )
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()
