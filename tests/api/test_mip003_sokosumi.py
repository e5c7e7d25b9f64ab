"""Contract tests with Sokosumi, Masumi's agent marketplace: its zod rules (restated, with the
commit of each, in tests/support/sokosumi_rules.py) against ``/input_schema``, the job form it
builds from it, the start response and every status (issue 15, part 4)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from domain.canonical import input_hash
from tests.api.mip003_answers import STATES, MipAnswers, sokosumi_start_body
from tests.factories import unique_sku
from tests.support import sokosumi_rules as sokosumi

PURCHASER_ENTERS: dict[str, Any] = {
    "title": "Vintage denim jacket",
    "description": "Levi's trucker jacket, size M, light wash.",
    "price_amount": "45.00",
    "price_currency": "EUR",
    "quantity": 3,
    "condition": "like_new",
    "images": "https://example.com/a.jpg\nhttps://example.com/b.jpg\nhttps://example.com/c.jpg",
    "brand": "Levi's",
    "size": "",  # left empty
    "when_made": "1990s",
}


def test_availability_parses(mip_answers: MipAnswers):
    sokosumi.AvailabilityResponse.model_validate(mip_answers.availability)


def test_input_schema_parses(mip_answers: MipAnswers):
    """Issue 15 row "GET /input_schema" (was: whole schema rejected for regex formats and a
    number placeholder)."""
    schema = sokosumi.InputSchema.model_validate(mip_answers.input_schema)
    assert all("." not in field.id for field in schema.input_data)


def test_the_old_schema_is_what_these_rules_reject():
    """The restated rules have teeth: the schema served before issue 15 fails them."""
    old = {
        "input_data": [
            {
                "id": "sku",
                "type": "text",
                "name": "Sku",
                "validations": [{"validation": "format", "value": "^[A-Za-z0-9]{1,50}$"}],
            },
            {"id": "quantity", "type": "number", "name": "Quantity", "data": {"placeholder": 1}},
        ]
    }
    with pytest.raises(ValidationError):
        sokosumi.InputSchema.model_validate(old)


def test_every_option_is_single_choice(mip_answers: MipAnswers):
    options = [f for f in mip_answers.input_schema["input_data"] if f["type"] == "option"]
    assert options and all(sokosumi.single_choice(f) for f in options)


async def test_the_form_submits_and_starts_the_job_with_the_purchasers_hash(
    api: httpx.AsyncClient, mip_answers: MipAnswers
):
    """Issue 15 rows "the job form" and "POST /start_job with the form's values", and "Done
    when: a purchaser who fills the form from /input_schema gets a job whose input_hash equals
    theirs"."""
    schema = mip_answers.input_schema
    values = sokosumi.form_values(schema, {**PURCHASER_ENTERS, "sku": unique_sku()})
    assert sokosumi.check_form(schema, values) == []
    assert values["condition"] == [1] and values["when_made"] == [6] and "size" not in values
    body = sokosumi_start_body(values)
    response = await api.post("/start_job", json=body)
    assert response.status_code == 201, response.text
    start = sokosumi.StartPaidJobResponse.model_validate(response.json())
    assert start.input_hash == input_hash(body["identifierFromPurchaser"], values)


def test_start_responses_parse(mip_answers: MipAnswers):
    """Issue 15 row "start response" (was: seven fields missing)."""
    for answer in mip_answers.starts:
        parsed = sokosumi.StartPaidJobResponse.model_validate(answer)
        assert parsed.id == answer["job_id"]


@pytest.mark.parametrize("state", STATES)
def test_every_status_parses(mip_answers: MipAnswers, state: str):
    """Issue 15 row "GET /status?job_id=" (was: completed ``result`` an object)."""
    parsed = sokosumi.JobStatusResponse.model_validate(mip_answers.statuses[state])
    assert parsed.status == ("failed" if state == "cancelled" else state)


def test_the_awaiting_input_question_renders_and_the_form_submits(mip_answers: MipAnswers):
    """Issue 15 part 3: the awaiting_input status parses (its input_schema by Sokosumi's
    rules), asks exactly for the field Vinted lacks as a single choice among its catalogs,
    and the values Sokosumi's form produces for it pass the form's own rules."""
    status = mip_answers.statuses["awaiting_input"]
    parsed = sokosumi.JobStatusResponse.model_validate(status)
    assert parsed.input_schema is not None
    [field] = status["input_schema"]["input_data"]
    assert field["id"] == "category" and sokosumi.single_choice(field)
    assert "Jackets" in field["data"]["values"]
    assert status["id"] == mip_answers.views["awaiting_input"]["input_request"]["status_id"]
    assert (
        sokosumi.check_form(status["input_schema"], mip_answers.provide_request["input_data"]) == []
    )
    assert mip_answers.provide_request["status_id"] == status["id"]


def test_a_cancelled_job_says_why(mip_answers: MipAnswers):
    assert mip_answers.statuses["cancelled"]["message"] == (
        "cancelled: the purchaser changed their mind"
    )


def test_the_completed_result_has_one_listing_url_per_marketplace(mip_answers: MipAnswers):
    lines = mip_answers.statuses["completed"]["result"].splitlines()
    view = mip_answers.views["completed"]
    assert [line.split(": ", 1)[0] for line in lines] == list(view["marketplaces"])
    for line in lines:
        marketplace, url = line.split(": ", 1)
        assert url == view["marketplaces"][marketplace]["listing_url"]


async def test_the_status_id_is_the_same_for_one_status_and_new_for_the_next(
    api: httpx.AsyncClient, mip_answers: MipAnswers
):
    ids = {state: answer["id"] for state, answer in mip_answers.statuses.items()}
    assert len(set(ids.values())) == len(STATES)
    for state in ("awaiting_payment", "completed", "cancelled"):
        job_id = mip_answers.statuses[state]["job_id"]
        again = (await api.get("/status", params={"job_id": job_id})).json()
        assert again["id"] == ids[state], f"{state}: a status keeps its id"
