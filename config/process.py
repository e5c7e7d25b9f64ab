"""Process exit that survives the Temporal Rust runtime's threads at interpreter shutdown."""

from __future__ import annotations

import logging
import os
import sys


def exit_process(code: int) -> None:
    """Flush and leave with ``code`` without running CPython finalisation.

    The Temporal core runtime keeps native threads that can abort interpreter finalisation
    with "PyGILState_Release: thread state ... must be current" (temporalio/sdk-python#300),
    turning a clean exit into SIGABRT. Everything that matters is flushed first, so the
    exit code is the real one.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)
