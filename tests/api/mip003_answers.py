"""Every MIP-003 answer of the gateway, in every job status reachable today, as an agent
marketplace receives them: collected once per session for the client contract tests
(``test_mip003_masumi.py``, ``test_mip003_sokosumi.py``).

The jobs are started the way Sokosumi starts them: ``identifierFromPurchaser`` and the flat
form values its job form produces (option indices, image URLs one per line)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.api.conftest import ADMIN_TOKEN, Keys
from tests.api.helpers import PAYMENT
from tests.factories import unique_sku
from tests.support import sokosumi_rules as sokosumi
from tests.support.simulator import SimulatorControl

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STATES = ("awaiting_payment", "awaiting_input", "running", "completed", "failed", "cancelled")
"""Every job status there is."""
UNKNOWN_CATALOG = "Spaceships"
"""A listing category Vinted has no catalog for: the job asks which one (``awaiting_input``)."""


def sokosumi_form(**values: Any) -> dict[str, Any]:
    """What Sokosumi's job form sends for a listing: options as index lists into
    ``data.values``, numbers as numbers, the images textarea as one string, empty optional
    fields left out (its ``filterOutNullValues``), booleans always (their default is false)."""
    return {
        "sku": unique_sku(),
        "title": "Vintage denim jacket",
        "description": "Levi's trucker jacket, size M, light wash.",
        "price_amount": "45.00",
        "price_currency": "EUR",
        "quantity": 2,
        "condition": [2],
        "images": "https://example.com/a.jpg\nhttps://example.com/b.jpg",
        "is_supply": False,
        **values,
    }


def sokosumi_start_body(input_data: dict[str, Any]) -> dict[str, Any]:
    """Sokosumi's start_job request (startJobRequestSchema: camelCase identifier)."""
    return {"identifierFromPurchaser": uuid.uuid4().hex[:26], "input_data": input_data}


@dataclass
class MipAnswers:
    availability: dict[str, Any]
    input_schema: dict[str, Any]
    demo: dict[str, Any]
    start_requests: list[dict[str, Any]] = field(default_factory=list)
    starts: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    provide_request: dict[str, Any] = field(default_factory=dict)
    """MIP-003 ``POST /provide_input`` for the awaiting_input job, as Sokosumi's form sends it."""
    provided: dict[str, Any] = field(default_factory=dict)
    resumed: dict[str, Any] = field(default_factory=dict)
    """The MIP status of that job once it finished with the fields."""


async def _start(api: httpx.AsyncClient, answers: MipAnswers, **body: Any) -> str:
    request = {**sokosumi_start_body(sokosumi_form()), **body}
    response = await api.post("/start_job", json=request)
    assert response.status_code == 201, response.text
    answers.start_requests.append(request)
    answers.starts.append(response.json())
    job_id: str = response.json()["id"]
    return job_id


async def _pay(api: httpx.AsyncClient, keys: Keys, job_id: str, wait: int) -> dict[str, Any]:
    response = await api.post(
        "/provide_input",
        json={"job_id": job_id, "data": PAYMENT, "signature": keys.sign(job_id, PAYMENT)},
        headers={"Prefer": f"wait={wait}"},
    )
    assert response.status_code in (200, 202), response.text
    view: dict[str, Any] = response.json()
    return view


async def _capture(
    api: httpx.AsyncClient, answers: MipAnswers, state: str, job_id: str, *, keep: bool = True
) -> dict[str, Any]:
    """Read both views until the job is in ``state``; keep what the MIP route answered."""
    for _ in range(400):
        view = (await api.get(f"/status/{job_id}")).json()
        mip = await api.get("/status", params={"job_id": job_id})
        assert mip.status_code == 200, mip.text
        if view["status"] == state:
            if keep:
                answers.statuses[state] = mip.json()
                answers.views[state] = view
            answer: dict[str, Any] = mip.json()
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never read {state}: {view['status']}")


async def _answer_question(
    api: httpx.AsyncClient, answers: MipAnswers, job_id: str, chosen: dict[str, Any]
) -> None:
    """Fill the awaiting_input status's schema as Sokosumi's job form does (options as index
    lists) and send it; keep the request and the answer."""
    status = answers.statuses["awaiting_input"]
    values = sokosumi.form_values(status["input_schema"], chosen)
    request = {"job_id": job_id, "status_id": status["id"], "input_data": values}
    response = await api.post("/provide_input", json=request)
    assert response.status_code == 200, response.text
    answers.provide_request, answers.provided = request, response.json()


async def collect(api: httpx.AsyncClient, keys: Keys, sim: SimulatorControl) -> MipAnswers:
    await sim.reset()
    answers = MipAnswers(
        availability=(await api.get("/availability")).json(),
        input_schema=(await api.get("/input_schema")).json(),
        demo=(await api.get("/demo")).json(),
    )
    try:
        waiting = await _start(api, answers)
        await _capture(api, answers, "awaiting_payment", waiting)

        # Slow marketplaces keep the job running long enough to read it so.
        await sim.set_latency(300)
        publishing = await _start(api, answers)
        await _pay(api, keys, publishing, wait=0)
        await _capture(api, answers, "running", publishing)
        await sim.set_latency(0)
        await _pay(api, keys, publishing, wait=30)  # the input already taken: waits for it
        await _capture(api, answers, "completed", publishing)

        form = sokosumi_form(category=UNKNOWN_CATALOG)
        asking = await _start(api, answers, input_data=form, marketplaces=["vinted"])
        await _pay(api, keys, asking, wait=0)
        await _capture(api, answers, "awaiting_input", asking)
        await _answer_question(api, answers, asking, {"category": "Jackets"})
        answers.resumed = await _capture(api, answers, "completed", asking, keep=False)

        await sim.add_fault("vinted", "validation", "create_items", times=0)
        failing = await _start(api, answers, marketplaces=["vinted"])
        await _pay(api, keys, failing, wait=30)
        await _capture(api, answers, "failed", failing)

        cancelled = await _start(api, answers, marketplaces=["etsy"])
        response = await api.post(
            f"/jobs/{cancelled}/cancel",
            json={"reason": "the purchaser changed their mind"},
            headers=ADMIN,
        )
        assert response.status_code == 200, response.text
        await _capture(api, answers, "cancelled", cancelled)
    finally:
        await sim.reset()
    return answers
