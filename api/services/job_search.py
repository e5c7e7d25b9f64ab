"""Finding jobs and listings in Temporal visibility (issue 16): ``GET /jobs``, ``GET /listings``
and the pages a bulk operation walks through.

Newest first, by ``JobCreatedAt`` then job id. Temporal's SQL visibility (the dev server's
SQLite, PostgreSQL in compose) refuses ``ORDER BY`` ("operation is not supported") and lists
open runs by start time, then closed runs by close time. So a page is read from a *window* of
creation times just wide enough to hold it: counted first (``CountWorkflowExecutions``, a few
ms: an index range), then listed whole and sorted here; the next page starts below its last
row.

What a page costs is the rows it lists: on the dev server a listed row costs ~0.5 ms (its memo
and search attributes, server and client), a count 2-10 ms. So the window search spends counts
to list few rows: it aims at ``limit`` + 1 matches (the page and one more, which says a next
page exists) with a slack of a quarter page, interpolating the width from the counts it saw.
Its first guess: for a next page, the width the previous page needed (in the token); for a
first page, the lower bound the same filter needed last time in this process (jobs are added
above it, so it still holds a page; if it now holds too many, the counts narrow it). Measured
with ``make bench-search``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from temporalio.client import Client, WorkflowExecution

from domain.job_search import JOB_CREATED_AT, JOB_MARKETPLACES, JOB_SKU, JOB_STATUS
from domain.listing_entity import ListingView, listing_workflow_id
from domain.marketplaces import Marketplace
from domain.search_filters import JobFilter, ListingFilter, PageToken
from domain.status import JobStatus, MarketplaceStatus
from domain.timestamps import UtcDatetime

FIRST_WINDOW = 3600.0
"""Seconds of creation times a filter's first page counts first when nothing is known."""
MAX_COUNTS = 12
"""Counts one window search may spend."""
RESOLUTION = 1e-6
"""Seconds: creation times are stamped to the microsecond, no window is narrower."""
REMEMBERED_FILTERS = 256
"""Filters whose last lower bound a process keeps as the next first page's guess."""
CLOCK_MARGIN = timedelta(seconds=1)
"""Above ``now`` for the first page's window. Only where the window starts: the rows' query has
no upper bound, so a job stamped by a gateway whose clock runs ahead is still read."""


class JobRow(BaseModel):
    """One job of ``GET /jobs``."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    status: JobStatus
    sku: str
    marketplaces: dict[Marketplace, MarketplaceStatus]
    created_at: UtcDatetime
    updated_at: UtcDatetime


class JobPage(BaseModel):
    """``GET /jobs``: ``next_page_token`` is null on the last page."""

    model_config = ConfigDict(extra="forbid")

    jobs: list[JobRow]
    next_page_token: str | None = None


class ListingPage(BaseModel):
    """``GET /listings``: each listing's view (as of its last change)."""

    model_config = ConfigDict(extra="forbid")

    listings: list[ListingView]
    next_page_token: str | None = None


@dataclass(frozen=True)
class _Found:
    execution: WorkflowExecution
    created_at: datetime

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.created_at, self.execution.id)


class JobSearch:
    """Visibility reads around the process's one Temporal client."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._lowers: OrderedDict[str, datetime] = OrderedDict()
        """A filter's (and limit's) last first-page lower bound."""

    async def count(self, job_filter: JobFilter) -> int:
        """How many jobs match now."""
        return await self._count(job_filter.query())

    async def jobs(self, job_filter: JobFilter, limit: int, token: PageToken | None) -> JobPage:
        """One page of matches, newest first; ``token`` from the previous page (its filter
        checked by the caller: ``PageToken.decode``)."""
        top = token.created_at if token else None
        after = (token.created_at, token.job_id) if token else None
        upper = top or job_filter.created_before or datetime.now(UTC) + CLOCK_MARGIN
        key = f"{job_filter.key()}:{limit}"
        width = token.window if token else FIRST_WINDOW
        if token is None and (known := self._lowers.get(key)) is not None and known < upper:
            width = (upper - known).total_seconds()
        # `<= top` also counts the previous page's last row.
        want = limit + 1 + (1 if token else 0)
        while True:
            lower, width = await self._window(job_filter, upper, top, want, width)
            found = [
                f
                for f in await self._read(job_filter.query(at_or_before=top, at_or_after=lower))
                if after is None or f.order < after
            ]
            if lower is None or len(found) > limit:
                break
            want += limit  # rows tied with the previous page's last one took the margin
        if token is None and lower is not None:
            self._remember(key, lower)
        found.sort(key=lambda f: f.order, reverse=True)
        rows = found[:limit]
        page = JobPage(jobs=[await _row(f) for f in rows])
        if len(found) > limit:
            last = rows[-1]
            page.next_page_token = PageToken(
                filter_key=job_filter.key(),
                created_at=last.created_at,
                job_id=last.execution.id,
                window=width,
            ).encode()
        return page

    def _remember(self, key: str, lower: datetime) -> None:
        self._lowers[key] = lower
        self._lowers.move_to_end(key)
        while len(self._lowers) > REMEMBERED_FILTERS:
            self._lowers.popitem(last=False)

    async def _window(
        self, job_filter: JobFilter, upper: datetime, top: datetime | None, want: int, width: float
    ) -> tuple[datetime | None, float]:
        """A lower bound of creation times whose window (from it up to ``top``) holds from
        ``want`` to ``want`` + a quarter page matches, and its width below ``upper`` in
        seconds; None: every match up to ``top`` (fewer than ``want`` are left).

        Any window holding at least ``want`` matches gives the right page, so the search only
        trades counts for rows listed: the width is interpolated from the counts seen (the
        density of creation times), grown at most eightfold while nothing is known above it.
        """
        slack = max(10, want // 4)
        aim = want + slack / 2
        small: tuple[float, int] | None = None  # (width, count) of the widest too small
        large: tuple[float, int] | None = None  # of the narrowest too large
        total: int | None = None
        anchored = top is not None
        side = ""  # of the last count: "small" or "large"
        for _ in range(MAX_COUNTS):
            try:
                lower = upper - timedelta(seconds=width)
            except OverflowError:  # before year 1: the window is everything
                return None, width
            n = await self._count(job_filter.query(at_or_before=top, at_or_after=lower))
            if want <= n <= want + slack or (n > want and width <= RESOLUTION):
                return lower, width  # (or jobs created in one microsecond: no narrower window)
            if n == 0 and not anchored and small is None and large is None:
                anchored = True  # nothing recent: start below the newest match instead
                newest = await self._newest(job_filter)
                if newest is None:
                    return None, width
                upper = min(upper, newest)
                continue
            if n < want:
                if total is None:
                    total = await self._count(job_filter.query(at_or_before=top))
                if n >= total:  # all that is left fits in this window
                    return None, width
                small, again, side = (width, n), side == "small", "small"
            else:
                large, again, side = (width, n), side == "large", "large"
            # Interpolation, or halving when it landed on the same side twice (counts that
            # jump, as jobs created in a burst make them, would slow it to a crawl).
            width = max(_next_width(small, large, aim, halve=again), RESOLUTION)
        if large is not None:  # holds more than a page: right, only more rows to list
            return upper - timedelta(seconds=large[0]), large[0]  # computed above: no overflow
        return None, width

    async def _newest(self, job_filter: JobFilter) -> datetime | None:
        """An upper bound of the newest match's creation time, from the head of each of
        visibility's lists (open runs by start time, closed ones by close time: neither is
        earlier than the creation); None: no match."""
        keys = []
        for running in (True, False):
            async for execution in self.client.list_workflows(
                job_filter.query(running=running), page_size=1
            ):
                keys.append(execution.start_time if running else execution.close_time)
                break
        found = [k for k in keys if k is not None]
        return max(found) + CLOCK_MARGIN if found else None

    async def _count(self, query: str) -> int:
        return (await self.client.count_workflows(query)).count

    async def _read(self, query: str) -> list[_Found]:
        found = []
        async for execution in self.client.list_workflows(query, page_size=1000):
            created = execution.typed_search_attributes.get(JOB_CREATED_AT)
            if created is not None:
                found.append(_Found(execution, created))
        return found

    async def listings(
        self, listing_filter: ListingFilter, limit: int, token: bytes | None
    ) -> tuple[list[ListingView], bytes | None]:
        """One page of listings in the server's order (running entities, newest run first)
        and the server's own next-page token."""
        iterator = self.client.list_workflows(
            listing_filter.query(), page_size=limit, next_page_token=token
        )
        await iterator.fetch_next_page(page_size=limit)
        views = []
        for execution in iterator.current_page or []:
            memo = await execution.memo_value("listing", default=None)
            if memo is None:  # started, no change applied yet: the view of an empty entity
                sku = execution.id.removeprefix(listing_workflow_id(""))
                memo = _empty_listing(sku, execution.start_time)
            views.append(ListingView.model_validate(memo))
        return views, iterator.next_page_token or None


def _next_width(
    small: tuple[float, int] | None, large: tuple[float, int] | None, aim: float, *, halve: bool
) -> float:
    """The next window width to count, from the widest too small and the narrowest too large
    (width, count) seen: between them, linear in the counts (clamped inside, so it always
    moves) or halfway (``halve``); from one side only, proportional to its density (at most
    8 times wider)."""
    if small is not None and large is not None:
        (ws, ns), (wl, nl) = small, large
        if halve:
            return (ws + wl) / 2
        guess = ws + (wl - ws) * (aim - ns) / (nl - ns)
        return min(max(guess, ws + (wl - ws) / 8), wl - (wl - ws) / 8)
    if large is not None:
        width, n = large
        return width * aim / n
    assert small is not None
    width, n = small
    return width * (min(aim / n, 8.0) if n else 8.0)


async def _row(found: _Found) -> JobRow:
    """A job's row: status, SKU and creation from its search attributes (what the filters
    matched), marketplaces and ``updated_at`` from its memo (written on every transition)."""
    execution = found.execution
    attributes = execution.typed_search_attributes
    marketplaces: Any = await execution.memo_value("marketplaces", default=None)
    updated_at: Any = await execution.memo_value("updated_at", default=None)
    if not marketplaces or updated_at is None:  # no workflow task yet: the view at start
        view = await execution.memo_value("view", default={}) or {}
        marketplaces = marketplaces or {
            m: s["status"] for m, s in view.get("marketplaces", {}).items()
        }
        updated_at = updated_at or view.get("updated_at") or found.created_at
    if not marketplaces:  # started on Temporal without the gateway's memo: the attributes
        names = list(attributes.get(JOB_MARKETPLACES) or [])
        marketplaces = {
            n: "failed" if f"{n}:failed" in names else "pending" for n in names if ":" not in n
        }
    return JobRow(
        job_id=execution.id,
        status=JobStatus(attributes.get(JOB_STATUS) or JobStatus.AWAITING_PAYMENT),
        sku=attributes.get(JOB_SKU) or "",
        marketplaces=marketplaces,
        created_at=found.created_at,
        updated_at=updated_at,
    )


def _empty_listing(sku: str, started: datetime) -> dict[str, Any]:
    return {"sku": sku, "status": "pending", "quantity": 0, "marketplaces": {}, "job_ids": []} | {
        "updated_at": started.isoformat()
    }
