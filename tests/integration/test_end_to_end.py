"""End to end with the real processes: dev server, simulator, worker.py and the API."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx

from api.signatures import sign_hmac
from domain.signed_content import signed_content
from tests.factories import start_job_body
from tests.integration.processes import running_stack

SECRET = base64.b64encode(os.urandom(32)).decode()


def test_job_goes_from_start_to_one_listing_per_marketplace(tmp_path: Path):
    """Seed 004 "End-to-End Flow Test": HTTP start -> signed input -> one listing each."""
    with running_stack(tmp_path, {"SIGNING_SECRETS": f"whsec_{SECRET}"}) as stack:
        with httpx.Client(base_url=stack.api_url, timeout=60) as api:
            body = start_job_body()
            started = api.post("/start_job", json=body)
            assert started.status_code == 201, started.text
            job_id = started.json()["job_id"]
            data = {"payment_id": "pay_e2e", "amount": "45.00", "currency": "EUR"}
            signature = sign_hmac(signed_content(job_id, data), base64.b64decode(SECRET))
            done = api.post(
                "/provide_input", json={"job_id": job_id, "data": data, "signature": signature}
            )
            assert done.status_code == 200, done.text + stack.logs("worker")
            view = done.json()
            assert view["status"] == "completed"
            assert api.get(f"/status/{job_id}").json()["status"] == "completed"
        listings = httpx.get(f"{stack.simulator_url}/__sim/listings").json()
        sku = body["input_data"]["sku"]
        ebay = [item for item in listings["ebay"] if item["sku"] == sku]
        etsy = [item for item in listings["etsy"] if sku in item.get("skus", [item.get("sku")])]
        vinted = [
            item for item in listings["vinted"] if item.get("sku") == sku or job_id in str(item)
        ]
        assert len(ebay) == 1 and len(etsy) == 1 and len(vinted) == 1, listings
        assert view["result"]["ebay"]["listing_id"] == str(
            ebay[0]["listing_id"] if "listing_id" in ebay[0] else ebay[0]["listingId"]
        )
        worker_log = stack.logs("worker") + stack.logs("api")
        assert SECRET not in worker_log, "the signing secret never appears in logs"
