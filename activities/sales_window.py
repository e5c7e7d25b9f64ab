"""The window an order reader reads, from its opaque cursor, and the cursor it hands back.

A cursor is the UTC time (ISO 8601) at which the previous read *started*, on the worker's
clock. The next read asks for everything the marketplace modified since that time less
``OVERLAP``, open-ended (no end date):

- an order modified while a read pages through its results, or just after, is modified at or
  after the read started, so the next window holds it;
- the marketplace stamps ``lastModifiedDate`` / ``updated_timestamp`` on its own clock: up to
  ``OVERLAP`` of skew between it and the worker (or between the workers that run successive
  reads) loses nothing, and it absorbs a marketplace whose search shows a write a little late;
- no end date, because eBay refuses one in its future (getOrders 30850) and a worker clock a
  second ahead would make every read fail.

An order is therefore read more than once (the overlap, and again when it is modified): the
listing entity counts each ``OrderLine.key`` once. Pages are read with ``PAGE_OVERLAP`` results
in common, so an order that moves up a few places between two pages (one before it modified or
cancelled, in a result sorted by modification time) is still read; what one read saw twice is
returned once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio import activity

from activities.http_errors import MARKETPLACE_VALIDATION_ERROR, marketplace_error
from domain.marketplaces import Marketplace
from domain.sales import OrderLine, OrdersPage, ReadOrdersRequest
from domain.timestamps import format_utc

OVERLAP = timedelta(seconds=10)
PAGE_OVERLAP = 10
"""Results each page re-reads of the one before (the reader asks for 100-200 a page)."""


@dataclass(frozen=True)
class ReadWindow:
    since: datetime
    """Ask for orders modified at or after this (the cursor less ``OVERLAP``)."""
    next_cursor: str
    """Hand back: the time this read started."""

    @classmethod
    def of(
        cls, request: ReadOrdersRequest, now: datetime, *, history: timedelta | None = None
    ) -> ReadWindow:
        """The window of ``request`` read at ``now``. A cursor of None starts from now; one
        older than ``history`` (what the marketplace keeps searchable) is moved up to it."""
        start = parse_utc(request.cursor) if request.cursor else now
        since = min(start, now) - OVERLAP
        if history is not None:
            since = max(since, now - history)
        return cls(since=since, next_cursor=format_utc(now))


def read_window(
    marketplace: Marketplace, request: ReadOrdersRequest, *, history: timedelta | None = None
) -> ReadWindow:
    """``ReadWindow.of`` the request, now; a cursor no reader made fails without retries."""
    try:
        return ReadWindow.of(request, datetime.now(UTC), history=history)
    except ValueError:
        raise marketplace_error(
            marketplace,
            "read_orders",
            MARKETPLACE_VALIDATION_ERROR,
            f"cursor {request.cursor!r} is not one read_orders_{marketplace.value} returned",
        ) from None


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time (a cursor, eBay's dates) as UTC; ValueError for anything else."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def next_offset(offset: int, page_length: int, total: int) -> int | None:
    """Where the next page starts (``PAGE_OVERLAP`` back), or None when this was the last."""
    end = offset + page_length
    if page_length == 0 or end >= total:
        return None
    return max(offset + 1, end - PAGE_OVERLAP)


def orders_page(lines: list[OrderLine], window: ReadWindow, what: str) -> OrdersPage:
    """What a read returns: its lines, each key once (pages overlap), and the next cursor.
    Logged as ``<what> since <time>: N lines``: INFO when it found lines, DEBUG when empty
    (a read runs every SALES_SYNC_INTERVAL)."""
    unique: dict[str, OrderLine] = {}
    for line in lines:
        unique.setdefault(line.key, line)
    log = activity.logger.info if unique else activity.logger.debug
    log("%s since %s: %d lines", what, window.since, len(unique))
    return OrdersPage(lines=list(unique.values()), next_cursor=window.next_cursor)
