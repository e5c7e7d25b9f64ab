"""End to end with the real processes: dev server, simulator, worker.py and the API."""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path

import httpx

from domain.signatures import sign_hmac, signed_content
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
        ebay = [i for i in listings["ebay"] if i["sku"] == sku and i["status"] == "PUBLISHED"]
        etsy = [i for i in listings["etsy"] if sku in i["skus"] and i["state"] == "active"]
        vinted = [i for i in listings["vinted"] if i["reference"].startswith(f"{sku}-")]
        assert (len(ebay), len(etsy), len(vinted)) == (1, 1, 1), listings
        assert view["result"]["ebay"]["listing_id"] == str(ebay[0]["listingId"])
        assert view["result"]["etsy"]["listing_id"] == str(etsy[0]["listing_id"])
        assert view["result"]["vinted"]["listing_id"] == str(vinted[0]["item_id"])
        worker_log = stack.logs("worker") + stack.logs("api")
        assert SECRET not in worker_log, "the signing secret never appears in logs"
        assert signature not in worker_log, "nor does the signature"
        # SIGTERM: the worker shuts down gracefully and exits 0.
        assert stack.stop("worker", signal.SIGTERM) == 0
        assert "worker stopped" in stack.logs("worker")
