"""POST /start_job as agent marketplaces call it (issue 15, parts 1 and 2): the flat form of
``/input_schema`` besides the nested listing, ``identifierFromPurchaser``, MIP-003's start
fields, errors named by form field; ``GET /demo``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from config.settings import Settings
from domain.canonical import input_hash
from tests.api.helpers import assert_problem
from tests.api.mip003_answers import sokosumi_form, sokosumi_start_body
from tests.factories import start_job_body


async def _start(api: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await api.post("/start_job", json=body, headers=headers)


async def test_the_start_response_carries_mip003s_fields(
    api: httpx.AsyncClient, api_settings: Settings
):
    body = start_job_body()
    job = (await _start(api, body)).json()
    assert job["id"] == job["job_id"]
    assert job["identifierFromPurchaser"] == body["identifier_from_purchaser"]
    assert job["input_hash"] == job["inputHash"]
    assert job["agentIdentifier"] == api_settings.masumi_agent_identifier
    assert job["sellerVKey"] == api_settings.masumi_seller_vkey
    times = [job[k] for k in ("payByTime", "submitResultTime", "unlockTime")]
    times.append(job["externalDisputeUnlockTime"])
    assert all(isinstance(t, int) for t in times) and times == sorted(set(times))
    assert job["submitResultTime"] - job["payByTime"] == 12 * 3600, "24 h from start - 12 h"


async def test_a_repeated_idempotency_key_gets_the_same_deadlines(api: httpx.AsyncClient):
    body = sokosumi_start_body(sokosumi_form())
    key = "mip-" + body["identifierFromPurchaser"]
    first = await _start(api, body, **{"Idempotency-Key": key})
    second = await _start(api, body, **{"Idempotency-Key": key})
    assert (first.status_code, second.status_code) == (201, 200)
    deadlines = ("id", "payByTime", "submitResultTime", "unlockTime", "externalDisputeUnlockTime")
    assert {k: first.json()[k] for k in deadlines} == {k: second.json()[k] for k in deadlines}


async def test_the_same_listing_spelled_otherwise_is_another_body(api: httpx.AsyncClient):
    """The hash is over what was sent: the same key with the option by name instead of by
    index is another request (422), not silently the first job with another hash."""
    body = sokosumi_start_body(sokosumi_form(condition=[2]))
    key = "mip-" + body["identifierFromPurchaser"]
    assert (await _start(api, body, **{"Idempotency-Key": key})).status_code == 201
    other = {**body, "input_data": {**body["input_data"], "condition": "good"}}
    assert_problem(await _start(api, other, **{"Idempotency-Key": key}), 422)


@pytest.mark.parametrize(
    "values",
    [
        sokosumi_form(),
        sokosumi_form(condition="good", quantity="2", images="https://e.com/a.jpg\r\n"),
        sokosumi_form(condition=["fair"], who_made=[1], when_made="1990s", brand="", size=None),
        sokosumi_form(quantity=2.0, images=["https://e.com/a.jpg", "https://e.com/b.jpg"]),
    ],
    ids=["sokosumi", "single strings", "value lists and empty optionals", "lists and floats"],
)
async def test_the_flat_form_starts_a_job_hashed_as_received(
    api: httpx.AsyncClient, values: dict[str, Any]
):
    body = sokosumi_start_body(values)
    response = await _start(api, body)
    assert response.status_code == 201, response.text
    assert response.json()["input_hash"] == input_hash(body["identifierFromPurchaser"], values)


async def test_a_flat_form_batch_entry_is_taken_too(api: httpx.AsyncClient):
    entry = {"input_data": sokosumi_form(), "identifier_from_purchaser": "order-flat"}
    response = await api.post("/batches", json={"jobs": [entry]})
    assert response.status_code == 201, response.text


FORM_ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    ("price zero", {"price_amount": "0.00"}, "input_data.price_amount", "greater than 0"),
    ("lower-case currency", {"price_currency": "eur"}, "input_data.price_currency", "pattern"),
    ("option index out of range", {"condition": [9]}, "input_data.condition", "out of range"),
    ("two options", {"condition": [0, 1]}, "input_data.condition", "exactly one"),
    ("unknown option", {"condition": "broken"}, "input_data.condition", "'new'"),
    ("http image", {"images": "https://e.com/a\nhttp://e.com/b"}, "input_data.images", "line 2"),
    ("no image", {"images": "\n \n"}, "input_data.images", "at least 1"),
    ("fraction", {"quantity": 1.5}, "input_data.quantity", "integer"),
    ("arabic digits", {"quantity": "٣"}, "input_data.quantity", "integer"),
    ("unknown field", {"colour": "blue"}, "input_data.colour", "Extra inputs"),
    ("dotted id", {"price.amount": "1.00"}, "input_data.price.amount", "Extra inputs"),
]


@pytest.mark.parametrize(
    ("case", "override", "loc", "words"), FORM_ERRORS, ids=[c[0] for c in FORM_ERRORS]
)
async def test_form_errors_name_the_form_field(
    api: httpx.AsyncClient, case: str, override: dict[str, Any], loc: str, words: str
):
    problem = assert_problem(await _start(api, sokosumi_start_body(sokosumi_form(**override))), 422)
    errors = [e for e in problem["errors"] if e["loc"] == loc]
    assert errors and words in errors[0]["msg"], problem
    assert loc.removeprefix("input_data.") in problem["detail"]


async def test_missing_price_fields_are_both_named(api: httpx.AsyncClient):
    values = sokosumi_form()
    del values["price_amount"], values["price_currency"]
    problem = assert_problem(await _start(api, sokosumi_start_body(values)), 422)
    locs = {e["loc"] for e in problem["errors"]}
    assert {"input_data.price_amount", "input_data.price_currency"} <= locs


async def test_a_marketplace_limit_names_the_form_field(api: httpx.AsyncClient):
    """Etsy sells in the shop's currency (EUR): USD is refused before anything starts."""
    body = {**sokosumi_start_body(sokosumi_form(price_currency="USD")), "marketplaces": ["etsy"]}
    problem = assert_problem(await _start(api, body), 422)
    assert any(e["loc"] == "input_data.price_currency" for e in problem["errors"]), problem


async def test_demo_input_starts_a_job(api: httpx.AsyncClient):
    demo = (await api.get("/demo")).json()
    assert demo["output"]["result"].count("https://") == 3
    body = {"identifier_from_purchaser": "demo-1", "input_data": demo["input"]}
    response = await _start(api, body)
    assert response.status_code == 201, response.text
