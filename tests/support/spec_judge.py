"""pytest plugin: every marketplace HTTP exchange the tests make is judged by the official spec.

One hook, on ``httpx.AsyncClient.send`` for the whole session, so no client escapes it: the
activities' shared client (``activities.registry.create_http_client``, the activity tests'
``http`` fixture, the API tests' ``session_worker``), a test's own short-timeout client, any
OAuth client an adapter makes. Only URLs ``simulator.spec.locate`` maps to a marketplace API
are judged; the simulator's ``/__sim`` control routes and the gateway under test are not.

An exchange the document rejects (request, or the simulator's response) FAILS the test that
was running when it was made, with the errors in the failure message (the API tests' session
worker publishes the jobs a test pays, while that test waits for them); outside any test it
fails the session. Tests that talk to the simulator directly and off-spec on purpose (its own
validation tests) opt out with ``with spec_judge.paused(): ...`` (tests/simulator does so for
all of its tests). At the end: "spec judge: N exchanges validated (eBay a, Etsy b), R rejected,
V Vinted without spec".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from domain.marketplaces import Marketplace
from simulator.spec import Verdict, judge_exchange, locate

_SESSION = "(outside any test)"
_NAMES = {Marketplace.EBAY: "eBay", Marketplace.ETSY: "Etsy", Marketplace.VINTED: "Vinted"}


class SpecJudgeRecorder:
    """Judges and counts the exchanges; keeps each test's rejections until its report."""

    def __init__(self) -> None:
        self.validated: Counter[Marketplace] = Counter()
        self.without_spec: Counter[Marketplace] = Counter()
        self.rejected = 0
        self.current = _SESSION
        self._paused = 0
        self._rejections: defaultdict[str, list[Verdict]] = defaultdict(list)
        self._original_send: Any = None

    def install(self) -> None:
        original = self._original_send = httpx.AsyncClient.send
        recorder = self

        async def send(client: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> Any:
            if recorder._paused or locate(request.url) is None:
                return await original(client, request, **kwargs)
            await request.aread()  # a multipart stream, kept as bytes for the judge
            try:
                response = await original(client, request, **kwargs)
            except httpx.TransportError:
                recorder.record(request, None)  # a timeout: the request alone is judged
                raise
            if not kwargs.get("stream"):
                await response.aread()
            recorder.record(request, None if kwargs.get("stream") else response)
            return response

        httpx.AsyncClient.send = send  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original_send is not None:
            httpx.AsyncClient.send = self._original_send  # type: ignore[method-assign]

    def record(self, request: httpx.Request, response: httpx.Response | None) -> None:
        verdict = judge_exchange(request, response)
        if verdict is None:
            return
        if not verdict.has_spec:
            self.without_spec[verdict.marketplace] += 1
            return
        self.validated[verdict.marketplace] += 1
        if verdict.rejected:
            self.rejected += 1
            self._rejections[self.current].append(verdict)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Exchanges made inside are neither judged nor counted (deliberately off-spec)."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def has_rejections(self, owner: str) -> bool:
        return bool(self._rejections.get(owner))

    def take_rejections(self, owner: str) -> list[Verdict]:
        return self._rejections.pop(owner, [])

    def summary(self) -> str:
        ebay, etsy = self.validated[Marketplace.EBAY], self.validated[Marketplace.ETSY]
        line = (
            f"spec judge: {ebay + etsy} exchanges validated (eBay {ebay}, Etsy {etsy}), "
            f"{self.rejected} rejected, {self.without_spec[Marketplace.VINTED]} Vinted without spec"
        )
        others = {m: n for m, n in self.without_spec.items() if m is not Marketplace.VINTED}
        if others:  # the OAuth token endpoints: documented in prose, in no OpenAPI document
            named = ", ".join(f"{_NAMES[m]} {n}" for m, n in sorted(others.items()))
            line += f", {sum(others.values())} calls no document covers ({named})"
        return line


def rejection_report(verdicts: list[Verdict]) -> str:
    head = (
        f"spec judge: the official OpenAPI document rejects {len(verdicts)} marketplace "
        "exchange(s) this test made:"
    )
    return "\n".join([head, *(verdict.describe() for verdict in verdicts)])


RECORDER = SpecJudgeRecorder()


def pytest_configure(config: pytest.Config) -> None:
    RECORDER.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    RECORDER.uninstall()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    RECORDER.current = item.nodeid
    try:
        yield
    finally:
        RECORDER.current = _SESSION


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    rejected = RECORDER.take_rejections(item.nodeid)
    if not rejected:
        return
    text = rejection_report(rejected)
    if report.passed:
        report.outcome = "failed"
        report.longrepr = text
    else:
        report.sections.append(("spec judge", text))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if RECORDER.has_rejections(_SESSION) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    outside = RECORDER.take_rejections(_SESSION)
    if outside:
        terminalreporter.write_line(rejection_report(outside).replace("this test", "no test"))
    terminalreporter.write_line(RECORDER.summary())


@pytest.fixture
def spec_judge() -> SpecJudgeRecorder:
    """The session's recorder (``with spec_judge.paused(): ...`` for off-spec calls)."""
    return RECORDER
