"""Where each part of the local stack listens, read from the same variables the services read."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_TEMPORAL_ADDRESS = "127.0.0.1:7233"
DEFAULT_API_PORT = 8000
DEFAULT_SIMULATOR_PORT = 8081
# CONTRACT.md fixes the UI at 8233 (the dev server's own default: gRPC port + 1000).
TEMPORAL_UI_PORT = 8233


class StackConfigError(Exception):
    """A variable the stack cannot use; the message names it."""


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or a bare host -> (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep or "]" in port or (host.count(":") and not host.startswith("[")):
        host, port = address, ""
    host = host.strip("[]")
    if not port:
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{port!r} is not a port number")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def probe_host(bind_host: str | None) -> str:
    """The address to check a service on: a wildcard bind answers on loopback."""
    if not bind_host or bind_host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return bind_host


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _port(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackConfigError(f"{variable}: {raw!r} is not a port number")
    return int(raw)


@dataclass(frozen=True)
class StackAddresses:
    temporal_host: str
    temporal_port: int
    namespace: str
    ui_port: int
    api_host: str
    api_port: int
    simulator_host: str
    simulator_port: int
    simulator_url: str

    @property
    def temporal_address(self) -> str:
        return f"{_bracketed(self.temporal_host)}:{self.temporal_port}"

    @property
    def temporal_is_local(self) -> bool:
        return is_loopback(self.temporal_host)

    @property
    def ui_url(self) -> str:
        return f"http://{_bracketed(self.temporal_host)}:{self.ui_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def simulator_probe_url(self) -> str:
        return f"http://{self.simulator_host}:{self.simulator_port}"

    def child_environment(self) -> dict[str, str]:
        """Variables every child gets, so that all of them agree on these addresses."""
        return {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": self.namespace,
            "API_PORT": str(self.api_port),
            "SIMULATOR_PORT": str(self.simulator_port),
            "SIMULATOR_URL": self.simulator_url,
        }


def stack_addresses(
    environ: Mapping[str, str], *, ui_port: int = TEMPORAL_UI_PORT
) -> StackAddresses:
    raw_temporal = environ.get("TEMPORAL_ADDRESS", "").strip() or DEFAULT_TEMPORAL_ADDRESS
    try:
        temporal_host, temporal_port = split_host_port(raw_temporal, 7233)
    except ValueError as err:
        raise StackConfigError(f"TEMPORAL_ADDRESS: {err}") from None

    simulator_url = environ.get("SIMULATOR_URL", "").strip().rstrip("/")
    url_port = None
    if simulator_url:
        try:
            url_port = urlsplit(simulator_url).port
        except ValueError as err:
            raise StackConfigError(f"SIMULATOR_URL: {err}") from None
    # SIMULATOR_PORT is where the simulator binds; SIMULATOR_URL is where the worker calls it.
    simulator_port = _port(environ, "SIMULATOR_PORT", url_port or DEFAULT_SIMULATOR_PORT)
    simulator_host = probe_host(environ.get("SIMULATOR_HOST"))
    if not simulator_url:
        simulator_url = f"http://{simulator_host}:{simulator_port}"

    return StackAddresses(
        temporal_host=temporal_host,
        temporal_port=temporal_port,
        namespace=environ.get("TEMPORAL_NAMESPACE", "").strip() or "default",
        ui_port=ui_port,
        api_host=probe_host(environ.get("API_HOST")),
        api_port=_port(environ, "API_PORT", DEFAULT_API_PORT),
        simulator_host=simulator_host,
        simulator_port=simulator_port,
        simulator_url=simulator_url,
    )
