"""`kill -9` of `python -m stack` takes its children along: no process, no port outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from stack.parent_death import die_with_parent
from stack.readiness import tcp_accepts
from stack.watchdog import Watchdog
from tests.integration.processes import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
RULE = "=" * 78


def _eventually(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    """Exited; a zombie counts, it holds no port and only waits for init to reap it."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class StackProcess:
    """``python -m stack`` as `make run` runs it, its output collected line by line."""

    def __init__(self, env: dict[str, str], data_dir: Path, ui_port: int) -> None:
        argv = [sys.executable, "-m", "stack", "--data-dir", str(data_dir)]
        self.popen = subprocess.Popen(
            [*argv, "--ui-port", str(ui_port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))
            if self.lines[-1].strip() == RULE and any("Try it from" in x for x in self.lines):
                self.ready.set()

    def wait_ready(self, within: float = 120) -> None:
        assert self.ready.wait(within), "\n".join(self.lines[-40:])

    def output(self) -> str:
        return "\n".join(self.lines[-40:])


STOP_WITHIN = 120.0
"""Seconds a stack may take to stop after Ctrl-C: the children's stop timeouts, with room."""


def _stack_env(ports: dict[str, int]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SIGNING_SECRETS", "ADMIN_TOKEN", "SIMULATOR_URL")
    }
    return env | {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "API_PORT": str(ports["api"]),
        "SIMULATOR_PORT": str(ports["sim"]),
        "METRICS_PORT": str(ports["metrics"]),
    }


@pytest.mark.timeout(420)
def test_sigkill_of_the_supervisor_stops_every_child_and_frees_every_port(tmp_path: Path) -> None:
    """Issue 11 item 1: after `kill -9` of `make run`, the dev server, simulator, worker and API
    kept running on their ports and the next `make run` refused to start. Now every process
    the supervisor started exits, every port is free within seconds, and a new stack starts on
    the same ports and data directory."""
    ports = {name: free_port() for name in ("temporal", "ui", "api", "sim", "metrics")}
    env, data_dir = _stack_env(ports), tmp_path / ".data"
    first = StackProcess(env, data_dir, ports["ui"])
    second: StackProcess | None = None
    try:
        first.wait_ready()
        descendants = psutil.Process(first.popen.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in descendants)
        for expected in ("temporal server start-dev", "-m simulator", "worker.py", "-m api"):
            assert expected in names, names

        first.popen.send_signal(signal.SIGKILL)
        assert first.popen.wait(timeout=10) == -signal.SIGKILL

        _eventually(
            lambda: all(_gone(p.pid) for p in descendants), 30, "children of the killed stack"
        )
        _eventually(
            lambda: not any(tcp_accepts("127.0.0.1", port) for port in ports.values()),
            10,
            f"ports {sorted(ports.values())} free",
        )

        second = StackProcess(env, data_dir, ports["ui"])
        second.wait_ready()
    finally:
        for stack in (first, second):
            if stack is not None and stack.popen.poll() is None:
                stack.popen.send_signal(signal.SIGINT)
                try:
                    # The supervisor stops its 4 children one by one, each within its own
                    # stop_timeout (10-15 s): up to ~50 s, more on a busy machine.
                    stack.popen.wait(timeout=STOP_WITHIN)
                except subprocess.TimeoutExpired:
                    stack.popen.kill()
                    stack.popen.wait()
    assert second.popen.returncode == 0, second.output()
    assert "supervisor gone; stopping its children" in first.output()


# A child that leaves a grandchild in its process group; both ignore SIGTERM if told to.
GROUP = """
import signal, subprocess, sys, time
if sys.argv[1] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(grandchild.pid, flush=True)
time.sleep(600)
"""


def _group(kind: str) -> tuple[subprocess.Popen[str], int]:
    leader = subprocess.Popen(
        [sys.executable, "-c", GROUP, kind],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert leader.stdout is not None
    return leader, int(leader.stdout.readline())


def test_watchdog_stops_every_watched_group_once_the_supervisor_end_closes() -> None:
    """The fallback where PR_SET_PDEATHSIG does not exist or does not reach: grandchildren in
    a child's process group and children that ignore SIGTERM (SIGKILL after their grace)."""
    polite, polite_grandchild = _group("polite")
    stubborn, stubborn_grandchild = _group("stubborn")
    watchdog = Watchdog()
    watchdog.watch(polite.pid, 30)
    watchdog.watch(stubborn.pid, 0.5)

    watchdog.close()  # what the kernel does to the pipe when the supervisor dies

    assert polite.wait(timeout=10) == -signal.SIGTERM
    assert stubborn.wait(timeout=10) == -signal.SIGKILL
    _eventually(lambda: _gone(polite_grandchild) and _gone(stubborn_grandchild), 10, "grandkids")


def test_watchdog_leaves_alone_a_group_the_supervisor_has_forgotten() -> None:
    """A child the supervisor stopped itself is forgotten: its pid may be someone else's soon."""
    child, grandchild = _group("polite")
    try:
        watchdog = Watchdog()
        watchdog.watch(child.pid, 0.5)
        watchdog.forget(child.pid)

        watchdog.close()

        assert child.poll() is None
        assert not _gone(grandchild)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


# Spawns a sleeper with die_with_parent(), prints its pid, then waits to be killed.
PARENT = """
import subprocess, sys, time
from stack.parent_death import die_with_parent
child = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(600)"], preexec_fn=die_with_parent()
)
print(child.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(die_with_parent() is None, reason="PR_SET_PDEATHSIG exists on Linux only")
def test_a_child_started_with_die_with_parent_exits_when_its_parent_is_sigkilled() -> None:
    """PR_SET_PDEATHSIG: the kernel signals the child itself, no watchdog needed."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert not _gone(child)

    parent.kill()
    parent.wait()

    _eventually(lambda: _gone(child), 10, f"child {child} of the killed parent")
