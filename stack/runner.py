"""Run a list of children as one stack: start all, run until stopped, always clean up."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence

from stack.processes import ProcessSpec, StartupError, Supervisor, describe_exit


def install_stop_signals(supervisor: Supervisor) -> None:
    """Ctrl-C, SIGTERM and a closed terminal all mean: stop everything cleanly."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda _signum, _frame: supervisor.request_stop())


def run_supervised(
    supervisor: Supervisor,
    specs: Sequence[ProcessSpec],
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Start ``specs`` in order, call ``on_ready``, run until told to stop or a child exits.

    Returns 0 after a requested stop, 1 when a child failed to start or exited on its own.
    Every child started is stopped before this returns.
    """
    try:
        for spec in specs:
            if not supervisor.start(spec):
                supervisor.say("stop requested during start-up; stopping")
                return 0
        if on_ready is not None:
            on_ready()
        exited = supervisor.wait_for_exit()
        if exited is None:
            supervisor.say("stopping (press Ctrl-C again to kill at once)")
            return 0
        name, code = exited
        supervisor.say(f"{name} exited unexpectedly with {describe_exit(code)}; stopping the rest")
        return 1
    except StartupError as err:
        supervisor.say(f"{err}; stopping the rest")
        return 1
    finally:
        supervisor.stop_all()
