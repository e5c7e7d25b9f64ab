"""What the reliability tests do to jobs over HTTP and how they count the listings that result."""

from __future__ import annotations

import base64
import time
from collections import Counter
from typing import Any

import httpx

from domain.signatures import sign_hmac, signed_content

MARKETPLACES = ("ebay", "etsy", "vinted")


def signed_input(job_id: str, secret: str, payment_id: str | None = None) -> dict[str, Any]:
    """The ``/provide_input`` body for ``job_id``, signed with the base64 ``secret`` (the same
    body every time for one job, unless another ``payment_id`` is given)."""
    data = {"payment_id": payment_id or f"pay-{job_id}"}
    signature = sign_hmac(signed_content(job_id, data), base64.b64decode(secret))
    return {"job_id": job_id, "data": data, "signature": signature}


def pay(api: httpx.Client, job_id: str, secret: str) -> None:
    """Pay without waiting for the outcome (``Prefer: wait=0``)."""
    response = api.post(
        "/provide_input", json=signed_input(job_id, secret), headers={"Prefer": "wait=0"}
    )
    assert response.status_code in (200, 202), response.text


def publish(api: httpx.Client, body: dict[str, Any], secret: str) -> str:
    """Start the job of ``body``, pay it and wait until it completed; its ID."""
    job_id: str = api.post("/start_job", json=body).json()["job_id"]
    pay(api, job_id, secret)
    wait_for_statuses(api, [job_id], {"completed"}, within=60)
    return job_id


def statuses(api: httpx.Client, job_ids: list[str]) -> dict[str, str]:
    """Each job's status; fails when a job is unknown (404) or the view is not for that job."""
    result = {}
    for job_id in job_ids:
        response = api.get(f"/status/{job_id}")
        assert response.status_code == 200, (job_id, response.status_code, response.text)
        view = response.json()
        assert view["job_id"] == job_id, view
        result[job_id] = view["status"]
    return result


def wait_for_statuses(
    api: httpx.Client, job_ids: list[str], wanted: set[str], within: float
) -> dict[str, str]:
    """Poll until every job's status is in ``wanted``; return the last statuses either way.

    Transport errors and 503s (Temporal briefly unreachable) are retried until the deadline.
    """
    deadline = time.monotonic() + within
    last: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            last = statuses(api, job_ids)
        except (httpx.HTTPError, AssertionError):
            time.sleep(0.5)
            continue
        if all(s in wanted for s in last.values()):
            break
        time.sleep(0.5)
    return last


def marketplace_views(api: httpx.Client, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    """``job_id -> marketplaces`` part of each job view (status, attempts, …)."""
    return {j: api.get(f"/status/{j}").json()["marketplaces"] for j in job_ids}


def live_listings(simulator_url: str) -> list[tuple[str, str, str]]:
    """``(marketplace, sku, listing id)`` of every live listing in the simulator.

    Live: eBay ``PUBLISHED`` offers, active Etsy listings, Vinted items not deleted or
    failed (its SKU is the part of its reference ``{sku}-…`` before the dash).
    """
    listings = httpx.get(f"{simulator_url}/__sim/listings", timeout=10).json()
    ebay = [
        ("ebay", i["sku"], i["listingId"]) for i in listings["ebay"] if i["status"] == "PUBLISHED"
    ]
    etsy = [
        ("etsy", i["skus"][0], i["listing_id"])
        for i in listings["etsy"]
        if i["state"] == "active" and i["skus"]
    ]
    vinted = [
        ("vinted", i["reference"].split("-")[0], i["item_id"])
        for i in listings["vinted"]
        if i["live"]
    ]
    return [(m, sku, str(listing_id)) for m, sku, listing_id in ebay + etsy + vinted]


def live_listing_counts(simulator_url: str) -> dict[str, Counter[str]]:
    """Per marketplace, how many live listings each SKU has in the simulator."""
    counts: dict[str, Counter[str]] = {m: Counter() for m in MARKETPLACES}
    for marketplace, sku, _ in live_listings(simulator_url):
        counts[marketplace][sku] += 1
    return counts


def stray_listings(simulator_url: str) -> list[dict[str, Any]]:
    """Etsy drafts and unpublished eBay offers: what an interrupted publish could leave behind."""
    listings = httpx.get(f"{simulator_url}/__sim/listings", timeout=10).json()
    return [i for marketplace in ("etsy", "ebay") for i in listings[marketplace] if i["draft"]]


def assert_one_listing_each(simulator_url: str, skus: list[str]) -> int:
    """Exactly one live listing per (marketplace, SKU) and no stray drafts; returns the number
    of duplicates (0, or the assertion fails)."""
    counts = live_listing_counts(simulator_url)
    duplicates = sum(max(0, c[sku] - 1) for c in counts.values() for sku in skus)
    missing = [(m, sku) for m, c in counts.items() for sku in skus if c[sku] == 0]
    assert duplicates == 0, counts
    assert not missing, missing
    assert not stray_listings(simulator_url), stray_listings(simulator_url)
    return duplicates


def live_listing_ids(simulator_url: str) -> dict[tuple[str, str], str]:
    """``(marketplace, sku) -> listing id`` of every live listing in the simulator."""
    return {(m, sku): listing_id for m, sku, listing_id in live_listings(simulator_url)}


def assert_results_match_listings(
    api: httpx.Client, jobs: dict[str, str], simulator_url: str
) -> None:
    """Each completed job's view (``jobs``: job_id -> SKU) names, per marketplace, the listing
    that is live in the simulator for its SKU."""
    live = live_listing_ids(simulator_url)
    for job_id, sku in jobs.items():
        view = api.get(f"/status/{job_id}").json()
        assert view["status"] == "completed" and not view["stale"], view
        for marketplace in MARKETPLACES:
            listed = view["result"][marketplace]["listing_id"]
            assert listed == live[(marketplace, sku)], (job_id, marketplace, listed, live)
