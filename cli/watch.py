"""``watch``: poll a job or batch until it settles, live in a terminal, line by line elsewhere."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, Protocol, TextIO

from rich.console import Console, RenderableType
from rich.live import Live

from cli import display
from cli.client import ApiClient
from cli.errors import EXIT_FAILED, EXIT_OK, ApiError, ApiUnreachableError
from cli.payment import is_batch_id

POLL_INTERVAL = 0.5
GIVE_UP_AFTER = 30.0
"""Seconds of unreachable or unavailable API (a restart, Temporal down) before watch gives up."""
TRANSIENT_STATUSES = (502, 503, 504)
JOB_ROWS_UP_TO = 50
"""A settled batch this small lists its unsuccessful jobs one by one (one GET each)."""


class SafeInterrupt:
    """Ctrl-C stops polling between requests, never inside one.

    A KeyboardInterrupt raised inside an httpx call can leave its connection pool's lock held,
    and closing the client then waits forever (seen as a ``watch`` that ignored Ctrl-C on a
    busy machine). So SIGINT only sets a flag while a request runs; it is raised at once while
    waiting between polls, and right after the request otherwise.
    """

    def __init__(self) -> None:
        self.requested = False
        self._waiting = False
        self._previous: Any = None

    def __enter__(self) -> SafeInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self._waiting:
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    def sleep(self, seconds: float) -> None:
        self.check()
        self._waiting = True
        try:
            time.sleep(seconds)
        finally:
            self._waiting = False
        self.check()


class View(Protocol):
    def show(self, view: dict[str, Any]) -> None: ...
    def note(self, text: str) -> None: ...


class PlainView:
    """A line whenever the summary changes: fit for pipes, CI logs and tests."""

    def __init__(self, line_of: Callable[[dict[str, Any]], str], out: TextIO) -> None:
        self.line_of = line_of
        self.out = out
        self.started = time.monotonic()
        self.last = ""

    def show(self, view: dict[str, Any]) -> None:
        self.note(self.line_of(view))

    def note(self, text: str) -> None:
        if text != self.last:
            self.last = text
            print(f"[{time.monotonic() - self.started:6.1f}s] {text}", file=self.out, flush=True)


class LiveView:
    """A table redrawn in place (rich.live); spinners move between polls."""

    def __init__(self, render: Callable[[dict[str, Any]], RenderableType], live: Live) -> None:
        self.render = render
        self.live = live
        self.last_note = ""

    def show(self, view: dict[str, Any]) -> None:
        self.last_note = ""
        self.live.update(self.render(view), refresh=True)

    def note(self, text: str) -> None:
        if text != self.last_note:
            self.last_note = text
            self.live.console.print(text, style="dim", markup=False)


def watch(
    client: ApiClient,
    target_id: str,
    *,
    interval: float = POLL_INTERVAL,
    interactive: bool | None = None,
    out: TextIO | None = None,
) -> int:
    """Poll until completed (exit 0), failed or cancelled (exit 1). Ctrl-C propagates."""
    out = out or sys.stdout
    batch = is_batch_id(target_id)
    path = f"/batches/{target_id}" if batch else f"/status/{target_id}"
    console = Console(file=out)
    if interactive is None:
        interactive = console.is_terminal
    if interactive:
        render = display.batch_renderable if batch else display.job_renderable
        with Live(console=console, refresh_per_second=8, transient=False) as live:
            final = _poll(client, path, LiveView(render, live), interval)
    else:
        line_of = display.batch_line if batch else display.job_line
        final = _poll(client, path, PlainView(line_of, out), interval)
    closing = _batch_outcome(client, final) if batch else display.job_outcome(final)
    for line in closing:
        print(line, file=out, flush=True)
    return EXIT_OK if final["status"] == "completed" else EXIT_FAILED


def _poll(client: ApiClient, path: str, view: View, interval: float) -> dict[str, Any]:
    """Once the API has answered, an outage (a restart) is waited out for GIVE_UP_AFTER s; a
    wrong address or a first answer that is an error fails at once."""
    with SafeInterrupt() as interrupt:
        return _poll_until_settled(client, path, view, interval, interrupt)


def _poll_until_settled(
    client: ApiClient, path: str, view: View, interval: float, interrupt: SafeInterrupt
) -> dict[str, Any]:
    unavailable_since: float | None = None
    answered = False
    while True:
        interrupt.check()
        try:
            current = client.get(path)
        except (ApiUnreachableError, ApiError) as err:
            transient = not isinstance(err, ApiError) or err.status in TRANSIENT_STATUSES
            if not (answered and transient):
                raise
            now = time.monotonic()
            unavailable_since = unavailable_since or now
            if now - unavailable_since > GIVE_UP_AFTER:
                raise
            view.note(f"API unavailable, still trying: {err.message}")
            interrupt.sleep(interval)
            continue
        unavailable_since, answered = None, True
        view.show(current)
        if current.get("status") in display.SETTLED:
            return current
        interrupt.sleep(interval)


def _batch_outcome(client: ApiClient, view: dict[str, Any]) -> list[str]:
    """For a small batch that did not fully complete: which jobs did not, and why."""
    job_ids = view.get("job_ids") or []
    if view["status"] == "completed" or not 0 < len(job_ids) <= JOB_ROWS_UP_TO:
        return []
    lines = []
    for job_id in job_ids:
        try:
            job = client.get(f"/status/{job_id}")
        except (ApiError, ApiUnreachableError) as err:
            lines.append(f"  job {job_id}: {err.message}")
            continue
        if job.get("status") != "completed":
            lines.append(f"  {display.job_line(job)}")
    return lines
