"""MIP-003 ``POST /provide_input {job_id, status_id, input_data}`` (issue 15 part 3) through the
gateway and a real worker on the dev server, the simulator as Vinted: a listing whose category
is no Vinted catalog makes the job ask which one (``awaiting_input``); the answer resumes it.

Errors: 404 unknown job, 409 a job not awaiting input or a status_id that is not its question,
422 naming each field that does not fit; nothing changes on any of them. The signed payment
form of the same route is tests/api/test_provide_input.py (unchanged)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from domain.canonical import input_hash
from tests.api.conftest import Keys
from tests.api.helpers import PAYMENT, assert_problem, create_job
from tests.factories import listing_body


async def _asking(api: httpx.AsyncClient, keys: Keys) -> tuple[dict[str, Any], dict[str, Any]]:
    """A paid job for Vinted whose listing names no Vinted catalog: (start view, job view
    once it asks)."""
    job = await create_job(
        api, input_data=listing_body(category="Spaceships"), marketplaces=["vinted", "etsy"]
    )
    job_id = job["job_id"]
    paid = await api.post(
        "/provide_input",
        json={"job_id": job_id, "data": PAYMENT, "signature": keys.sign(job_id, PAYMENT)},
        headers={"Prefer": "wait=0"},
    )
    assert paid.status_code == 202, paid.text
    for _ in range(400):
        view = (await api.get(f"/status/{job_id}")).json()
        if view["status"] == "awaiting_input":
            return job, view
        assert view["status"] in ("awaiting_payment", "running"), view
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never asked: {view}")


async def _provide(api: httpx.AsyncClient, job_id: str, status_id: str, **values: Any):
    body = {"job_id": job_id, "status_id": status_id, "input_data": values}
    return await api.post("/provide_input", json=body)


async def test_the_job_asks_for_the_catalog_and_completes_with_the_answer(
    api: httpx.AsyncClient, keys: Keys
):
    """running -> awaiting_input (Etsy published meanwhile) -> running -> completed; both
    status routes show the question; the answer is MIP-004's hash of input_data as sent."""
    job, asking = await _asking(api, keys)
    job_id = job["job_id"]
    question = asking["input_request"]
    [field] = question["input_schema"]["input_data"]
    assert (field["id"], field["type"]) == ("category", "option")
    assert question["marketplaces"] == {"vinted": ["category"]}
    assert asking["marketplaces"]["vinted"]["error"]["code"] == "input_required"
    assert asking["marketplaces"]["etsy"]["status"] == "completed"
    mip = (await api.get("/status", params={"job_id": job_id})).json()
    assert mip["status"] == "awaiting_input" and mip["id"] == question["status_id"]
    assert mip["input_schema"] == question["input_schema"]
    assert "vinted: category" in mip["message"]

    index = field["data"]["values"].index("Jackets")
    response = await _provide(api, job_id, question["status_id"], category=[index])
    assert response.status_code == 200, response.text
    identifier = job["identifier_from_purchaser"]
    assert response.json() == {
        "input_hash": input_hash(identifier, {"category": [index]}),
        "signature": "",
    }
    for _ in range(400):
        view = (await api.get(f"/status/{job_id}")).json()
        if view["status"] not in ("running", "awaiting_input"):
            break
        await asyncio.sleep(0.05)
    assert view["status"] == "completed", view
    assert view["input_request"] is None and view["input_round"] == 1
    assert view["marketplaces"]["vinted"]["action"] == "created"
    for values in ({"category": [index]}, {"category": "Jeans"}):
        late = await _provide(api, job_id, question["status_id"], **values)
        assert "completed" in assert_problem(late, 409)["detail"], "the job asks no more"


async def test_a_wrong_status_id_is_409_and_changes_nothing(api: httpx.AsyncClient, keys: Keys):
    job, asking = await _asking(api, keys)
    response = await _provide(api, job["job_id"], "another-status", category="Jackets")
    body = assert_problem(response, 409)
    assert asking["input_request"]["status_id"] in body["detail"]
    view = (await api.get(f"/status/{job['job_id']}")).json()
    assert view["status"] == "awaiting_input" and view["input_round"] == 0


async def test_fields_that_do_not_fit_are_422_naming_each(api: httpx.AsyncClient, keys: Keys):
    """An option the question does not offer, an index out of range, a field it did not ask
    for, a missing field: 422 at ``input_data.<field>``; the job still asks."""
    job, asking = await _asking(api, keys)
    status_id = asking["input_request"]["status_id"]
    cases = [
        ({"category": "Spaceships"}, {"input_data.category"}),
        ({"category": [99]}, {"input_data.category"}),
        ({"category": "Jackets", "colour": "red"}, {"input_data.colour"}),
        ({}, {"input_data.category"}),
    ]
    for values, locations in cases:
        body = assert_problem(await _provide(api, job["job_id"], status_id, **values), 422)
        assert {e["loc"] for e in body["errors"]} == locations, (values, body)
    view = (await api.get(f"/status/{job['job_id']}")).json()
    assert view["status"] == "awaiting_input" and view["input_round"] == 0


async def test_a_job_not_awaiting_input_is_409_and_an_unknown_one_404(api: httpx.AsyncClient):
    job = await create_job(api)
    response = await _provide(api, job["job_id"], "any", category="Jackets")
    assert "awaiting_payment, not awaiting_input" in assert_problem(response, 409)["detail"]
    assert_problem(await _provide(api, "no-such-job", "any", category="Jackets"), 404)
    assert (await api.get(f"/status/{job['job_id']}")).json()["status"] == "awaiting_payment"


async def test_a_malformed_mip_body_is_422_naming_its_fields(api: httpx.AsyncClient):
    body = assert_problem(
        await api.post("/provide_input", json={"job_id": "x", "status_id": ""}), 422
    )
    assert {e["loc"] for e in body["errors"]} == {"status_id", "input_data"}
    mixed = {"job_id": "x", "status_id": "s", "input_data": {}, "signature": "v1,x"}
    body = assert_problem(await api.post("/provide_input", json=mixed), 422)
    assert {e["loc"] for e in body["errors"]} == {"signature"}
