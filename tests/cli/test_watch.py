"""``watch``: polling until settled, exit codes, plain lines without a TTY, the rich display."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from rich.console import Console

from cli import display
from cli.client import ApiClient
from cli.errors import ApiError, ApiUnreachableError
from cli.watch import watch

JOB_ID = "4b3f0c2e-8a51-4f0e-9d55-2f1f4f1f9a10"
BATCH_ID = "batch-2b1f8f7e-0c1d-4e7a-9a51-1f1f4f1f9a10"


def job_view(status: str, **marketplaces: dict[str, Any]) -> dict[str, Any]:
    states = {
        name: {"status": "pending", "attempts": 0, "listing_id": None, "listing_url": None}
        | marketplaces.get(name, {})
        for name in ("ebay", "etsy", "vinted")
    }
    return {"job_id": JOB_ID, "status": status, "marketplaces": states, "error": None}


def batch_view(status: str, progress: int, **counts: int) -> dict[str, Any]:
    return {
        "batch_id": BATCH_ID,
        "status": status,
        "progress": progress,
        "counts": counts,
        "size": 3,
        "job_ids": [f"{BATCH_ID}-{i:05d}" for i in range(3)],
    }


def scripted(answers: list[httpx.Response]) -> Callable[[httpx.Request], httpx.Response]:
    """Answers in order; the last one again and again."""

    def answer(_: httpx.Request) -> httpx.Response:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return answer


def run_watch(
    target: str, answer: Callable[[httpx.Request], httpx.Response], interactive: bool = False
) -> tuple[int, str]:
    out = io.StringIO()
    with ApiClient("http://api", transport=httpx.MockTransport(answer)) as client:
        code = watch(client, target, interval=0, interactive=interactive, out=out)
    return code, out.getvalue()


def test_a_completed_job_exits_0_with_a_line_per_change_and_its_listings() -> None:
    listed = {
        "status": "completed",
        "attempts": 1,
        "listing_id": "L1",
        "listing_url": "https://l/1",
    }
    answers = [
        httpx.Response(200, json=job_view("running", ebay={"status": "running", "attempts": 1})),
        httpx.Response(200, json=job_view("running", ebay={"status": "running", "attempts": 1})),
        httpx.Response(200, json=job_view("running", ebay={"status": "running", "attempts": 2})),
        httpx.Response(200, json=job_view("completed", ebay=listed, etsy=listed, vinted=listed)),
    ]

    code, output = run_watch(JOB_ID, scripted(answers))

    lines = output.splitlines()
    assert code == 0
    assert len(lines) == 3 + 3, "one line per change, then one per marketplace"
    assert lines[0].endswith(
        f"job {JOB_ID}: running | ebay running (attempt 1) | etsy pending | vinted pending"
    )
    assert "ebay running (attempt 2)" in lines[1]
    assert f"job {JOB_ID}: completed | ebay completed (listing L1)" in lines[2]
    assert lines[3] == "  ebay completed (listing L1) https://l/1"


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_a_failed_or_cancelled_job_exits_1_and_says_why(status: str) -> None:
    error = {"code": "validation_error", "message": "HTTP 400"}
    failed = job_view(status, ebay={"status": "failed", "attempts": 1, "error": error})
    failed["error"] = {"code": "marketplace_failed", "message": "ebay: HTTP 400"}

    code, output = run_watch(JOB_ID, scripted([httpx.Response(200, json=failed)]))

    assert code == 1
    assert "ebay failed (validation_error: HTTP 400)" in output
    assert "  error: marketplace_failed: ebay: HTTP 400" in output


def test_a_batch_shows_progress_and_counts_until_completed() -> None:
    answers = [
        httpx.Response(200, json=batch_view("awaiting_payment", 0, awaiting_payment=3)),
        httpx.Response(200, json=batch_view("running", 33, running=2, completed=1)),
        httpx.Response(200, json=batch_view("completed", 100, completed=3)),
    ]

    code, output = run_watch(BATCH_ID, scripted(answers))

    lines = output.splitlines()
    assert code == 0
    assert lines[0].endswith(f"batch {BATCH_ID}: awaiting_payment 0% (3 jobs: 3 awaiting_payment)")
    assert lines[1].endswith("running 33% (3 jobs: 2 running, 1 completed)")
    assert lines[2].endswith("completed 100% (3 jobs: 3 completed)")
    assert len(lines) == 3


def test_a_failed_small_batch_lists_its_unsuccessful_jobs() -> None:
    failed_job = job_view("failed", ebay={"status": "failed", "attempts": 1})
    failed_job["job_id"] = f"{BATCH_ID}-00001"

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/batches/{BATCH_ID}":
            return httpx.Response(200, json=batch_view("failed", 100, completed=2, failed=1))
        if request.url.path.endswith("-00001"):
            return httpx.Response(200, json=failed_job)
        return httpx.Response(200, json=job_view("completed"))

    code, output = run_watch(BATCH_ID, answer)

    assert code == 1
    assert (
        output.splitlines()[-1]
        == f"  job {BATCH_ID}-00001: failed | ebay failed | etsy pending | vinted pending"
    )


def test_an_api_outage_after_the_first_answer_is_waited_out() -> None:
    answers = [
        httpx.Response(200, json=job_view("running")),
        httpx.Response(503, json={"detail": "Temporal is unavailable"}),
        httpx.Response(200, json=job_view("completed")),
    ]

    code, output = run_watch(JOB_ID, scripted(answers))

    assert code == 0
    assert "API unavailable, still trying: 503 Temporal is unavailable" in output


def test_an_unknown_job_or_a_first_answer_that_is_an_error_fails_at_once() -> None:
    with pytest.raises(ApiError, match="404 job x not found"):
        run_watch("x", scripted([httpx.Response(404, json={"detail": "job x not found"})]))
    with pytest.raises(ApiError, match="503 down"):
        run_watch(JOB_ID, scripted([httpx.Response(503, json={"detail": "down"})]))


def test_an_api_gone_for_too_long_names_its_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cli.watch.GIVE_UP_AFTER", 0.0)
    answers = [httpx.Response(200, json=job_view("running"))]

    def refuse_after_first(request: httpx.Request) -> httpx.Response:
        if answers:
            return answers.pop()
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ApiUnreachableError, match="cannot connect to the API at http://api"):
        run_watch(JOB_ID, refuse_after_first)


def test_the_interactive_display_renders_jobs_and_batches() -> None:
    listed = {"status": "completed", "attempts": 1, "listing_id": "L1"}
    console = Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)

    console.print(
        display.job_renderable(
            job_view("running", ebay=listed, etsy={"status": "running", "attempts": 2})
        )
    )
    console.print(display.batch_renderable(batch_view("running", 66, running=1, completed=2)))

    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert f"job {JOB_ID}  running" in text
    assert "ebay" in text and "L1" in text and "etsy" in text
    assert f"batch {BATCH_ID}  running" in text
    assert " 66%" in text and "3 jobs: 1 running, 2 completed" in text


def test_watch_in_live_mode_ends_with_the_final_view() -> None:
    code, output = run_watch(
        JOB_ID, scripted([httpx.Response(200, json=job_view("cancelled"))]), interactive=True
    )

    assert code == 1
    assert "cancelled" in output


def test_ctrl_c_during_a_request_stops_watch_after_that_request_not_inside_it():
    """Issue 11 (a test that failed on a busy machine): Ctrl-C landing inside an httpx call
    could leave its pool's lock held, and ``watch`` then never exited. SIGINT during a request
    lets the request finish (the client stays usable) and stops the poll right after it."""
    import os
    import signal

    finished: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if not finished:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the first request is in flight
        finished.append(request.url.path)
        return httpx.Response(200, json=job_view("running"))

    client = ApiClient("http://api.test", transport=httpx.MockTransport(answer))
    # As in a shell's foreground (a launcher in the background may have left SIGINT ignored).
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            watch(client, JOB_ID, interval=0.01, interactive=False, out=io.StringIO())
        restored = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, inherited)
    assert finished == [f"/status/{JOB_ID}"]  # the request completed, and no second one ran
    assert client.get(f"/status/{JOB_ID}")["status"] == "running"  # the pool is not stuck
    assert len(finished) == 2
    assert restored is signal.default_int_handler
