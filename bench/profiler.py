"""py-spy flame graphs of stack processes while a phase runs (BENCH_PROFILE=1).

py-spy reads the target's memory with ptrace; without the permission (a container without
CAP_SYS_PTRACE, kernel.yama.ptrace_scope) it exits at once: that is reported, not fatal.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


def py_spy_binary() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.is_file() else shutil.which("py-spy")


@dataclass
class Recording:
    name: str
    output: Path
    popen: subprocess.Popen[bytes] | None
    error: str | None = None


SUFFIX = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}


class Profiler:
    def __init__(self, output_format: str = "flamegraph") -> None:
        self.recordings: list[Recording] = []
        self.format = output_format

    def start(self, targets: dict[str, psutil.Process], output_prefix: Path) -> None:
        binary = py_spy_binary()
        output_prefix.parent.mkdir(parents=True, exist_ok=True)
        for name, process in targets.items():
            suffix = SUFFIX[self.format]
            output = output_prefix.with_name(f"{output_prefix.name}-{name}.{suffix}")
            if binary is None:
                self.recordings.append(Recording(name, output, None, "py-spy is not installed"))
                continue
            argv = [binary, "record", "--nonblocking", "--pid", str(process.pid)]
            argv += ["--output", str(output), "--format", self.format]
            popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            self.recordings.append(Recording(name, output, popen))
        time.sleep(1.0)  # a py-spy that cannot attach has exited by now
        for recording in self.recordings:
            if recording.popen is not None and recording.popen.poll() is not None:
                recording.error = _output(recording.popen)

    def stop(self) -> dict[str, str]:
        """Stop every recording (SIGINT makes py-spy write its file); name -> file or error."""
        report: dict[str, str] = {}
        for recording in self.recordings:
            popen = recording.popen
            if popen is not None and popen.poll() is None:
                popen.send_signal(signal.SIGINT)
                try:
                    popen.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    popen.kill()
                    popen.wait()
                if not recording.output.exists():
                    recording.error = _output(popen) or f"exit {popen.returncode}, no file"
            if recording.error:
                report[recording.name] = f"py-spy failed: {recording.error}"
            else:
                report[recording.name] = str(recording.output)
        self.recordings = []
        return report


def _output(popen: subprocess.Popen[bytes]) -> str:
    """py-spy's error line (its Rust backtrace left out), else its last line."""
    out = popen.stdout.read() if popen.stdout else b""
    lines = [line.strip() for line in out.decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return "; ".join(errors[:2]) or (lines[-1] if lines else f"exit code {popen.returncode}")
