"""``marketplace-jobs jobs list|retry|cancel`` (issue 16, part 5): find jobs with the filters of
``GET /jobs`` and act on all of them with ``POST /jobs/bulk``, a progress bar following
``GET /operations/{id}``. Admin routes: ``--admin-token``, else ``$ADMIN_TOKEN``, else
``.data/admin_token`` (what ``make run`` generated)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.client import ApiClient
from cli.errors import EXIT_FAILED, EXIT_OK, ApiError, ApiUnreachableError, CliError
from domain.marketplaces import Marketplace
from domain.status import JobStatus

ADMIN_TOKEN_FILE = Path(".data/admin_token")
FILTERS = ("status", "sku", "marketplace", "created_after", "created_before")


def add_jobs_command(commands: Any) -> None:
    jobs = commands.add_parser(
        "jobs", help="find jobs by filter, or retry or cancel every job a filter matches (admin)"
    )
    actions = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the matching jobs, newest first (GET /jobs)")
    _add_filters(listing)
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    for action in ("retry", "cancel"):
        act = actions.add_parser(
            action, help=f"{action} every matching job (POST /jobs/bulk), with a progress bar"
        )
        _add_filters(act)
        act.add_argument("--reason", help="kept in each job's events")
        act.add_argument(
            "--idempotency-key",
            help="the same key and filters again: the operation it started, not a second one",
        )
        act.add_argument("--no-tty", action="store_true", help="plain lines, no progress bar")


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--status", choices=[s.value for s in JobStatus])
    parser.add_argument("--sku")
    parser.add_argument(
        "--marketplace",
        choices=[m.value for m in Marketplace],
        help="with --status failed: the jobs that failed there",
    )
    parser.add_argument("--created-after", help="ISO-8601, inclusive")
    parser.add_argument("--created-before", help="ISO-8601, exclusive")
    parser.add_argument("--admin-token", help="default $ADMIN_TOKEN, else .data/admin_token")


def admin_headers(token: str | None) -> dict[str, str]:
    token = token or os.environ.get("ADMIN_TOKEN")
    if not token and ADMIN_TOKEN_FILE.is_file():
        token = ADMIN_TOKEN_FILE.read_text().strip()
    if not token:
        raise CliError("an admin token is needed: --admin-token, $ADMIN_TOKEN or .data/admin_token")
    return {"authorization": f"Bearer {token}"}


def job_filter(args: argparse.Namespace) -> dict[str, str]:
    return {name: getattr(args, name) for name in FILTERS if getattr(args, name) is not None}


def jobs_command(client: ApiClient, args: argparse.Namespace) -> int:
    headers = admin_headers(args.admin_token)
    if args.jobs_command == "list":
        return _list(client, job_filter(args), args.limit, headers)
    return _act(client, args, headers)


def _pages(
    client: ApiClient, params: dict[str, Any], headers: dict[str, str]
) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        page = client.get("/jobs", params={**params, **({"page_token": token} if token else {})},
                          headers=headers)  # fmt: skip
        yield from page["jobs"]
        token = page["next_page_token"]
        if token is None:
            return


def _list(client: ApiClient, params: dict[str, str], limit: int, headers: dict[str, str]) -> int:
    if not 1 <= limit <= 100_000:
        raise CliError("--limit must be between 1 and 100000")
    shown = 0
    print(f"{'created':<24} {'status':<16} {'sku':<20} {'job':<36}  marketplaces")
    for job in _pages(client, {**params, "limit": min(limit, 500)}, headers):
        places = " ".join(
            f"{name}:{status}" for name, status in sorted(job["marketplaces"].items())
        )
        print(f"{job['created_at']:<24} {job['status']:<16} {job['sku']:<20} {job['job_id']:<36}  "
              f"{places}")  # fmt: skip
        shown += 1
        if shown >= limit:
            break
    print(f"{shown} job{'s' if shown != 1 else ''}", file=sys.stderr)
    return EXIT_OK


def _act(client: ApiClient, args: argparse.Namespace, headers: dict[str, str]) -> int:
    body: dict[str, Any] = {"action": args.jobs_command, "filter": job_filter(args)}
    if args.reason:
        body["reason"] = args.reason
    if args.idempotency_key:
        headers = {**headers, "Idempotency-Key": args.idempotency_key}
    accepted = client.post("/jobs/bulk", body, headers=headers).body
    operation_id, matched = accepted["operation_id"], accepted["matched"]
    print(f"{args.jobs_command} of {matched} jobs: operation {operation_id}", flush=True)
    path = f"/operations/{operation_id}"
    interactive = sys.stdout.isatty() and not args.no_tty
    with Progress(
        TextColumn(f"{args.jobs_command}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        disable=not interactive,
    ) as progress:
        task = progress.add_task("", total=max(matched, 1), counts="")
        while True:
            view = _progress(client, path, headers)
            done = view["applied"] + view["skipped"] + view["failed"]
            counts = f"applied {view['applied']} skipped {view['skipped']} failed {view['failed']}"
            progress.update(task, total=max(view["matched"], 1), completed=done, counts=counts)
            if view["status"] == "completed":
                break
            time.sleep(0.5)
    print(f"completed: matched {view['matched']}, {counts}")
    return EXIT_FAILED if view["failed"] else EXIT_OK


PATIENCE = 60.0
"""Seconds the progress bar waits through an API that is away (restarting, 503) before
giving up: the operation itself goes on, on the server."""


def _progress(client: ApiClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            return client.get(path, headers=headers)
        except (ApiUnreachableError, ApiError) as err:
            transient = not isinstance(err, ApiError) or err.status >= 500
            if not transient or time.monotonic() > deadline:
                raise
            time.sleep(1.0)
