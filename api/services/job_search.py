"""Finding jobs and listings in Temporal visibility (issue 16): ``GET /jobs``, ``GET /listings``
and the pages a bulk operation walks through.

Newest first, by ``JobCreatedAt`` then job id. Temporal's SQL visibility (the dev server's
SQLite, PostgreSQL in compose) has no ``ORDER BY``: it returns open runs by start time and
closed ones by close time. So a page is read from a *window* of creation times just wide
enough to hold it (counted first, ``CountWorkflowExecutions``), sorted here, and the next page
starts below the last row. The window found is kept in the page token as the next guess, so a
page usually costs one count for the total, one for the window and one list of at most a few
pages' rows, whatever the number of jobs.
"""

from __future__ import annotations

import math
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
"""Seconds of creation times the first page looks at before it adapts."""
MAX_COUNTS = 12
"""Counts one page may spend narrowing or widening its window."""
REMEMBERED_WINDOWS = 256
"""Filters whose last window a process keeps as the next first page's guess."""
CLOCK_MARGIN = timedelta(seconds=1)
"""Above ``now`` for the first page's first window. Only where the window starts: the rows'
query has no upper bound, so a job stamped by a gateway whose clock runs ahead is still read."""


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
        self._windows: OrderedDict[str, float] = OrderedDict()
        """A filter's last window width: a first page starts from it rather than from
        ``FIRST_WINDOW``, so it usually costs what a later page does (one count for the total,
        one for the window, one list) instead of up to ``MAX_COUNTS`` counts; the count still
        checks the guess, so a stale one only costs counts, never a wrong page."""

    async def count(self, job_filter: JobFilter) -> int:
        """How many jobs match now."""
        return (await self.client.count_workflows(job_filter.query())).count

    async def jobs(self, job_filter: JobFilter, limit: int, token: PageToken | None) -> JobPage:
        """One page of matches, newest first; ``token`` from the previous page (its filter
        checked by the caller: ``PageToken.decode``)."""
        top = token.created_at if token else None
        total = await self._count(job_filter.query(at_or_before=top))
        if total == 0:
            return JobPage(jobs=[])
        key = f"{job_filter.key()}:{limit}"
        window = token.window if token else self._windows.get(key, FIRST_WINDOW)
        lower: datetime | None = None
        if total > 2 * limit:  # else reading them all is cheaper than counting a window
            upper = top or job_filter.created_before or datetime.now(UTC) + CLOCK_MARGIN
            lower, window = await self._window(job_filter, upper, top, limit, total, window)
            if token is None:
                self._remember(key, window)
        found = await self._read(job_filter.query(at_or_before=top, at_or_after=lower))
        found.sort(key=lambda f: f.order, reverse=True)
        if token is not None:
            seen = [f for f in found if f.order >= (token.created_at, token.job_id)]
            found = found[len(seen) :]
            total -= len(seen)
        rows = found[:limit]
        page = JobPage(jobs=[await _row(f) for f in rows])
        if total > len(rows) and rows:
            last = rows[-1]
            page.next_page_token = PageToken(
                filter_key=job_filter.key(),
                created_at=last.created_at,
                job_id=last.execution.id,
                window=window,
            ).encode()
        return page

    def _remember(self, key: str, window: float) -> None:
        self._windows[key] = window
        self._windows.move_to_end(key)
        while len(self._windows) > REMEMBERED_WINDOWS:
            self._windows.popitem(last=False)

    async def _window(
        self,
        job_filter: JobFilter,
        upper: datetime,
        top: datetime | None,
        limit: int,
        total: int,
        window: float,
    ) -> tuple[datetime | None, float]:
        """A lower bound of creation times whose window (everything from it up) holds between
        ``limit`` and ``2 * limit`` matches, and its width below ``upper`` in seconds; None:
        read every match below ``top``.

        Any window holding at least ``limit`` matches gives the right page (the newest
        ``limit`` are all in it), so the search only trades counts for rows read: widths grow
        or shrink eightfold, then bisect between the last too small and too large ones.
        """
        too_small: float | None = None
        too_large: float | None = None
        for _ in range(MAX_COUNTS):
            try:
                lower = upper - timedelta(seconds=window)
            except OverflowError:  # before year 1: the window is everything
                return None, window
            n = await self._count(job_filter.query(at_or_before=top, at_or_after=lower))
            if limit <= n <= 2 * limit:
                return lower, window
            if n < limit:
                if n >= total:  # all that is left fits in this window
                    return None, window
                too_small = window
                window = window * 8 if too_large is None else math.sqrt(window * too_large)
            else:
                too_large = window
                window = window / 8 if too_small is None else math.sqrt(too_small * window)
        if too_large is not None:  # holds more than a page: right, only more rows to read
            return upper - timedelta(seconds=too_large), too_large  # computed above: no overflow
        return None, window

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
