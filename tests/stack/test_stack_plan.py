"""What `python -m stack` decides to run, before it runs anything."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.__main__ import main
from stack.addresses import stack_addresses
from stack.services import StackPlanError, app_specs, check_ports_free, plan_temporal
from stack.temporal_dev_server import dev_server_spec


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_dev_server_runs_with_the_sqlite_file_and_contract_ports() -> None:
    """CONTRACT.md Commands: the dev server keeps its SQLite file under .data/, UI on 8233."""
    spec = dev_server_spec(
        Path("/venv/bin/temporal"),
        db_file=Path(".data/temporal.db"),
        host="127.0.0.1",
        port=7233,
        ui_port=8233,
    )

    argv = list(spec.argv)
    assert argv[:3] == ["/venv/bin/temporal", "server", "start-dev"]
    for flag, value in [
        ("--db-filename", ".data/temporal.db"),
        ("--ip", "127.0.0.1"),
        ("--port", "7233"),
        ("--ui-port", "8233"),
        ("--log-level", "warn"),
        ("--namespace", "default"),
    ]:
        assert argv[argv.index(flag) + 1] == value
    assert spec.ready is not None


def test_app_services_start_in_order_simulator_worker_api() -> None:
    """DESIGN.md: the worker needs the simulator; the API comes last so it is ready when shown."""
    specs = app_specs(sys.executable, stack_addresses({}), {})

    assert [s.name for s in specs] == ["sim", "worker", "api"]
    assert [list(s.argv[1:]) for s in specs] == [
        ["-m", "simulator"],
        ["worker.py"],
        ["-m", "api"],
    ]
    assert specs[0].ready is not None
    assert specs[2].ready is not None


def test_worker_gets_its_graceful_shutdown_time_before_being_killed() -> None:
    """A SIGKILL before WORKER_GRACEFUL_SHUTDOWN_SECONDS would cut running activities short."""
    worker = app_specs(
        sys.executable, stack_addresses({}), {"WORKER_GRACEFUL_SHUTDOWN_SECONDS": "20"}
    )[1]

    assert worker.stop_timeout > 20


def test_a_temporal_server_that_already_answers_is_used_not_started_again(
    listening_port: int, tmp_path: Path
) -> None:
    """A second dev server on a taken port could only fail."""
    addresses = stack_addresses({"TEMPORAL_ADDRESS": f"127.0.0.1:{listening_port}"})

    plan = plan_temporal(addresses, tmp_path)

    assert plan.spec is None
    assert "already running" in plan.note


def test_a_remote_temporal_address_that_does_not_answer_is_an_error(tmp_path: Path) -> None:
    """The stack starts dev servers on loopback only; elsewhere it cannot help."""
    addresses = stack_addresses({"TEMPORAL_ADDRESS": "192.0.2.1:7233"})

    with pytest.raises(StackPlanError, match="TEMPORAL_ADDRESS"):
        plan_temporal(addresses, tmp_path)


def test_a_taken_api_port_is_reported_before_anything_starts(listening_port: int) -> None:
    """Otherwise the API would die after Temporal, simulator and worker had started."""
    addresses = stack_addresses({"API_PORT": str(listening_port), "SIMULATOR_PORT": "1"})

    with pytest.raises(StackPlanError, match=f"port {listening_port} \\(API_PORT\\)"):
        check_ports_free(addresses)


@pytest.mark.parametrize("value", ["false", "0", "FALSE", "off"])
def test_worker_is_left_out_when_worker_enabled_is_false(value: str) -> None:
    """CONTRACT.md: WORKER_ENABLED=false makes worker.py exit 0 at once; the stack must not
    mistake that for a crash."""
    specs = app_specs(sys.executable, stack_addresses({}), {"WORKER_ENABLED": value})

    assert [s.name for s in specs] == ["sim", "api"]


def test_stack_with_a_bad_port_exits_2_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONTRACT.md Configuration: a bad value stops the process with one line naming it."""
    monkeypatch.setenv("API_PORT", "eighty")

    assert main(["--data-dir", str(tmp_path / ".data")]) == 2
    assert "API_PORT" in capsys.readouterr().err


def test_stack_refuses_to_start_when_the_api_port_is_taken(
    listening_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing is started (no dev server left behind) when the API could not bind anyway."""
    monkeypatch.setenv("API_PORT", str(listening_port))
    monkeypatch.setenv("SIMULATOR_PORT", "1")  # nothing listens on port 1
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{listening_port}")  # "already running"

    assert main(["--data-dir", str(tmp_path / ".data")]) == 1
    assert f"port {listening_port} (API_PORT) is already in use" in capsys.readouterr().err
