"""Children that get SIGTERM when the supervisor dies, even by SIGKILL (PR_SET_PDEATHSIG, Linux)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


# Resolved once in the parent: the code between fork and exec should do as little as possible.
_PRCTL = _load_prctl()


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` after which the child gets ``sig`` when this process dies; None where
    the kernel offers no such thing (there the watchdog in ``stack.watchdog`` does the work).

    The kernel sends it when the *thread* that forked exits, so spawn from a thread that lives
    as long as the supervisor (the main thread does).
    """
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(sig), 0, 0, 0)
        # The parent may have died between fork and prctl: then no signal would ever come, and
        # a signal sent to ourselves here would reach the supervisor's inherited Python handler.
        if os.getppid() != parent:
            os._exit(1)

    return preexec
