"""One way to connect to Temporal: the pydantic data converter on every client and worker."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from config.settings import Settings


async def connect(settings: Settings, *, identity: str | None = None) -> Client:
    """Connect to the cluster named by ``TEMPORAL_ADDRESS`` / ``TEMPORAL_NAMESPACE``."""
    kwargs = {"identity": identity} if identity else {}
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        **kwargs,
    )
