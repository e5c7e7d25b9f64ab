"""A small supervisor: start children in order, wait for each to be ready, stop them in reverse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from stack.parent_death import die_with_parent
from stack.watchdog import Watchdog


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one child and how to tell that it is ready."""

    name: str
    argv: Sequence[str]
    # None: the child counts as started once it has stayed alive for ``settle_seconds``.
    ready: Callable[[], bool] | None = None
    ready_timeout: float = 60.0
    settle_seconds: float = 1.0
    stop_timeout: float = 10.0
    # The dev server logs every poll it cancels while shutting down; none of it is news then.
    quiet_when_stopping: bool = False
    # Stateless children (worker, API) are started again when they die: Temporal keeps the
    # jobs, so killing the worker mid-job shows the job resume on the new one.
    restart_on_exit: bool = False


MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0


class StartupError(Exception):
    """A child could not be started or did not become ready."""


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


@dataclass
class _Child:
    spec: ProcessSpec
    popen: subprocess.Popen[bytes]
    pump: threading.Thread | None = None
    stopping: bool = False
    restarts: list[float] | None = None


class Supervisor:
    """Owns the children; every line they print is shown with ``[name]`` in front."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        cwd: Path,
        out: TextIO | None = None,
        poll_interval: float = 0.1,
        name_width: int = 8,
    ) -> None:
        self._env = dict(env)
        self._cwd = cwd
        self._out = out if out is not None else sys.stdout
        self._poll_interval = poll_interval
        self._name_width = name_width
        self._children: list[_Child] = []
        self._write_lock = threading.RLock()
        self._stop = threading.Event()
        self._force = threading.Event()
        self._watchdog = Watchdog()

    # -- output ----------------------------------------------------------------------------

    def _emit(self, name: str, line: str) -> None:
        prefix = f"[{name}]".ljust(self._name_width + 2)
        self.write(f"{prefix} {line}\n")

    def write(self, text: str) -> None:
        with self._write_lock:
            try:
                self._out.write(text)
                self._out.flush()
            except (BrokenPipeError, ValueError):
                pass  # the terminal went away; the children must still be stopped

    def say(self, message: str) -> None:
        self._emit("stack", message)

    def _pump(self, child: _Child) -> None:
        stream = child.popen.stdout
        assert stream is not None
        for raw in iter(stream.readline, b""):
            if child.stopping and child.spec.quiet_when_stopping:
                continue
            self._emit(child.spec.name, raw.decode("utf-8", "replace").rstrip("\r\n"))
        stream.close()

    # -- stop requests (signal-handler safe: no locks, no output) ----------------------------

    def request_stop(self) -> None:
        """First call: stop gracefully. Second call: stop without waiting for anyone."""
        if self._stop.is_set():
            self._force.set()
        self._stop.set()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, spec: ProcessSpec) -> bool:
        """Start ``spec`` and wait until it is ready.

        Returns False when a stop was requested meanwhile; raises StartupError when the child
        cannot run, exits early or is not ready in time.
        """
        self.say(f"starting {spec.name}: {' '.join(spec.argv)}")
        child = self._spawn(spec)
        self._children.append(child)
        return self._wait_ready(child)

    def _spawn(self, spec: ProcessSpec) -> _Child:
        try:
            popen = subprocess.Popen(
                list(spec.argv),
                cwd=self._cwd,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Own process group: Ctrl-C in the terminal reaches only the supervisor, which
                # then stops the children one by one in reverse order instead of all at once.
                start_new_session=True,
                # That also means nothing stops them if the supervisor is killed (kill -9): the
                # kernel (Linux) and the watchdog then do, so no port outlives the stack.
                preexec_fn=die_with_parent(),
            )
        except OSError as err:
            raise StartupError(f"{spec.name}: cannot run {spec.argv[0]}: {err}") from err
        self._watchdog.watch(popen.pid, spec.stop_timeout)
        child = _Child(spec, popen)
        child.pump = threading.Thread(target=self._pump, args=(child,), daemon=True)
        child.pump.start()
        return child

    def _wait_ready(self, child: _Child) -> bool:
        spec = child.spec
        started = time.monotonic()
        while True:
            code = child.popen.poll()
            if code is not None:
                raise StartupError(
                    f"{spec.name} exited with {describe_exit(code)} before it was ready"
                )
            if self._stop.is_set():
                return False
            if spec.ready is None:
                ready = time.monotonic() - started >= spec.settle_seconds
            else:
                ready = _probe(spec.ready)
            if ready:
                self.say(f"{spec.name} is ready ({time.monotonic() - started:.1f} s)")
                return True
            if time.monotonic() - started > spec.ready_timeout:
                raise StartupError(f"{spec.name} was not ready after {spec.ready_timeout:g} s")
            self._stop.wait(self._poll_interval)

    def wait_for_exit(self) -> tuple[str, int] | None:
        """Block until a stop is requested (None) or a child exits ((name, exit code))."""
        while not self._stop.is_set():
            for index, child in enumerate(self._children):
                code = child.popen.poll()
                if code is None:
                    continue
                if not self._may_restart(child):
                    return child.spec.name, code
                self.say(f"{child.spec.name} exited with {describe_exit(code)}; restarting it")
                # Before the spawn: the new child could be given the same, now free, pid.
                self._watchdog.forget(child.popen.pid)
                try:
                    fresh = self._spawn(child.spec)
                except StartupError:
                    return child.spec.name, code
                fresh.restarts = child.restarts
                self._children[index] = fresh
            self._stop.wait(self._poll_interval)
        return None

    def _may_restart(self, child: _Child) -> bool:
        """Restart a restartable child unless it crash-loops (MAX_RESTARTS in the window)."""
        if not child.spec.restart_on_exit:
            return False
        now = time.monotonic()
        recent = [t for t in (child.restarts or []) if now - t < RESTART_WINDOW_SECONDS]
        if len(recent) >= MAX_RESTARTS:
            self.say(f"{child.spec.name} keeps exiting; giving up")
            return False
        child.restarts = [*recent, now]
        return True

    def stop_all(self) -> None:
        """SIGTERM each child, newest first; SIGKILL any that outlives its stop_timeout."""
        while self._children:
            self._stop_child(self._children.pop())
        self._watchdog.close()

    def _stop_child(self, child: _Child) -> None:
        spec = child.spec
        if child.popen.poll() is None:
            child.stopping = True
            _signal_group(child.popen, signal.SIGTERM)
            deadline = time.monotonic() + spec.stop_timeout
            while child.popen.poll() is None and time.monotonic() < deadline:
                if self._force.wait(0.05):
                    break
            if child.popen.poll() is None:
                self.say(f"{spec.name} still running; killing it")
                _signal_group(child.popen, signal.SIGKILL)
            code = child.popen.wait()
            # uvicorn re-raises the SIGTERM it handled, so -SIGTERM is a normal stop too.
            clean = code in (0, -signal.SIGTERM)
            self.say(f"{spec.name} stopped" + ("" if clean else f" ({describe_exit(code)})"))
        self._watchdog.forget(child.popen.pid)
        if child.pump is not None:
            # A grandchild may hold the pipe open; its output is not worth waiting for.
            child.pump.join(timeout=2)

    @property
    def running(self) -> list[str]:
        return [c.spec.name for c in self._children if c.popen.poll() is None]


def _probe(ready: Callable[[], bool]) -> bool:
    try:
        return bool(ready())
    except Exception:
        return False


def _signal_group(popen: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(popen.pid, sig)
    except ProcessLookupError:
        pass
