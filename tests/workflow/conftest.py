"""Fixtures of the workflow tests (the time-skipping ``time_env`` is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from temporalio.testing import WorkflowEnvironment


@pytest.fixture
def steady_env(time_env: WorkflowEnvironment) -> Iterator[WorkflowEnvironment]:
    """The time-skipping server with time not skipping, for tests where no timer matters: a
    job waiting for its listing entity's signals while the entity's activities run would
    otherwise be jumped to the test server's 10-year run timeout (and an idle entity with it)."""
    with time_env.auto_time_skipping_disabled():
        yield time_env
