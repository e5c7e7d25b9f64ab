"""``python -m bench.top_frames FILE [N]``: where a py-spy raw profile spends its samples.

Reads py-spy's ``--format raw`` output (BENCH_PROFILE=1 BENCH_PROFILE_FORMAT=raw) and prints
the N functions with the most samples, inclusive (the function or anything it called) and
self, as a share of the samples of busy threads (idle pool threads waiting on a queue and the
event loop's selector are left out, so the shares are of CPU, not of wall time).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

IDLE = ("_worker (concurrent/futures/thread.py", "select (selectors.py", "wait (threading.py")


def frame_name(frame: str) -> str:
    """``function (path/to/file.py:123)`` -> ``function (file.py)``."""
    function, _, where = frame.partition(" (")
    return f"{function} ({where.rsplit('/', 1)[-1].split(':')[0]})" if where else function


def summarise(lines: list[str]) -> tuple[int, Counter[str], Counter[str]]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if any(idle in frames[-1] for idle in IDLE):
            continue
        samples = int(count)
        total += samples
        for name in {frame_name(f) for f in frames}:
            inclusive[name] += samples
        own[frame_name(frames[-1])] += samples
    return total, inclusive, own


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    top = int(argv[1]) if len(argv) > 1 else 30
    total, inclusive, own = summarise(Path(argv[0]).read_text().splitlines())
    print(f"{total} busy samples")
    print("inclusive:")
    for name, samples in inclusive.most_common(top):
        print(f"  {samples * 100 / max(total, 1):5.1f} %  {name}")
    print("self:")
    for name, samples in own.most_common(top):
        print(f"  {samples * 100 / max(total, 1):5.1f} %  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
