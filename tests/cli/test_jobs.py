"""``marketplace-jobs jobs list|retry`` (issue 16, part 5) against a stand-in API: the filters
become query parameters, pages are followed, the admin token is sent, the operation is followed
to its end. The real API and a worker kill: tests/reliability/test_bulk_retry.py."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cli.app import build_parser
from cli.client import ApiClient
from cli.errors import CliError
from cli.jobs import jobs_command


def _row(i: int) -> dict[str, Any]:
    return {
        "job_id": f"job-{i}",
        "status": "failed",
        "sku": f"SKU{i}",
        "marketplaces": {"ebay": "completed", "etsy": "failed"},
        "created_at": f"2026-11-29T10:00:0{i}.000Z",
        "updated_at": "2026-11-29T10:01:00.000Z",
    }


def test_list_follows_the_pages_with_the_filters_and_the_admin_token(capsys):
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "page_token" not in request.url.params:
            return httpx.Response(200, json={"jobs": [_row(1), _row(2)], "next_page_token": "t2"})
        return httpx.Response(200, json={"jobs": [_row(3)], "next_page_token": None})

    args = build_parser().parse_args(
        ["jobs", "list", "--status", "failed", "--marketplace", "etsy", "--admin-token", "tok"]
    )
    client = ApiClient("http://api", transport=httpx.MockTransport(answer))

    assert jobs_command(client, args) == 0

    out = capsys.readouterr()
    assert [line.split()[3] for line in out.out.splitlines()[1:]] == ["job-1", "job-2", "job-3"]
    assert "etsy:failed" in out.out and "3 jobs" in out.err
    assert [dict(r.url.params) for r in seen] == [
        {"status": "failed", "marketplace": "etsy", "limit": "100"},
        {"status": "failed", "marketplace": "etsy", "limit": "100", "page_token": "t2"},
    ]
    assert all(r.headers["authorization"] == "Bearer tok" for r in seen)


def test_retry_starts_the_operation_and_follows_it_through_a_503(capsys):
    def counts(status: str, applied: int, skipped: int) -> httpx.Response:
        body = {"status": status, "matched": 3, "applied": applied, "skipped": skipped}
        return httpx.Response(200, json={**body, "failed": 0})

    progress = iter(
        [
            counts("running", 1, 0),
            httpx.Response(503, json={"detail": "restarting"}),
            counts("completed", 2, 1),
        ]
    )
    bodies: list[Any] = []
    keys: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            bodies.append(json.loads(request.content))
            keys.append(request.headers.get("idempotency-key"))
            return httpx.Response(202, json={"operation_id": "op_1", "matched": 3})
        assert request.url.path == "/operations/op_1"
        return next(progress)

    args = build_parser().parse_args(
        ["jobs", "retry", "--status", "failed", "--marketplace", "etsy", "--admin-token", "t",
         "--idempotency-key", "etsy-fixed-1"]
    )  # fmt: skip
    client = ApiClient("http://api", transport=httpx.MockTransport(answer))

    assert jobs_command(client, args) == 0

    assert bodies == [{"action": "retry", "filter": {"status": "failed", "marketplace": "etsy"}}]
    assert keys == ["etsy-fixed-1"]
    out = capsys.readouterr().out
    assert "retry of 3 jobs: operation op_1" in out
    assert "completed: matched 3, applied 2 skipped 1 failed 0" in out


def test_an_admin_token_is_required(monkeypatch, tmp_path):
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["jobs", "list"])
    with pytest.raises(CliError, match="admin token"):
        jobs_command(ApiClient("http://api"), args)


def test_a_bad_filter_is_refused_before_any_request():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["jobs", "retry", "--marketplace", "amazon"])
