"""The CLI as people run it (a subprocess) against the real processes: dev server, simulator,
worker and API."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import listing_body, unique_sku
from tests.integration.processes import ROOT, Stack, running_stack

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
HEADER = "sku,title,description,price,currency,quantity,condition,images,brand"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack"), {"SIGNING_SECRETS": SECRET}) as stack:
        yield stack


@pytest.fixture
def simulator(stack: Stack) -> str:
    httpx.post(f"{stack.simulator_url}/__sim/reset").raise_for_status()
    return stack.simulator_url


def cli_env(stack: Stack) -> dict[str, str]:
    return {**stack.env, "SIGNING_SECRETS": SECRET, "MARKETPLACE_JOBS_API": stack.api_url}


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env=cli_env(stack),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_csv_batch_is_submitted_paid_and_watched_to_completion(
    stack: Stack, simulator: str, tmp_path: Path
) -> None:
    """Issue 5, item 3: three CSV rows -> a batch -> one listing per row on each marketplace."""
    skus = [unique_sku() for _ in range(3)]
    rows = [
        f"{sku},Jacket {i},Denim jacket,45.00,EUR,1,good,https://e.com/{i}.jpg|https://e.com/x.jpg,Levi's"
        for i, sku in enumerate(skus)
    ]
    listings = tmp_path / "listings.csv"
    listings.write_text("\n".join([HEADER, *rows]) + "\n")

    done = cli(stack, "submit", str(listings), "--pay", "--watch")

    assert done.returncode == 0, done.stdout + done.stderr + stack.logs("api")
    batch_id = done.stdout.split()[1].rstrip(":")
    assert batch_id.startswith("batch-")
    assert f"paid {batch_id}" in done.stdout
    assert f"batch {batch_id}: completed 100% (3 jobs: 3 completed)" in done.stdout
    assert SECRET not in done.stdout + done.stderr
    published = httpx.get(f"{simulator}/__sim/listings").json()
    assert sorted(item["sku"] for item in published["ebay"]) == sorted(skus)
    assert sorted(sku for item in published["etsy"] for sku in item["skus"]) == sorted(skus)
    assert sorted(item["reference"].split("-")[0] for item in published["vinted"]) == sorted(skus)


def test_watch_exits_1_when_a_marketplace_rejects_the_listing(
    stack: Stack, simulator: str, tmp_path: Path
) -> None:
    fault = {"marketplace": "ebay", "mode": "validation", "operation": "createOffer", "times": 0}
    httpx.post(f"{simulator}/__sim/faults", json=fault).raise_for_status()
    listing = tmp_path / "one.json"
    listing.write_text(json.dumps(listing_body()))

    submitted = cli(
        stack, "submit", "-q", str(listing), "--marketplaces", "ebay,etsy", "--pay",
        "--identifier", f"order-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    watched = cli(stack, "watch", job_id)

    assert watched.returncode == 1, watched.stdout + watched.stderr
    assert f"job {job_id}: failed" in watched.stdout
    assert "ebay failed (validation_error" in watched.stdout
    assert "etsy completed (listing " in watched.stdout
    assert "vinted" not in watched.stdout


def test_bad_csv_rows_are_reported_by_line_with_exit_2(
    stack: Stack, simulator: str, tmp_path: Path
) -> None:
    rows = [
        f"{unique_sku()},Jacket,Denim,45.00,EUR,1,good,https://e.com/a.jpg,",
        "bad sku!,Jacket,Denim,-3,EUR,1,good,https://e.com/a.jpg,",
        "",
        f"{unique_sku()},Jacket,Denim,45.00,EUR,many,used,http://e.com/a.jpg,",
    ]
    listings = tmp_path / "listings.csv"
    listings.write_text("\n".join([HEADER, *rows]) + "\n")

    rejected = cli(stack, "submit", str(listings), "--pay", "--watch")

    assert rejected.returncode == 2
    assert rejected.stdout == ""
    assert rejected.stderr.splitlines() == [
        f"error: 422 the API rejected 5 field(s) in {listings}:",
        "  line 3: sku: String should match pattern '^[A-Za-z0-9]{1,50}$'",
        "  line 3: price: must be a decimal string such as '45.00' with at most 2 decimals",
        "  line 5: quantity: Input should be a valid integer",
        "  line 5: condition: Input should be 'new', 'like_new', 'good' or 'fair'",
        "  line 5: images (URL 1): must be an absolute https URL",
    ]


def test_ctrl_c_stops_watching_with_exit_130_and_the_job_waits_on(
    stack: Stack, simulator: str, tmp_path: Path
) -> None:
    listing = tmp_path / "one.json"
    listing.write_text(json.dumps(listing_body()))
    job_id = cli(stack, "submit", "-q", str(listing)).stdout.strip()
    watching = subprocess.Popen(
        [sys.executable, "-m", "cli", "watch", job_id],
        cwd=ROOT,
        env=cli_env(stack),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell starts background jobs with SIGINT ignored, and the child would inherit it
        # (then no Ctrl-C reaches watch: a test that failed depending on how it was launched).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert watching.stdout is not None
    first_line = watching.stdout.readline()
    watching.send_signal(signal.SIGINT)
    _, err = watching.communicate(timeout=30)

    assert f"job {job_id}: awaiting_payment" in first_line
    assert watching.returncode == 130
    assert "interrupted" in err
    assert cli(stack, "pay", job_id).returncode == 0
