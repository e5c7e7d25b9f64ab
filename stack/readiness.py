"""Readiness probes: a TCP port that accepts, a route that answers 200, a serving namespace."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx


def tcp_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> Callable[[], bool]:
    """A probe that is true when GET ``url`` answers 200."""

    def probe() -> bool:
        try:
            # trust_env=False: a proxy from HTTP_PROXY must not stand between us and 127.0.0.1.
            response = httpx.get(url, timeout=timeout, trust_env=False)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    return probe


def temporal_namespace_ready(
    binary: Path, host: str, port: int, address: str, namespace: str
) -> Callable[[], bool]:
    """A probe that is true when the server at ``address`` answers for ``namespace``.

    Cheap TCP first; then the CLI, because an open port is not yet a registered namespace.
    """
    # The CLI reads TEMPORAL_* (TLS, API key, namespace) from the environment; the probe must
    # ask exactly what it names.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    argv = [
        str(binary),
        "operator",
        "namespace",
        "describe",
        "--namespace",
        namespace,
        "--address",
        address,
        "--command-timeout",
        "3s",
    ]

    def probe() -> bool:
        if not tcp_accepts(host, port):
            return False
        try:
            result = subprocess.run(argv, env=env, capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0

    return probe
