"""The local stack as ``make run`` starts it (``python -m stack``), on free ports, in a fresh
data directory: start it, find its processes, add worker processes, stop it cleanly."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil

from bench.settings import REPO_ROOT
from domain.marketplaces import JOB_TASK_QUEUE, Marketplace, marketplace_task_queue
from domain.signatures import new_signing_secret

MARKETPLACE_QUEUES = tuple(marketplace_task_queue(m) for m in Marketplace)
ALL_QUEUES = (JOB_TASK_QUEUE, *MARKETPLACE_QUEUES)
# Settings the benchmark decides itself: an inherited value would point the stack elsewhere.
DROPPED_VARIABLES = (
    "EBAY_BASE_URL",
    "ETSY_BASE_URL",
    "VINTED_BASE_URL",
    "EBAY_OAUTH_URL",
    "WORKER_ENABLED",
    "SIMULATOR_HOST",
    "API_HOST",
    "WORKER_TASK_QUEUES",
)
WORKER_QUEUES_VARIABLE = "WORKER_TASK_QUEUES"
"""The worker setting BENCH_SPLIT_QUEUES relies on (the task queues one worker process polls);
``worker_queue_setting_exists`` tells whether this checkout has it."""


class StackError(RuntimeError):
    """The stack did not start or stopped on its own; the message ends with its last log lines."""


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def worker_queue_setting_exists() -> bool:
    from config.settings import Settings

    return WORKER_QUEUES_VARIABLE.lower() in Settings.model_fields


@dataclass(frozen=True)
class StackPorts:
    temporal: int
    ui: int
    api: int
    simulator: int
    metrics: int

    @classmethod
    def pick(cls) -> StackPorts:
        return cls(*free_ports(5))


def stack_environment(
    ports: StackPorts,
    *,
    signing_secret: str,
    admin_token: str,
    rate_limit: float,
    base: Mapping[str, str],
) -> dict[str, str]:
    """What ``python -m stack`` gets: the caller's environment with our ports, secrets and rate
    limits (ours and the simulator's) high enough that nothing throttles the benchmark."""
    env = {k: v for k, v in base.items() if k not in DROPPED_VARIABLES}
    limit = f"{rate_limit:g}"
    env |= {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports.temporal}",
        "API_PORT": str(ports.api),
        "SIMULATOR_PORT": str(ports.simulator),
        "SIMULATOR_URL": f"http://127.0.0.1:{ports.simulator}",
        "METRICS_PORT": str(ports.metrics),
        "SIGNING_SECRETS": signing_secret,
        "ADMIN_TOKEN": admin_token,
        "EBAY_RATE_LIMIT": limit,
        "ETSY_RATE_LIMIT": limit,
        "VINTED_RATE_LIMIT": limit,
        # No order readers: their polls would be counted as requests of the measured jobs.
        "SALES_SYNC_INTERVAL": "0",
        **simulator_limits(rate_limit),
        "PYTHONUNBUFFERED": "1",
    }
    return env


def simulator_limits(rate_limit: float) -> dict[str, str]:
    """The simulator's own request limits (eBay 23/s, Etsy 10/s, Vinted 10/s by default, as
    the real APIs allow) raised like the product's: the benchmark measures our stack, not the
    marketplaces' limits, and filling a shop with 10 000 listings takes ~70 000 calls."""
    per_second = max(1, min(int(rate_limit), 100_000))
    return {
        "SIMULATOR_EBAY_REQUESTS_PER_SECOND": str(per_second),
        "SIMULATOR_EBAY_REQUEST_BURST": str(per_second),
        "SIMULATOR_ETSY_LIMIT_PER_SECOND": str(per_second),
        "SIMULATOR_VINTED_REQUESTS_PER_SECOND": str(per_second),
    }


def _role(cmdline: list[str]) -> str | None:
    """Which stack process a command line is (the supervisor's children, see stack/services)."""
    if not cmdline:
        return None
    if Path(cmdline[0]).name == "temporal" and "start-dev" in cmdline:
        return "temporal"
    for index in range(len(cmdline) - 1):
        if cmdline[index] == "-m" and cmdline[index + 1] in ("simulator", "api"):
            return "sim" if cmdline[index + 1] == "simulator" else "api"
    if any(Path(arg).name == "worker.py" for arg in cmdline[1:]):
        return "worker"
    return None


@dataclass
class RunningStack:
    supervisor: subprocess.Popen[bytes]
    root: Path
    log_path: Path
    log: IO[bytes]
    env: dict[str, str]
    ports: StackPorts
    signing_secret: str
    admin_token: str
    keep_data: bool = False
    extra_workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _known_pids: set[int] = field(default_factory=set)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    @property
    def simulator_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.simulator}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.ports.temporal}"

    # -- processes -------------------------------------------------------------------------

    def processes(self) -> dict[str, psutil.Process]:
        """The supervisor ("stack"), its children by role, and extra workers ("worker-2", …)."""
        found: dict[str, psutil.Process] = {}
        supervisor = psutil.Process(self.supervisor.pid)
        found["stack"] = supervisor
        for child in supervisor.children(recursive=True):
            try:
                role = _role(child.cmdline())
            except psutil.Error:
                continue
            if role is not None and role not in found:
                found[role] = child
        for number, popen in enumerate(self.extra_workers, start=2):
            if popen.poll() is None:
                found[f"worker-{number}"] = psutil.Process(popen.pid)
        self._known_pids |= {p.pid for name, p in found.items() if name != "stack"}
        return found

    def check_alive(self) -> None:
        if self.supervisor.poll() is not None:
            raise StackError(f"the stack exited with {self.supervisor.returncode}" + self.tail())
        for number, popen in enumerate(self.extra_workers, start=2):
            if popen.poll() is not None:
                raise StackError(f"worker-{number} exited with {popen.returncode}" + self.tail())

    def tail(self, lines: int = 40) -> str:
        self.log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n--- last lines of " + str(self.log_path) + " ---\n" + "\n".join(text[-lines:])

    def add_worker(self, overrides: Mapping[str, str]) -> subprocess.Popen[bytes]:
        """Another ``python worker.py`` with the stack's environment (and no metrics port: the
        stack's worker holds it)."""
        env = {**self.env, "METRICS_PORT": "", **overrides}
        popen = subprocess.Popen(
            [sys.executable, "worker.py"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.extra_workers.append(popen)
        return popen

    def wait_for_pollers(
        self, expected: Mapping[int, tuple[str, ...]], timeout: float = 60
    ) -> None:
        """Until every worker pid polls each of its task queues (``GET /admin/workers``)."""
        deadline = time.monotonic() + timeout
        missing: list[str] = []
        while time.monotonic() < deadline:
            self.check_alive()
            polling = self._pollers()
            missing = [
                f"{pid}:{queue}"
                for pid, queues in expected.items()
                for queue in queues
                if pid not in polling.get(queue, set())
            ]
            if not missing:
                return
            time.sleep(0.5)
        raise StackError(f"workers not polling after {timeout:g} s: {missing}" + self.tail())

    def _pollers(self) -> dict[str, set[int]]:
        try:
            response = httpx.get(
                f"{self.api_url}/admin/workers",
                headers={"Authorization": f"Bearer {self.admin_token}"},
                timeout=10,
                trust_env=False,
            )
        except httpx.HTTPError:
            return {}
        if response.status_code != 200:
            return {}
        result: dict[str, set[int]] = {}
        for queue, view in response.json()["task_queues"].items():
            pids = set()
            for poller in view["pollers"]:
                tail = str(poller.get("identity", "")).rpartition(":")[2]
                if tail.isdigit():
                    pids.add(int(tail))
            result[queue] = pids
        return result

    # -- stop ------------------------------------------------------------------------------

    def stop(self) -> int | None:
        """SIGTERM extra workers, SIGINT the supervisor (it stops its children in reverse
        order); kill whatever is still there after a grace period. Returns its exit code."""
        for popen in self.extra_workers:
            _signal(popen, signal.SIGTERM)
        code = None
        if self.supervisor.poll() is None:
            _signal(self.supervisor, signal.SIGINT)
            try:
                code = self.supervisor.wait(timeout=90)
            except subprocess.TimeoutExpired:
                _signal(self.supervisor, signal.SIGINT)  # the second Ctrl-C: stop at once
                try:
                    code = self.supervisor.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.supervisor.kill()
                    code = self.supervisor.wait()
        else:
            code = self.supervisor.returncode
        for popen in self.extra_workers:
            try:
                popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
        for pid in self._known_pids:  # children left behind by a supervisor that was killed
            try:
                psutil.Process(pid).kill()
            except psutil.Error:
                pass
        self.log.close()
        if not self.keep_data:
            shutil.rmtree(self.root, ignore_errors=True)
        return code


def interrupt_on_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, so the way out stops the stack cleanly; also
    when this process started with SIGINT ignored (run in the background by a shell)."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def _signal(popen: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        popen.send_signal(sig)
    except ProcessLookupError:
        pass


def _wait_ready(stack: RunningStack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        try:
            response = httpx.get(f"{stack.api_url}/ready", timeout=3, trust_env=False)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise StackError(f"GET /ready did not answer 200 within {timeout:g} s" + stack.tail())


@contextmanager
def running_stack(
    *,
    rate_limit: float,
    keep_data: bool = False,
    extra_env: Mapping[str, str] | None = None,
    ready_timeout: float = 180,
) -> Iterator[RunningStack]:
    """``python -m stack --data-dir <fresh> --ui-port <free>``; always stopped on the way out."""
    root = Path(tempfile.mkdtemp(prefix="marketplace-bench-"))
    ports = StackPorts.pick()
    admin_token = secrets.token_urlsafe(32)
    signing_secret = new_signing_secret()
    env = stack_environment(
        ports,
        signing_secret=signing_secret,
        admin_token=admin_token,
        rate_limit=rate_limit,
        base=os.environ,
    )
    env |= dict(extra_env or {})
    log_path = root / "stack.log"
    log = log_path.open("ab")
    argv = [sys.executable, "-m", "stack", "--data-dir", str(root / "data")]
    argv += ["--ui-port", str(ports.ui)]
    supervisor = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        # Our own Ctrl-C must not reach it directly: we stop it once, in order, ourselves.
        start_new_session=True,
    )
    stack = RunningStack(
        supervisor=supervisor,
        root=root,
        log_path=log_path,
        log=log,
        env=env,
        ports=ports,
        signing_secret=signing_secret,
        admin_token=admin_token,
        keep_data=keep_data,
    )
    try:
        _wait_ready(stack, ready_timeout)
        stack.processes()
        yield stack
    finally:
        stack.stop()
