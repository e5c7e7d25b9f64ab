"""The Temporal SDK runtime for a process: the worker's Prometheus metrics, Core logs as JSON."""

from __future__ import annotations

import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)

from config.settings import Settings

# A Runtime owns native threads and, with Prometheus, a bound port: one per configuration per
# process, reused by every connect().
_runtimes: dict[tuple[str | None, bool], Runtime] = {}
_serves_sdk_metrics = False


def serve_sdk_metrics() -> None:
    """Make this process serve the SDK's metrics on ``METRICS_HOST:METRICS_PORT``.

    Only the worker calls this. The gateway shares the worker's environment under ``make run``
    (two processes cannot bind one port) and serves its own request metrics on ``GET /metrics``.
    """
    global _serves_sdk_metrics
    _serves_sdk_metrics = True


def metrics_bind_address(settings: Settings) -> str | None:
    """``host:port`` of the SDK's Prometheus endpoint in this process, or None."""
    if not (_serves_sdk_metrics and settings.metrics_port):
        return None
    host = settings.metrics_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6
    return f"{host}:{settings.metrics_port}"


def temporal_runtime(settings: Settings) -> Runtime | None:
    """The runtime every client of this process uses; None: the SDK's default runtime.

    With ``METRICS_PORT`` (in the worker) it serves ``temporal_*`` metrics for Prometheus at
    ``http://METRICS_HOST:METRICS_PORT/metrics``. With ``LOG_FORMAT=json`` the SDK Core's own
    warnings go through Python logging (logger ``temporalio.core``) instead of plain stderr
    lines, so every line of the process stays JSON.
    """
    bind_address = metrics_bind_address(settings)
    forward_core_logs = settings.log_format == "json"
    if bind_address is None and not forward_core_logs:
        return None
    key = (bind_address, forward_core_logs)
    if key not in _runtimes:
        logging_config = LoggingConfig.default
        if forward_core_logs:
            logging_config = LoggingConfig(
                filter=LoggingConfig.default.filter,
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        _runtimes[key] = Runtime(
            telemetry=TelemetryConfig(
                logging=logging_config,
                metrics=PrometheusConfig(bind_address=bind_address) if bind_address else None,
            )
        )
    return _runtimes[key]
