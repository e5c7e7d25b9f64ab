"""What the local stack prints once everything is up: addresses, secrets and a walk-through."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path

from stack.addresses import StackAddresses
from stack.secrets import LocalSecret, SecretSource

# The listing of CONTRACT.md's POST /start_job example.
EXAMPLE_LISTING = {
    "sku": "SKU12345",
    "title": "Vintage denim jacket",
    "description": "Levi's trucker jacket, size M, light wash.",
    "price": {"amount": "45.00", "currency": "EUR"},
    "quantity": 1,
    "condition": "good",
    "images": ["https://example.com/a.jpg"],
}
EXAMPLE_SALE = {"marketplace": "ebay", "sku": "SKU12345", "quantity": 1}
EXAMPLE_PAYMENT = {"payment_id": "pay_123", "amount": "45.00", "currency": "EUR"}
WORKER_METRICS_PORT = 9464
"""Where `make run`'s worker serves its Prometheus metrics unless METRICS_PORT is set."""


def example_commands(
    api_url: str,
    simulator_url: str,
    python: str,
    admin_token: str,
    metrics_port: int | str = WORKER_METRICS_PORT,
) -> str:
    """A session a person can paste into another shell: start a job, pay it, watch it finish.

    jq-free on purpose: the venv's Python is always there. ``marketplace-jobs sign`` (installed
    next to ``python``) reads SIGNING_SECRETS, or ``.data/signing_secret`` when it is unset.
    """
    start_body = json.dumps(
        {"input_data": EXAMPLE_LISTING, "identifier_from_purchaser": "order-8812"}
    )
    py = shlex.quote(python)
    sign = shlex.quote(str(Path(python).with_name("marketplace-jobs"))) + " sign"
    read_job_id = shlex.quote('import sys, json; print(json.load(sys.stdin)["job_id"])')
    json_header = "-H 'content-type: application/json'"
    # -w: the answers carry no final newline, and the next prompt would run into them.
    show = "curl -s -w '\\n'"
    lines = [
        f"JOB_ID=$(curl -s -X POST {api_url}/start_job {json_header} \\",
        f"  -d {shlex.quote(start_body)} \\",
        f'  | {py} -c {read_job_id}); echo "$JOB_ID"',
        f"DATA={shlex.quote(json.dumps(EXAMPLE_PAYMENT))}",
        f'SIG=$({sign} --job-id "$JOB_ID" --data "$DATA")',
        f"{show} -X POST {api_url}/provide_input {json_header} \\",
        '  -d "{\\"job_id\\": \\"$JOB_ID\\", \\"data\\": $DATA, \\"signature\\": \\"$SIG\\"}"',
        f"{show} {api_url}/status/$JOB_ID",
        f"{show} {api_url}/jobs/$JOB_ID/events",
        f"{show} {simulator_url}/__sim/listings",
        f"{show} -H {shlex.quote('Authorization: Bearer ' + admin_token)} {api_url}/admin/workers",
        "# Or confirm the payment of a new job as a payment service would (Standard Webhooks):",
        f"JOB2=$(curl -s -X POST {api_url}/start_job {json_header} \\",
        f"  -d {shlex.quote(_with_sku(start_body, 'SKU12346'))} | {py} -c {read_job_id})",
        f'HOOK=$({sign} --webhook --url {api_url} --job-id "$JOB2" --data "$DATA")',
        'eval "$HOOK"',
        f"{show} {api_url}/status/$JOB2",
        "# Sell SKU12345 on eBay in the simulator; within SALES_SYNC_INTERVAL (5 s) it comes"
        " down on Etsy and Vinted:",
        f"{show} -X POST {simulator_url}/__sim/sales {json_header} \\",
        f"  -d {shlex.quote(json.dumps(EXAMPLE_SALE))}",
        "sleep 6",
        f"{shlex.quote(str(Path(python).with_name('marketplace-jobs')))} --api {api_url} "
        "listing SKU12345",
        "# Cancel a job (admin), then look at the metrics:",
        f"JOB3=$(curl -s -X POST {api_url}/start_job {json_header} \\",
        f"  -d {shlex.quote(_with_sku(start_body, 'SKU12347'))} | {py} -c {read_job_id})",
        f"{show} -X POST -H {shlex.quote('Authorization: Bearer ' + admin_token)} "
        f"{api_url}/jobs/$JOB3/cancel",
        f"curl -s {api_url}/metrics | grep gateway_http_requests_total | head -5",
        f"curl -s http://127.0.0.1:{metrics_port}/metrics | grep temporal_worker | head -5",
    ]
    return "\n".join(lines)


def _with_sku(start_body: str, sku: str) -> str:
    """Another product: each example job lists its own SKU (one live listing per SKU)."""
    body = json.loads(start_body)
    body["input_data"]["sku"] = sku
    return json.dumps(body)


def _secret_line(secret: LocalSecret) -> str:
    note = secret.describe_source()
    if secret.source is SecretSource.ENVIRONMENT and secret.variable == "SIGNING_SECRETS":
        note += "; set it in the shell that signs, too"
    return f"  {secret.variable:<16} {secret.value}\n  {'':<16} ({note})"


def banner(
    addresses: StackAddresses,
    secrets: Sequence[LocalSecret],
    *,
    python: str,
    temporal_note: str,
    started_temporal: bool = True,
    metrics_port: int | str = WORKER_METRICS_PORT,
) -> str:
    """The block printed when the stack is ready.

    ``started_temporal=False``: a server that was already running is used, whose UI may be
    anywhere (or nowhere).
    """
    admin_token = next(s.value for s in secrets if s.variable == "ADMIN_TOKEN")
    api = addresses.api_url
    rule = "=" * 78
    rows = [
        ("API", f"{api}   (docs {api}/docs)"),
        ("Temporal", f"{addresses.temporal_address}   namespace {addresses.namespace}"),
        ("", temporal_note),
        ("Temporal UI", addresses.ui_url if started_temporal else "that server's own UI"),
        (
            "Simulator",
            f"{addresses.simulator_url}   (listings {addresses.simulator_url}/__sim/listings)",
        ),
        ("Metrics", f"{api}/metrics (gateway)"),
        ("", f"http://127.0.0.1:{metrics_port}/metrics (worker, METRICS_PORT)"),
    ]
    example = example_commands(
        api, addresses.simulator_url, python, admin_token, metrics_port=metrics_port
    )
    return "\n".join(
        [
            "",
            rule,
            "  Marketplace Jobs: local stack is up.  Ctrl-C stops all of it.",
            rule,
            *(f"  {label:<12} {value}" for label, value in rows if value),
            "",
            "  Local-only secrets (files are reused by the next run; the environment wins):",
            *(_secret_line(s) for s in secrets),
            "",
            "  Try it from another shell in this directory:",
            "",
            *(f"    {line}" for line in example.splitlines()),
            rule,
            "",
        ]
    )
