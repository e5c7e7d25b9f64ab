"""How one marketplace's request rate is shared by worker processes: leases on a share of it.

Pure (time passed in): ``workflows/request_budget.py`` keeps the leases and calls ``grant``; the
tests check the same functions. The rule (README "Rate limits"):

- A lease gives one worker process ``share_per_second`` requests/s until ``expires_at``.
- A worker that asks gets ``min(rate / workers, rate - committed by the others)``, never less
  than 0: ``workers`` counts every process holding a live lease (one of 0 too) and the asker;
  ``committed`` is, per process, the largest share among its live leases.
- A renewal does not replace the older leases of that process: until each expires the process
  may still be sending at its share (the answer to its renewal is on the way), so the largest
  one counts. A process whose share shrinks therefore frees the difference only when its
  older, larger lease runs out (at most one lease period later); a newcomer gets 0 until then.
- ``rate`` is the strictest limit configured among the processes holding live leases and the
  asker (a lowered limit binds every process at its next renewal; a raised one once every
  process with the old value has gone or renewed with the new one).

Why the sum holds: the others' committed shares never grow until another grant, which is
checked in turn, and each new share fits beside them as they are now; so at every instant
the shares of the leases live at that instant add up to at most ``rate`` (for an unchanged
``rate``; after a lowering, once the leases granted under the higher value have expired).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

SHARE_RESOLUTION = 1e-6
"""Shares are rounded down to this (requests/s), so float error never rounds a sum up."""


class Lease(BaseModel):
    """One grant: ``worker_id`` may send ``share_per_second`` requests/s until ``expires_at``."""

    model_config = ConfigDict(frozen=True)

    worker_id: str
    share_per_second: float = Field(ge=0)
    rate_per_second: float = Field(gt=0)
    """The limit that process is configured with (``<MARKETPLACE>_RATE_LIMIT``)."""
    granted_at: datetime
    expires_at: datetime


def live(leases: Iterable[Lease], now: datetime) -> list[Lease]:
    """The leases granted by ``now`` and not yet expired."""
    return [lease for lease in leases if lease.granted_at <= now < lease.expires_at]


def committed(leases: Iterable[Lease], worker_id: str) -> float:
    """What ``worker_id`` may be sending at: the largest share among ``leases`` of its."""
    return max((x.share_per_second for x in leases if x.worker_id == worker_id), default=0.0)


def committed_total(leases: Sequence[Lease], at: datetime) -> float:
    """The sum over processes of what each may be sending at, at instant ``at``."""
    now_live = live(leases, at)
    return sum(committed(now_live, w) for w in {x.worker_id for x in now_live})


def effective_rate(leases: Iterable[Lease], asked_rate: float) -> float:
    """The strictest configured limit among ``leases`` (live ones) and the asker's."""
    return min([asked_rate, *(x.rate_per_second for x in leases)])


def _round_down(share: float) -> float:
    return max(0.0, math.floor(share / SHARE_RESOLUTION) * SHARE_RESOLUTION)


def grant(
    leases: Sequence[Lease],
    worker_id: str,
    rate_per_second: float,
    now: datetime,
    valid: timedelta,
) -> tuple[Lease, list[Lease]]:
    """A new lease for ``worker_id`` and the leases to keep: the live ones and the new one,
    less that process's older leases the new one covers (no larger share, earlier expiry)."""
    kept = live(leases, now)
    rate = effective_rate(kept, rate_per_second)
    workers = {x.worker_id for x in kept} | {worker_id}
    others = sum(committed(kept, w) for w in workers - {worker_id})
    share = _round_down(min(rate / len(workers), rate - others))
    lease = Lease(
        worker_id=worker_id,
        share_per_second=share,
        rate_per_second=rate_per_second,
        granted_at=now,
        expires_at=now + valid,
    )
    covered = [
        x
        for x in kept
        if x.worker_id == worker_id
        and x.share_per_second <= share
        and x.expires_at <= lease.expires_at
    ]
    return lease, [x for x in kept if x not in covered] + [lease]
