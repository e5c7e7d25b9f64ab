"""The local stack's supervisor, driven with tiny stand-in children instead of the real services."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stack.processes import ProcessSpec, StartupError, Supervisor
from stack.runner import run_supervised

REPO_ROOT = Path(__file__).resolve().parents[2]

# Each child appends its name to a log when it gets SIGTERM, then exits 0.
RECORDS_SIGTERM = """
import pathlib, signal, sys, time
name, log = sys.argv[1], pathlib.Path(sys.argv[2])
def stop(*_):
    with log.open("a") as f:
        f.write(name + "\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
(log.parent / ("ready-" + name)).touch()
while True:
    time.sleep(0.05)
"""
IGNORES_SIGTERM = """
import pathlib, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
pathlib.Path(sys.argv[1]).touch()
time.sleep(600)
"""


def _python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def _supervisor(tmp_path: Path) -> tuple[Supervisor, io.StringIO]:
    out = io.StringIO()
    return Supervisor(env=os.environ, cwd=tmp_path, out=out, poll_interval=0.02), out


def _recording_child(name: str, tmp_path: Path) -> ProcessSpec:
    log = tmp_path / "stopped.log"
    return ProcessSpec(
        name=name,
        argv=_python(RECORDS_SIGTERM, name, str(log)),
        ready=lambda: (tmp_path / f"ready-{name}").exists(),
        ready_timeout=10,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_each_child_starts_only_after_the_previous_one_is_ready(tmp_path: Path) -> None:
    """`make run` order: Temporal, simulator, worker, API, each waited for."""
    marker = tmp_path / "first-ready"
    first = ProcessSpec(
        name="first",
        argv=_python(
            "import pathlib, sys, time; time.sleep(0.3); pathlib.Path(sys.argv[1]).touch();"
            " time.sleep(600)",
            str(marker),
        ),
        ready=marker.exists,
        ready_timeout=10,
    )
    second = ProcessSpec(
        name="second",
        argv=_python(
            "import pathlib, sys, time;"
            " print('first was ready:', pathlib.Path(sys.argv[1]).exists(), flush=True);"
            " time.sleep(600)",
            str(marker),
        ),
        settle_seconds=0.3,
    )
    supervisor, out = _supervisor(tmp_path)
    try:
        assert supervisor.start(first)
        assert supervisor.start(second)
    finally:
        supervisor.stop_all()

    assert "[second]   first was ready: True" in out.getvalue()


def test_children_are_stopped_in_reverse_start_order(tmp_path: Path) -> None:
    """CONTRACT.md `make run`: Ctrl-C stops all of it cleanly (the API first, Temporal last)."""
    supervisor, out = _supervisor(tmp_path)
    for name in ("temporal", "sim", "api"):
        assert supervisor.start(_recording_child(name, tmp_path))

    supervisor.stop_all()

    assert (tmp_path / "stopped.log").read_text().split() == ["api", "sim", "temporal"]
    assert supervisor.running == []
    assert "[stack]    api stopped" in out.getvalue().splitlines()


def test_child_output_is_shown_with_its_name_in_front(tmp_path: Path) -> None:
    """Four processes share one terminal; every line says whose it is."""
    supervisor, out = _supervisor(tmp_path)
    spec = ProcessSpec(
        name="sim",
        argv=_python(
            "import sys, time; print('hello'); print('oops', file=sys.stderr); time.sleep(600)"
        ),
        settle_seconds=0.5,
    )
    try:
        supervisor.start(spec)
    finally:
        supervisor.stop_all()

    lines = out.getvalue().splitlines()
    assert "[sim]      hello" in lines
    assert "[sim]      oops" in lines


def test_a_child_that_ignores_sigterm_is_killed_after_its_stop_timeout(tmp_path: Path) -> None:
    """Shutdown must finish even when a child hangs."""
    marker = tmp_path / "ready"
    spec = ProcessSpec(
        name="stuck",
        argv=_python(IGNORES_SIGTERM, str(marker)),
        ready=marker.exists,
        stop_timeout=0.5,
    )
    supervisor, out = _supervisor(tmp_path)
    supervisor.start(spec)

    started = time.monotonic()
    supervisor.stop_all()

    assert time.monotonic() - started < 5
    assert "stuck still running; killing it" in out.getvalue()
    assert "stuck stopped (signal SIGKILL)" in out.getvalue()


def test_a_second_stop_request_kills_without_waiting(tmp_path: Path) -> None:
    """Ctrl-C twice: the user does not want to wait for a slow shutdown."""
    marker = tmp_path / "ready"
    spec = ProcessSpec(
        name="stuck",
        argv=_python(IGNORES_SIGTERM, str(marker)),
        ready=marker.exists,
        stop_timeout=60,
    )
    supervisor, _ = _supervisor(tmp_path)
    supervisor.start(spec)
    supervisor.request_stop()
    supervisor.request_stop()

    started = time.monotonic()
    supervisor.stop_all()

    assert time.monotonic() - started < 5


def test_a_child_that_dies_stops_the_rest_and_the_stack_exits_non_zero(tmp_path: Path) -> None:
    """If any child dies, say which and with what code, stop the others, exit non-zero."""
    specs = [
        _recording_child("temporal", tmp_path),
        ProcessSpec(
            name="worker",
            argv=_python("import sys, time; time.sleep(0.5); sys.exit(3)"),
            settle_seconds=0.1,
        ),
    ]
    supervisor, out = _supervisor(tmp_path)

    code = run_supervised(supervisor, specs)

    assert code != 0
    assert "worker exited unexpectedly with exit code 3" in out.getvalue()
    assert (tmp_path / "stopped.log").read_text().split() == ["temporal"]


def test_a_child_that_exits_before_it_is_ready_fails_start_up(tmp_path: Path) -> None:
    """A bad setting makes a service exit at once; the later ones must not start."""
    specs = [
        _recording_child("temporal", tmp_path),
        ProcessSpec(name="sim", argv=_python("raise SystemExit(2)"), ready=lambda: False),
        _recording_child("api", tmp_path),
    ]
    supervisor, out = _supervisor(tmp_path)
    ready_called = False

    def on_ready() -> None:
        nonlocal ready_called
        ready_called = True

    code = run_supervised(supervisor, specs, on_ready=on_ready)

    assert code == 1
    assert "sim exited with exit code 2 before it was ready" in out.getvalue()
    assert not (tmp_path / "ready-api").exists()
    assert not ready_called
    assert (tmp_path / "stopped.log").read_text().split() == ["temporal"]


def test_a_child_that_is_never_ready_fails_start_up_after_its_timeout(tmp_path: Path) -> None:
    spec = ProcessSpec(
        name="api",
        argv=_python("import time; time.sleep(600)"),
        ready=lambda: False,
        ready_timeout=0.3,
    )
    supervisor, out = _supervisor(tmp_path)

    assert run_supervised(supervisor, [spec]) == 1
    assert "api was not ready after 0.3 s" in out.getvalue()
    assert supervisor.running == []


def test_a_command_that_cannot_run_is_a_startup_error(tmp_path: Path) -> None:
    supervisor, _ = _supervisor(tmp_path)

    with pytest.raises(StartupError, match="cannot run"):
        supervisor.start(ProcessSpec(name="temporal", argv=[str(tmp_path / "no-such-binary")]))


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_stack_stops_its_children_and_exits_zero_on_a_stop_signal(
    stop_signal: signal.Signals,
) -> None:
    """CONTRACT.md `make run`: Ctrl-C (SIGINT) or SIGTERM stops all of it cleanly, exit 0."""
    stack = subprocess.Popen(
        [sys.executable, "-m", "tests.stack.stand_in_stack"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert stack.stdout is not None
    lines: list[str] = []
    try:
        for line in stack.stdout:
            lines.append(line)
            if line.strip() == "ALL READY":
                break
        pids = [int(m.group(1)) for line in lines if (m := re.search(r"pid=(\d+)", line))]
        assert len(pids) == 2, lines

        stack.send_signal(stop_signal)
        code = stack.wait(timeout=15)
    finally:
        if stack.poll() is None:
            stack.kill()
    output = "".join(lines) + stack.stdout.read()

    assert code == 0, output
    assert not any(_alive(pid) for pid in pids)
    assert output.index("second stopped") < output.index("first stopped")


COUNTS_STARTS_THEN_EXITS = """
import pathlib, sys, time
log = pathlib.Path(sys.argv[1])
with log.open("a") as f:
    f.write("start\\n")
time.sleep(float(sys.argv[2]))
"""


def test_a_restartable_child_is_started_again_when_it_dies(tmp_path: Path):
    """Killing the worker under `make run` must not take the stack down: it comes back."""
    supervisor, out = _supervisor(tmp_path)
    starts = tmp_path / "starts.log"
    spec = ProcessSpec(
        name="worker",
        argv=_python(COUNTS_STARTS_THEN_EXITS, str(starts), "30"),
        settle_seconds=0.1,
        restart_on_exit=True,
    )
    try:
        assert supervisor.start(spec)
        first = supervisor._children[0].popen
        first.kill()
        first.wait()
        waiter = threading.Thread(target=supervisor.wait_for_exit, daemon=True)
        waiter.start()
        deadline = time.monotonic() + 10
        while starts.read_text().count("start") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert starts.read_text().count("start") == 2
        assert supervisor.running == ["worker"]
        assert "worker exited with signal SIGKILL; restarting it" in out.getvalue()
    finally:
        supervisor.request_stop()
        supervisor.stop_all()


def test_a_crash_looping_child_is_given_up(tmp_path: Path):
    supervisor, out = _supervisor(tmp_path)
    starts = tmp_path / "starts.log"
    spec = ProcessSpec(
        name="worker",
        argv=_python(COUNTS_STARTS_THEN_EXITS, str(starts), "0.3"),
        settle_seconds=0.1,
        restart_on_exit=True,
    )
    try:
        assert supervisor.start(spec)
        exited = supervisor.wait_for_exit()
        assert exited is not None and exited[0] == "worker"
        assert starts.read_text().count("start") == 6, "first start + MAX_RESTARTS"
        assert "worker keeps exiting; giving up" in out.getvalue()
    finally:
        supervisor.stop_all()
