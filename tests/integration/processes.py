"""Start the real processes (dev server, simulator, worker, API) for end-to-end tests."""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from domain.job_search import dev_server_args
from tests.temporal_binaries import dev_server_path

ROOT = Path(__file__).resolve().parents[2]


_handed_out: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default range starts here


def free_port() -> int:
    """A port free now, chosen below the kernel's ephemeral range and never twice per test
    process. A port from ``bind(0)`` is an ephemeral one: between our probe and the server's
    bind, any process's outgoing connection, or the dev server's own internal services (which
    take random free ports), could take it ("address already in use", seen on busy runs)."""
    low = max(_ephemeral_low(), 12000)
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(10000, low)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


def wait_until(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready within {within} s")


def tcp_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    return httpx.get(url, timeout=1).status_code == 200


@dataclass
class Stack:
    """Ports and environment of one running stack; processes by name."""

    env: dict[str, str]
    temporal_port: int
    api_url: str
    simulator_url: str
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    temporal_ui_port: int = 0

    def start(
        self, name: str, args: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``args`` as process ``name`` with the stack's environment, ``env`` on top."""
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes[name] = proc
        return proc

    def stop(self, name: str, sig: int = signal.SIGTERM, within: float = 15) -> int:
        proc = self.processes.pop(name)
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(within)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return int(proc.returncode)

    def logs(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_worker(
        self, name: str = "worker", env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        return self.start(name, [sys.executable, "worker.py"], env)

    def start_api(self, within: float = 30) -> subprocess.Popen[bytes]:
        """Start ``python -m api`` on the stack's API port; return once ``/ready`` answers."""
        proc = self.start("api", [sys.executable, "-m", "api"])
        wait_until(lambda: http_ok(f"{self.api_url}/ready"), within, "api")
        return proc

    def start_temporal(self, within: float = 30) -> subprocess.Popen[bytes]:
        """Start the dev server on the stack's port with its SQLite file (``temporal.db`` in the
        log directory); a restart reuses both, so the server finds its workflows again."""
        proc = self.start(
            "temporal",
            [
                dev_server_path(), "server", "start-dev",
                "--db-filename", str(self.log_dir / "temporal.db"),
                "--ip", "127.0.0.1", "--port", str(self.temporal_port),
                "--ui-port", str(self.temporal_ui_port), "--headless", "--log-level", "error",
                *dev_server_args(),
            ],
        )  # fmt: skip
        wait_until(lambda: tcp_open(self.temporal_port), within, "temporal dev server")
        return proc

    def restart_temporal(
        self, sig: int = signal.SIGTERM, while_down: Callable[[], None] | None = None
    ) -> int:
        """Stop the dev server with ``sig``, call ``while_down`` and start the server again on
        the same port and SQLite file; the other processes are left alone. Returns the old
        process's exit code."""
        code = self.stop("temporal", sig)
        wait_until(lambda: not tcp_open(self.temporal_port), 10, "temporal port released")
        if while_down is not None:
            while_down()
        self.start_temporal()
        # Keep the dev server first, so the stack still stops in reverse order of dependency.
        self.processes = {"temporal": self.processes.pop("temporal"), **self.processes}
        return code


@contextmanager
def running_stack(
    tmp: Path, extra_env: dict[str, str] | None = None, *, vinted_webhooks: bool = False
) -> Iterator[Stack]:
    """The four processes on free ports, logs in ``tmp``. ``vinted_webhooks``: the simulator
    sends Vinted's signed events to the gateway, as under ``make run`` (a fresh signing key)."""
    temporal_port, ui_port, api_port, sim_port = (free_port() for _ in range(4))
    webhooks = {
        "VINTED_WEBHOOK_URL": f"http://127.0.0.1:{api_port}/webhooks/vinted",
        "VINTED_WEBHOOK_SIGNING_KEY": secrets.token_hex(16),
    }
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "API_PORT": str(api_port),
        "SIMULATOR_PORT": str(sim_port),
        "SIMULATOR_URL": f"http://127.0.0.1:{sim_port}",
        "PYTHONUNBUFFERED": "1",
        **(webhooks if vinted_webhooks else {}),
        **(extra_env or {}),
    }
    stack = Stack(
        env=env,
        temporal_port=temporal_port,
        api_url=f"http://127.0.0.1:{api_port}",
        simulator_url=f"http://127.0.0.1:{sim_port}",
        log_dir=tmp,
        temporal_ui_port=ui_port,
    )
    try:
        stack.start_temporal()
        stack.start("simulator", [sys.executable, "-m", "simulator"])
        wait_until(lambda: http_ok(f"{stack.simulator_url}/__sim/listings"), 30, "simulator")
        stack.start_worker()
        stack.start_api()
        yield stack
    finally:
        for name in reversed(list(stack.processes)):
            stack.stop(name)
