"""Issue 12 item 5: RequestPacer, the one gate of a worker process's requests to a marketplace.

Times are real but short (shares of 10-50 requests/s); what each test measures is when the
pacer let requests go, on its own clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from activities.images import ImageFetcher
from activities.registry import open_worker_http
from activities.request_pacer import LocalLease, RequestPacer
from config.settings import Settings
from domain.marketplaces import Marketplace

pytestmark = pytest.mark.asyncio(loop_scope="session")

EBAY = Marketplace.EBAY


def leased(share: float, seconds: float = 60.0, **options: Any) -> RequestPacer:
    pacer = RequestPacer(EBAY, **options)
    pacer.set_lease(LocalLease(share, time.monotonic() + seconds))
    return pacer


async def released_at(pacer: RequestPacer, requests: int) -> list[float]:
    """Send ``requests`` at once; when each was let go (monotonic), in order."""
    times: list[float] = []

    async def one() -> None:
        await pacer.wait_for_slot()
        times.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(requests)))
    return times


async def still_waiting(awaitable: Awaitable[Any], for_seconds: float) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(awaitable)
    await asyncio.sleep(for_seconds)
    assert not task.done(), "let go without a usable lease"
    return task


async def test_requests_leave_one_over_the_share_apart_without_a_burst():
    """GCRA with a burst of one: the first goes at once, each next 1/share later; so no
    window of one second ever holds more than ceil(share) of them."""
    pacer = leased(20.0)
    started = time.monotonic()
    times = await released_at(pacer, 10)
    assert times[0] - started < 0.02
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 20 - 0.002, gaps
    assert pacer.sent == 10


async def test_nothing_leaves_without_a_lease_with_a_share_of_0_or_after_the_lease_ran_out():
    pacer = RequestPacer(EBAY)
    waiting = await still_waiting(pacer.wait_for_slot(), 0.2)
    pacer.set_lease(LocalLease(0.0, time.monotonic() + 60))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    pacer.set_lease(LocalLease(50.0, time.monotonic() + 0.2))
    await asyncio.wait_for(waiting, 1)

    await asyncio.sleep(0.25)  # the lease ran out: a process that cannot renew stops sending
    waiting = await still_waiting(pacer.wait_for_slot(), 0.2)
    pacer.set_lease(LocalLease(50.0, time.monotonic() + 60))
    await asyncio.wait_for(waiting, 1)


async def test_no_slot_is_taken_beyond_the_end_of_the_lease():
    """At 2/s the second slot is 0.5 s after the first: past a lease that ends in 0.3 s, so
    it waits for the renewal instead of counting on a share nobody granted for then."""
    pacer = leased(2.0, seconds=0.3)
    await pacer.wait_for_slot()
    waiting = await still_waiting(pacer.wait_for_slot(), 0.7)
    pacer.set_lease(LocalLease(2.0, time.monotonic() + 60))
    await asyncio.wait_for(waiting, 1)


async def in_activity_started(at: datetime, call: Callable[[], Awaitable[Any]]) -> Any:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, started_time=at)

    async def activity() -> Any:  # a coroutine function, so it runs as an async activity
        return await call()

    return await env.run(activity)


async def test_the_oldest_activity_goes_first():
    """A backlog delays the newest activities, not every activity a little."""
    pacer = leased(10.0)
    await pacer.wait_for_slot()  # the next slot is 0.1 s away: both below wait for it
    order: list[str] = []
    now = datetime.now(UTC)

    async def request(name: str) -> None:
        await pacer.wait_for_slot()
        order.append(name)

    young = asyncio.create_task(in_activity_started(now, lambda: request("young")))
    await asyncio.sleep(0.01)
    old = asyncio.create_task(
        in_activity_started(now - timedelta(minutes=1), lambda: request("old"))
    )
    await asyncio.gather(young, old)
    assert order == ["old", "young"]


async def test_a_cancelled_request_leaves_the_queue():
    pacer = RequestPacer(EBAY)
    waiting = await still_waiting(pacer.wait_for_slot(), 0.05)
    assert pacer.waiting == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pacer.waiting == 0
    pacer.set_lease(LocalLease(50.0, time.monotonic() + 60))
    await asyncio.wait_for(pacer.wait_for_slot(), 1)
    assert pacer.sent == 1


async def test_a_waiting_request_keeps_its_activity_alive():
    beats: list[float] = []
    pacer = RequestPacer(
        EBAY, keepalive=lambda: beats.append(time.monotonic()), keepalive_seconds=0.1
    )
    waiting = await still_waiting(pacer.wait_for_slot(), 0.45)
    assert len(beats) >= 3
    waiting.cancel()


async def test_every_marketplace_client_is_paced_and_image_downloads_are_not(
    settings: Settings, simulator_url: str
):
    """The worker's clients (activities/registry.py): each marketplace's waits for its pacer
    (here with no lease: it waits); image downloads (their own guarded client) go at once."""
    pacers = {m: RequestPacer(m) for m in Marketplace}
    async with open_worker_http(settings, pacers) as http:
        local = settings.model_copy(update={"image_fetch_override_url": f"{simulator_url}/images"})
        async with ImageFetcher(local).fetch_all(["https://example.com/a.jpg"]) as images:
            assert images[0].size > 0
        for marketplace, client in http.marketplaces.items():
            waiting = await still_waiting(client.get(f"{simulator_url}/__sim/config"), 0.1)
            pacers[marketplace].set_lease(LocalLease(50.0, time.monotonic() + 60))
            assert (await asyncio.wait_for(waiting, 2)).status_code == 200
            assert pacers[marketplace].sent == 1
