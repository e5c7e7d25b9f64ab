"""A port the stack needs is taken: `python -m stack` says which port and which process has it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.port_holders import port_holders
from tests.integration.processes import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port this test process listens on (and never accepts on)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


@pytest.mark.parametrize("variable", ["API_PORT", "SIMULATOR_PORT", "--ui-port", "METRICS_PORT"])
def test_a_busy_port_stops_the_stack_with_one_line_naming_the_port_and_its_pid(
    variable: str, held_port: int, tmp_path: Path
) -> None:
    """Issue 11 item 1: "port 8000 is already in use" left the user to hunt for the process
    (often a child of an earlier, killed `make run`). Nothing starts; one line names the port
    and the pid holding it. The worker's METRICS_PORT too: held, the worker died at start on
    "Failed starting Prometheus exporter" and the banner never came (CI)."""
    ports = {name: free_port() for name in ("API_PORT", "SIMULATOR_PORT", "--ui-port")}
    ports["METRICS_PORT"] = free_port()
    ports[variable] = held_port
    env = os.environ | {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "API_PORT": str(ports["API_PORT"]),
        "SIMULATOR_PORT": str(ports["SIMULATOR_PORT"]),
        "METRICS_PORT": str(ports["METRICS_PORT"]),
    }
    env.pop("SIMULATOR_URL", None)

    argv = ["-m", "stack", "--data-dir", str(tmp_path / ".data")]
    result = subprocess.run(
        [sys.executable, *argv, "--ui-port", str(ports["--ui-port"])],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    naming_the_port = [line for line in result.stderr.splitlines() if f"port {held_port} " in line]
    assert len(naming_the_port) == 1, result.stderr
    assert f"already in use by pid {os.getpid()} (" in naming_the_port[0]
    assert "starting" not in result.stdout


def test_port_holders_finds_an_ipv6_listener() -> None:
    """/proc/net/tcp6 too: a server bound to ::1 holds the port as much as one on 127.0.0.1."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    with socket.socket(socket.AF_INET6) as server:
        try:
            server.bind(("::1", 0))
        except OSError:
            pytest.skip("::1 is not configured")
        server.listen()
        port = server.getsockname()[1]

        holders = port_holders(port)

    assert [h.pid for h in holders] == [os.getpid()]
    assert holders[0].command


def test_port_holders_is_empty_for_a_port_nobody_listens_on() -> None:
    assert port_holders(free_port()) == []
