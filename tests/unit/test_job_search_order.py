"""``GET /jobs``'s newest-first pages (api/services/job_search.py) against a stand-in of
Temporal's SQL visibility that lists in the dev server's own order (open runs by start time,
then closed runs by close time, newest first; tests/api/test_find_jobs.py runs the real one)
and counts.

Generated shops: jobs created in bursts (ties in creation times), quiet hours, some closed
seconds after creation, some days later. Every page walk must return every job once, newest
first by (created_at, job_id), with full pages and no empty last page; a first page of 10 000
jobs lists little more than its rows.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.services.job_search import JobSearch
from domain.job_search import JOB_CREATED_AT, JOB_SKU, JOB_STATUS
from domain.search_filters import JobFilter, PageToken

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Run:
    """A job's visibility record, as ``client.list_workflows`` yields it."""

    id: str
    created_at: datetime
    start_time: datetime
    close_time: datetime | None

    @property
    def typed_search_attributes(self) -> TypedSearchAttributes:
        return TypedSearchAttributes(
            [
                SearchAttributePair(JOB_CREATED_AT, self.created_at),
                SearchAttributePair(JOB_STATUS, "completed" if self.close_time else "running"),
                SearchAttributePair(JOB_SKU, "SKU" + self.id),
            ]
        )

    async def memo_value(self, key: str, default: Any = None) -> Any:
        return {"marketplaces": {"ebay": "pending"}, "updated_at": self.start_time.isoformat()}.get(
            key, default
        )


class Visibility:
    """Temporal's SQL visibility over job runs: counts, and lists in its own order (open runs
    by start time, then closed runs by close time, newest first) filtered by the creation
    window ``JobFilter.query`` adds; ``ORDER BY`` refused as the server refuses it."""

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        self.rows_listed = 0
        self.counts = 0

    def _matching(self, query: str) -> list[Run]:
        assert "ORDER BY" not in query
        rows = list(self.runs)
        if "ExecutionStatus = 'Running'" in query:
            rows = [r for r in rows if r.close_time is None]
        elif "ExecutionStatus != 'Running'" in query:
            rows = [r for r in rows if r.close_time is not None]
        if match := re.search(r"JobCreatedAt <= '([^']+)'", query):
            rows = [r for r in rows if r.created_at <= datetime.fromisoformat(match[1])]
        if match := re.search(r"JobCreatedAt >= '([^']+)'", query):
            rows = [r for r in rows if r.created_at >= datetime.fromisoformat(match[1])]
        never = datetime.max.replace(tzinfo=UTC)
        rows.sort(key=lambda r: (r.close_time or never, r.start_time, r.id), reverse=True)
        return rows

    async def list_workflows(self, query: str, *, page_size: int) -> AsyncIterator[Run]:
        for run in self._matching(query):
            self.rows_listed += 1
            yield run

    async def count_workflows(self, query: str) -> Any:
        self.counts += 1
        return SimpleNamespace(count=len(self._matching(query)))


def walk(visibility: Visibility, limit: int) -> list[list[str]]:
    search = JobSearch(visibility)  # type: ignore[arg-type]

    async def pages() -> list[list[str]]:
        out, token = [], None
        while True:
            decoded = PageToken.decode(token, JobFilter()) if token else None
            page = await search.jobs(JobFilter(), limit, decoded)
            out.append([row.job_id for row in page.jobs])
            if (token := page.next_page_token) is None:
                return out

    return asyncio.run(pages())


@st.composite
def shops(draw: st.DrawFn) -> list[Run]:
    """Jobs created in bursts (many within the same millisecond) and after quiet hours or
    days, started up to 300 ms after their creation, half open, the others closed seconds or
    days later (their place in visibility's own order)."""
    runs = []
    clock = T0
    for i in range(draw(st.integers(0, 120))):
        clock += timedelta(
            milliseconds=draw(st.sampled_from([0, 0, 1, 5, 400, 60_000, 3_600_000, 259_200_000]))
        )
        start = clock + timedelta(milliseconds=draw(st.integers(0, 300)))
        ends = draw(st.sampled_from(["open", "open", "seconds", "days"]))
        close = {
            "open": None,
            "seconds": start + timedelta(seconds=draw(st.integers(0, 30))),
            "days": start + timedelta(days=draw(st.integers(1, 9))),
        }[ends]
        runs.append(Run(f"job-{i:03d}", clock, start, close))
    return runs


@settings(max_examples=150, deadline=None, database=None)
@given(runs=shops(), limit=st.integers(1, 25))
def test_pages_walk_every_job_once_newest_first(runs: list[Run], limit: int):
    visibility = Visibility(runs)

    pages = walk(visibility, limit)

    walked = [job_id for page in pages for job_id in page]
    expected = [r.id for r in sorted(runs, key=lambda r: (r.created_at, r.id), reverse=True)]
    assert walked == expected
    assert all(len(page) == limit for page in pages[:-1])
    assert pages[-1] or not runs  # no empty last page behind a token


def test_a_first_page_lists_about_its_rows_and_the_next_first_page_starts_where_it_ended():
    """10 000 jobs, one a second, the last four weeks ago: the first page of 100 lists at
    most a page and a quarter, after a few counts and the heads of visibility's two lists; the
    same first page again needs one count."""
    runs = [
        Run(f"job-{i:05d}", T0 + timedelta(seconds=i), T0 + timedelta(seconds=i, milliseconds=50),
            None if i % 10 == 0 else T0 + timedelta(seconds=i + 5))
        for i in range(10_000)
    ]  # fmt: skip
    visibility = Visibility(runs)
    search = JobSearch(visibility)  # type: ignore[arg-type]
    newest = [f"job-{i:05d}" for i in range(9999, 9899, -1)]

    async def twice() -> tuple[list[str], int, int, list[str]]:
        first = await search.jobs(JobFilter(), 100, None)
        listed, counts = visibility.rows_listed, visibility.counts
        visibility.counts = 0
        again = await search.jobs(JobFilter(), 100, None)
        return [r.job_id for r in first.jobs], listed, counts, [r.job_id for r in again.jobs]

    first, listed, counts, again = asyncio.run(twice())

    assert first == newest and again == newest
    assert listed <= 2 + 101 + 26, listed
    assert counts <= 8, counts
    assert visibility.counts == 1
