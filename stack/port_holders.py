"""Which processes listen on a TCP port: pid and command line, from /proc (lsof elsewhere)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_TCP_LISTEN = "0A"  # the state column of /proc/net/tcp{,6}
_MAX_COMMAND = 100


@dataclass(frozen=True)
class PortHolder:
    pid: int
    command: str  # "" when it cannot be read

    def describe(self) -> str:
        return f"pid {self.pid} ({self.command})" if self.command else f"pid {self.pid}"


def port_holders(port: int, proc: Path = Path("/proc")) -> list[PortHolder]:
    """Who listens on ``port``, by pid; empty when nobody does or nobody visible to us does
    (another user's process hides its file descriptors)."""
    if (proc / "net" / "tcp").exists():
        return [PortHolder(pid, _command(proc, pid)) for pid in _proc_pids(port, proc)]
    return _lsof_holders(port)


def describe_holders(port: int) -> str:
    """`` by pid 123 (python -m api)`` to append to "port N is already in use", or ""."""
    holders = port_holders(port)
    return " by " + ", ".join(h.describe() for h in holders) if holders else ""


def _listening_inodes(port: int, proc: Path) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            rows = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if len(fields) < 10 or fields[3] != _TCP_LISTEN or fields[9] == "0":
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _proc_pids(port: int, proc: Path) -> list[int]:
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port, proc)}
    if not wanted:
        return []
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue  # gone, or not ours to look at
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in wanted:
                pids.append(int(entry.name))
                break
    return sorted(pids)


def _command(proc: Path, pid: int) -> str:
    try:
        argv = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
        # One line whatever the arguments hold (``python -c`` code has newlines).
        command = " ".join(b" ".join(argv).decode("utf-8", "replace").split())
        if not command:  # kernel threads and zombies have no command line
            command = (proc / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""
    return command if len(command) <= _MAX_COMMAND else command[: _MAX_COMMAND - 3] + "..."


def _lsof_holders(port: int) -> list[PortHolder]:
    lsof = shutil.which("lsof")
    if lsof is None:
        return []
    try:
        result = subprocess.run(
            [lsof, "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fpc"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    holders: list[PortHolder] = []
    pid = None
    for line in result.stdout.splitlines():
        if line.startswith("p") and line[1:].isdigit():
            pid = int(line[1:])
        elif line.startswith("c") and pid is not None:
            holders.append(PortHolder(pid, line[1:]))
            pid = None
    return holders
