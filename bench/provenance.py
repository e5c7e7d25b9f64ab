"""Where a result came from: the git commit and the machine."""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any

import psutil

from bench.settings import REPO_ROOT


def git_state() -> dict[str, Any]:
    """HEAD and whether tracked files differ from it (read-only: no index refresh, no lock)."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD") or None, "dirty": bool(status)}


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
