"""A watchdog process: stops the supervisor's children when the supervisor dies, even by SIGKILL.

The supervisor writes ``watch <pgid> <grace>`` and ``forget <pgid>`` lines to the watchdog's
stdin. The kernel closes that pipe when the supervisor dies, however it dies; every group still
watched then gets SIGTERM and, after its grace, SIGKILL: the policy of a normal stop. Unlike
PR_SET_PDEATHSIG it reaches grandchildren (a child's whole process group), children that ignore
SIGTERM, and platforms other than Linux. Run as ``python -m stack.watchdog``; stdlib only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

# Where ``python -m stack.watchdog`` finds the package, whatever the supervisor's cwd.
_PACKAGE_PARENT = Path(__file__).resolve().parents[1]


class Watchdog:
    """The supervisor's end: started with the first watched group, closed after the last stop."""

    def __init__(self) -> None:
        self._groups: dict[int, float] = {}
        self._process: subprocess.Popen[str] | None = None

    def watch(self, pgid: int, grace: float) -> None:
        self._groups[pgid] = grace
        if self._process is None or self._process.poll() is not None:
            self._start()  # tells a fresh watchdog every group, this one included
        else:
            self._send(f"watch {pgid} {grace:g}")

    def forget(self, pgid: int) -> None:
        if self._groups.pop(pgid, None) is not None and self._process is not None:
            self._send(f"forget {pgid}")

    def close(self) -> None:
        """Let the watchdog go: it stops whatever is still watched and exits."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            assert process.stdin is not None
            process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()  # it waits out a child's grace only when a group was left running
            process.wait()

    def _start(self) -> None:
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "stack.watchdog"],
                cwd=_PACKAGE_PARENT,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
                # Its own session: a Ctrl-C or a kill of the terminal's process group, which
                # may take the supervisor down, must not take the watchdog along.
                start_new_session=True,
            )
        except OSError:
            self._process = None  # PR_SET_PDEATHSIG still covers the direct children on Linux
            return
        for pgid, grace in self._groups.items():
            self._send(f"watch {pgid} {grace:g}")

    def _send(self, line: str) -> None:
        if self._process is None or self._process.stdin is None:
            return
        try:
            self._process.stdin.write(line + "\n")
            self._process.stdin.flush()
        except (OSError, ValueError):
            self._process.poll()  # it died: reap it; the next watch() starts another
            self._process = None


def read_commands(lines: Iterable[str]) -> dict[int, float]:
    """The groups still watched when ``lines`` ends; malformed lines are ignored."""
    groups: dict[int, float] = {}
    for line in lines:
        match line.split():
            case ["watch", pgid, grace] if pgid.isdigit():
                try:
                    groups[int(pgid)] = float(grace)
                except ValueError:
                    continue
            case ["forget", pgid] if pgid.isdigit():
                groups.pop(int(pgid), None)
    return groups


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the group; False when no process of it is left (or none is ours)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_groups(groups: Mapping[int, float], poll_interval: float = 0.05) -> None:
    """SIGTERM every group, then SIGKILL each one still there after its grace."""
    began = time.monotonic()
    left = {pgid: grace for pgid, grace in groups.items() if _signal_group(pgid, signal.SIGTERM)}
    while left:
        elapsed = time.monotonic() - began
        for pgid, grace in list(left.items()):
            if not _signal_group(pgid, 0):
                del left[pgid]
            elif elapsed >= grace:
                _signal_group(pgid, signal.SIGKILL)
                del left[pgid]
        time.sleep(poll_interval)


def main() -> int:
    # A terminal's signals are the supervisor's business; only the closed pipe means "stop".
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    groups = read_commands(sys.stdin)
    if groups:
        names = ", ".join(str(pgid) for pgid in groups)
        try:
            print(f"[stack]    supervisor gone; stopping its children ({names})", file=sys.stderr)
        except OSError:
            pass  # the terminal went with it
        stop_groups(groups)
    return 0


if __name__ == "__main__":
    sys.exit(main())
