"""One way to connect to Temporal: the pydantic data converter on every client and worker."""

from __future__ import annotations

import logging
from typing import Any

from temporalio.client import Client
from temporalio.service import RetryConfig

from config.codec import data_converter
from config.metrics import temporal_runtime
from config.settings import Settings
from config.tracing import temporal_interceptors

log = logging.getLogger("temporal")


async def connect(
    settings: Settings,
    *,
    identity: str | None = None,
    lazy: bool = False,
    retry_seconds: float | None = None,
) -> Client:
    """Connect to the cluster named by ``TEMPORAL_ADDRESS`` / ``TEMPORAL_NAMESPACE``.

    ``lazy=True`` returns at once and connects on first use (the gateway starts, and answers
    ``/ready`` with 503, while the cluster is still coming up). Every client gets the same data
    converter (pydantic + payload encryption), the process's metrics runtime and, when tracing
    is on (config/tracing.py), Temporal's tracing interceptor, which its workers inherit.
    """
    options: dict[str, Any] = {}
    if identity:
        options["identity"] = identity
    runtime = temporal_runtime(settings)
    if runtime is not None:
        options["runtime"] = runtime
    if retry_seconds is not None:
        options["retry_config"] = RetryConfig(
            initial_interval_millis=100,
            max_interval_millis=500,
            max_elapsed_time_millis=int(retry_seconds * 1000),
        )
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        interceptors=temporal_interceptors(),
        lazy=lazy,
        **options,
    )


def is_connect_failure(exc: BaseException) -> bool:
    """A lazy client that never reached the cluster raises RuntimeError('Failed client connect')."""
    return isinstance(exc, RuntimeError) and "client connect" in str(exc).lower()
