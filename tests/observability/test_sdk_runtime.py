"""temporal_runtime(): one cached Runtime per process; Prometheus only where the worker asks."""

from __future__ import annotations

import httpx
import pytest

import config.metrics
from config.metrics import metrics_bind_address, serve_sdk_metrics, temporal_runtime
from config.settings import Settings
from tests.integration.processes import free_port


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config.metrics, "_runtimes", {})
    monkeypatch.setattr(config.metrics, "_serves_sdk_metrics", False)


def test_text_logs_and_no_metrics_port_use_the_sdk_default():
    assert temporal_runtime(Settings(log_format="text")) is None


def test_json_logs_get_one_runtime_reused_by_every_connect():
    """Core's own log lines are forwarded to Python logging, so they are JSON too."""
    settings = Settings(log_format="json")
    runtime = temporal_runtime(settings)
    assert runtime is not None
    assert temporal_runtime(settings) is runtime


def test_metrics_port_is_ignored_outside_the_worker():
    """The API shares the worker's environment under `make run`: it must not bind the port."""
    settings = Settings(log_format="text", metrics_port=free_port())
    assert metrics_bind_address(settings) is None
    assert temporal_runtime(settings) is None


def test_the_worker_serves_prometheus_on_metrics_host_and_port():
    port = free_port()
    settings = Settings(log_format="text", metrics_port=port)
    serve_sdk_metrics()
    assert metrics_bind_address(settings) == f"127.0.0.1:{port}"
    runtime = temporal_runtime(settings)
    assert runtime is not None and temporal_runtime(settings) is runtime, "bound once"
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200


def test_ipv6_metrics_host_is_bracketed():
    serve_sdk_metrics()
    assert metrics_bind_address(Settings(metrics_host="::1", metrics_port=9464)) == "[::1]:9464"
