"""CPU and memory of the stack's processes over one phase: CPU seconds (user + system) from
``cpu_times`` deltas, peak RSS from a background thread sampling every ``interval`` seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil

MB = 1024 * 1024


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _machine_busy_seconds() -> float:
    """CPU seconds every core spent not idle since boot (whoever used them)."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return float(sum(times) - idle)


@dataclass
class ProcessUsage:
    cpu_seconds: float
    peak_rss_mb: float
    start_rss_mb: float
    end_rss_mb: float
    gone: bool = False  # exited (or was restarted) during the phase: numbers are partial

    def as_dict(self) -> dict[str, Any]:
        return {
            "cpu_s": round(self.cpu_seconds, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "start_rss_mb": round(self.start_rss_mb, 1),
            "end_rss_mb": round(self.end_rss_mb, 1),
            **({"gone": True} if self.gone else {}),
        }


@dataclass
class PhaseUsage:
    wall_seconds: float
    processes: dict[str, ProcessUsage]
    machine_busy_seconds: float
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def other_cpu_seconds(self) -> float:
        """Busy CPU time of processes that are not ours (noise from the rest of the machine)."""
        ours = sum(p.cpu_seconds for p in self.processes.values())
        return max(0.0, self.machine_busy_seconds - ours)


class Sampler:
    """``start()`` before a phase, ``stop()`` after it. ``timeline_every``: also keep the RSS of
    every process every that many seconds (the soak's memory curve)."""

    def __init__(
        self,
        processes: Mapping[str, psutil.Process],
        *,
        interval: float = 0.5,
        timeline_every: float | None = None,
    ) -> None:
        self._processes = dict(processes)
        self._interval = interval
        self._timeline_every = timeline_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu_start: dict[str, float] = {}
        self._cpu_last: dict[str, float] = {}
        self._rss_start: dict[str, float] = {}
        self._rss_last: dict[str, float] = {}
        self._peak: dict[str, float] = {}
        self._gone: set[str] = set()
        self._timeline: list[dict[str, Any]] = []
        self._started = 0.0
        self._busy_start = 0.0

    def start(self) -> None:
        for name, process in self._processes.items():
            try:
                self._cpu_start[name] = self._cpu_last[name] = _cpu_seconds(process)
                rss = process.memory_info().rss / MB
            except psutil.Error:
                self._gone.add(name)
                continue
            self._rss_start[name] = self._rss_last[name] = self._peak[name] = rss
        self._started = time.monotonic()
        self._busy_start = _machine_busy_seconds()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> dict[str, float]:
        current: dict[str, float] = {}
        for name, process in self._processes.items():
            if name in self._gone:
                continue
            try:
                rss = process.memory_info().rss / MB
                # Kept as we go: a process that dies still counts what it used until then.
                self._cpu_last[name] = _cpu_seconds(process)
            except psutil.Error:
                self._gone.add(name)
                continue
            current[name] = rss
            self._rss_last[name] = rss
            self._peak[name] = max(self._peak.get(name, 0.0), rss)
        return current

    def _run(self) -> None:
        next_point = 0.0
        while not self._stop.wait(self._interval):
            current = self._sample()
            elapsed = time.monotonic() - self._started
            if self._timeline_every is not None and elapsed >= next_point:
                self._timeline.append(
                    {"t_s": round(elapsed, 1), **{k: round(v, 1) for k, v in current.items()}}
                )
                next_point = elapsed + self._timeline_every

    def stop(self) -> PhaseUsage:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        wall = time.monotonic() - self._started
        busy = _machine_busy_seconds() - self._busy_start
        usage = {
            name: ProcessUsage(
                cpu_seconds=self._cpu_last[name] - self._cpu_start[name],
                peak_rss_mb=self._peak.get(name, 0.0),
                start_rss_mb=self._rss_start.get(name, 0.0),
                end_rss_mb=self._rss_last.get(name, 0.0),
                gone=name in self._gone,
            )
            for name in self._processes
            if name in self._cpu_start
        }
        return PhaseUsage(wall, usage, busy, self._timeline)
