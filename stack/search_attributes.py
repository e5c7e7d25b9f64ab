"""The custom search attributes of issue 16 on the local dev server, whatever its data file's
age.

``temporal server start-dev --search-attribute`` registers them only in a namespace it creates.
A data file made before they existed (the ``.data/temporal.db`` of an earlier ``make run``)
keeps its namespace without them, and the server then refuses every job start
(INVALID_ARGUMENT, ``POST /start_job`` 502) and every ``GET /jobs`` (seen on ``make run`` with
such a file). So the stack counts Temporal as ready only once they exist, registering the
missing ones through the operator service (``AddSearchAttributes``).
"""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client

from domain.job_search import SEARCH_ATTRIBUTES

TYPES = {key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in SEARCH_ATTRIBUTES}
"""Each search attribute's type, as the operator service takes them."""


async def register_missing(client: Client, namespace: str) -> None:
    """Register every search attribute of :data:`SEARCH_ATTRIBUTES` that ``namespace`` lacks.
    Raises ``RPCError`` when the server refuses (e.g. a name it holds with another type)."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {name: kind for name, kind in TYPES.items() if name not in listed.custom_attributes}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


def ensure_registered(address: str, namespace: str) -> None:
    """:func:`register_missing` on the server at ``address`` (a plain connection: the local
    dev server), for the stack's synchronous readiness probe."""

    async def run() -> None:
        client = await Client.connect(address, namespace=namespace)
        await register_missing(client, namespace)

    asyncio.run(run())
