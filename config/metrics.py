"""The Temporal SDK runtime for a process: where its metrics are exported (Prometheus)."""

from __future__ import annotations

from temporalio.runtime import Runtime

from config.settings import Settings


def temporal_runtime(settings: Settings) -> Runtime | None:
    """None: the SDK's default runtime. (Stub: the observability work adds METRICS_PORT.)"""
    return None
