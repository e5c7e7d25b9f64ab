"""Spaces one worker process's requests to one marketplace at the share its lease allows.

Every request to a marketplace passes through that marketplace's HTTP client
(``activities/registry.py``), whose request hook awaits ``RequestPacer.wait_for_slot``: the
adapters' calls, OAuth token refreshes, eBay's Taxonomy and Metadata lookups, Vinted's
ontologies, an Etsy 429 sent again, each redirect hop. Image downloads have a client of their
own and are not paced (they are not requests to the marketplace).

The pacing is GCRA with a burst of one: requests leave at least ``1 / share`` seconds apart,
so in any window of T seconds the process sends at most ``share * T + 1`` of them (the first
may leave at once after a quiet spell; none is saved up). With no lease, a share of 0 or
a lease that has run out, requests wait until ``set_lease`` gives a usable one: a process that
cannot renew (Temporal unreachable) stops sending instead of guessing.

Waiting requests are served oldest activity first (by when its attempt started): an activity
that already made requests finishes before new ones begin, so a backlog delays the newest
activities instead of stretching every activity towards its start-to-close timeout. While a
request waits, its activity heartbeats every second with its last details
(``activities/heartbeats.py``), so the wait neither times the attempt out nor hides a cancel,
and a cancel removes the request from the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from temporalio import activity

from activities.heartbeats import keep_alive
from domain.marketplaces import Marketplace

Clock = Callable[[], float]
KEEPALIVE_SECONDS = 1.0
"""How often a waiting request heartbeats its activity (the worker's heartbeat throttle)."""


@dataclass(frozen=True)
class LocalLease:
    """A share of the marketplace's rate, usable until ``expires_at`` on the pacer's clock."""

    share_per_second: float
    expires_at: float


@dataclass(order=True)
class _Waiter:
    priority: float
    seq: int
    wake: asyncio.Event = field(default_factory=asyncio.Event, compare=False)
    done: bool = field(default=False, compare=False)


class RequestPacer:
    """One per marketplace per worker process; ``set_lease`` is called by ``LeaseKeeper``."""

    def __init__(
        self,
        marketplace: Marketplace,
        *,
        clock: Clock = time.monotonic,
        keepalive: Callable[[], None] = keep_alive,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
    ) -> None:
        self.marketplace = marketplace
        self.clock = clock
        self.keepalive = keepalive
        self.keepalive_seconds = keepalive_seconds
        self._lease: LocalLease | None = None
        self._next_slot = float("-inf")  # GCRA's theoretical arrival time
        self._queue: list[_Waiter] = []
        self._seq = itertools.count()
        self.sent = 0

    @property
    def lease(self) -> LocalLease | None:
        return self._lease

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def set_lease(self, lease: LocalLease) -> None:
        self._lease = lease
        self._wake_first()

    def close(self) -> None:
        """Send nothing more (until a new lease): the lease is about to be given back."""
        self._lease = None

    async def wait_for_slot(self) -> None:
        """Return when this process may send one request to the marketplace (and count it)."""
        waiter = _Waiter(_priority(), next(self._seq))
        heapq.heappush(self._queue, waiter)
        self._wake_first()
        try:
            last_beat = self.clock()
            while True:
                delay = self._delay(waiter)
                if delay == 0.0:
                    self._take(waiter)
                    return
                # Woken early when this request becomes first in line or the lease changes;
                # the others only wake to heartbeat.
                waiter.wake.clear()
                timeout = self.keepalive_seconds if delay is None else delay
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(timeout, self.keepalive_seconds)):
                        await waiter.wake.wait()
                if self.clock() - last_beat >= self.keepalive_seconds:
                    self.keepalive()
                    last_beat = self.clock()
        finally:
            if not waiter.done:  # cancelled (or failed) while waiting: leave the queue
                self._queue.remove(waiter)
                heapq.heapify(self._queue)
                self._wake_first()

    def _delay(self, waiter: _Waiter) -> float | None:
        """0.0: ``waiter`` may go now; seconds until its slot; None: wait for a change (it is
        not first in line, or there is no usable lease)."""
        if self._queue[0] is not waiter:
            return None
        lease, now = self._lease, self.clock()
        if lease is None or lease.share_per_second <= 0:
            return None
        slot = max(now, self._next_slot)
        if slot >= lease.expires_at:
            return None  # no slot left in this lease: wait for its renewal
        return max(0.0, slot - now)

    def _take(self, waiter: _Waiter) -> None:
        lease = self._lease
        assert lease is not None
        heapq.heappop(self._queue)
        waiter.done = True
        self._next_slot = max(self.clock(), self._next_slot) + 1.0 / lease.share_per_second
        self.sent += 1
        self._wake_first()

    def _wake_first(self) -> None:
        if self._queue:
            self._queue[0].wake.set()


def _priority() -> float:
    """When this request's activity attempt started (epoch seconds); now, outside one."""
    if activity.in_activity():
        return activity.info().started_time.timestamp()
    return time.time()


def paced_request_hook(pacer: RequestPacer) -> Callable[[httpx.Request], object]:
    """An httpx ``request`` event hook: runs before every request the client sends, whichever
    transport (proxy included) then carries it."""

    async def wait_for_slot(request: httpx.Request) -> None:
        await pacer.wait_for_slot()

    return wait_for_slot
