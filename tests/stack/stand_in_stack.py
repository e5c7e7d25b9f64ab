"""A stack of stand-in children run by the real supervisor code, for the signal tests.

Run as ``python -m tests.stack.stand_in_stack``; prints ``ALL READY`` once both are up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stack.processes import ProcessSpec, Supervisor
from stack.runner import install_stop_signals, run_supervised

SLEEPER = "import os, time; print(f'pid={os.getpid()}', flush=True); time.sleep(600)"


def main() -> int:
    specs = [
        ProcessSpec(name=name, argv=[sys.executable, "-c", SLEEPER], settle_seconds=0.2)
        for name in ("first", "second")
    ]
    supervisor = Supervisor(env=os.environ, cwd=Path.cwd(), poll_interval=0.05)
    install_stop_signals(supervisor)
    return run_supervised(supervisor, specs, on_ready=lambda: supervisor.write("ALL READY\n"))


if __name__ == "__main__":
    sys.exit(main())
