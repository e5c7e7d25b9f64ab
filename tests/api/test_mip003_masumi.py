"""Contract tests with Masumi's Python SDK (``masumi`` 1.2.0 on PyPI, pinned in pyproject.toml;
masumi-network/pip-masumi at 82f002e, "Bump version to 1.2.0"): its MIP-003 models parse every
MIP answer of the gateway in every job status, and its input validator accepts what a form built
from our ``/input_schema`` sends (issue 15, part 4)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
import pytest

from domain.canonical import input_hash
from tests.api.mip003_answers import STATES, MipAnswers, sokosumi_form
from tests.support import masumi_sdk as masumi


def validate(values: dict[str, Any], schema: dict[str, Any]) -> None:
    """masumi's validator, on a copy: it rewrites the schema it is given in place (validations
    become its ValidationRule objects), which would change the answer the other tests read."""
    masumi.validate_input_data(values, copy.deepcopy(schema))


def test_the_sdk_is_the_pinned_version():
    assert masumi.VERSION == "1.2.0", "a new masumi: re-read its models.py and validation.py"


def test_availability_parses(mip_answers: MipAnswers):
    parsed = masumi.AvailabilityResponse.model_validate(mip_answers.availability)
    assert parsed.status == "available" and parsed.type == "masumi-agent"


def test_input_schema_parses(mip_answers: MipAnswers):
    parsed = masumi.InputSchemaResponse.model_validate(mip_answers.input_schema)
    assert parsed.input_data and not parsed.input_groups


@pytest.mark.parametrize(
    "values",
    [
        sokosumi_form(),
        # masumi's own idea of an option (a list of values) and single strings
        sokosumi_form(condition=["good"], who_made="someone_else", quantity="3"),
        sokosumi_form(condition="like_new", brand="Levi's", size="M", when_made=[5]),
    ],
    ids=["sokosumi form", "value lists and strings", "optional fields filled"],
)
def test_the_validator_accepts_what_the_form_sends(mip_answers: MipAnswers, values: dict[str, Any]):
    """Issue 15 "the masumi package's own validator accepts the values a form produces"
    (it answered ``images: must be at most 10`` to the old url field)."""
    validate(values, mip_answers.input_schema)


def test_the_validator_still_refuses_a_missing_required_field(mip_answers: MipAnswers):
    values = sokosumi_form()
    del values["price_amount"]
    with pytest.raises(masumi.ValidationError, match="price_amount"):
        validate(values, mip_answers.input_schema)


async def test_a_start_request_from_the_sdk_models_starts_a_job(
    api: httpx.AsyncClient, mip_answers: MipAnswers
):
    """masumi 1.2.0 spells the identifier ``identifier_from_purchaser`` (Sokosumi: camelCase);
    both are taken."""
    request = masumi.StartJobRequest(
        identifier_from_purchaser="masumi-" + uuid.uuid4().hex[:16],
        input_data=sokosumi_form(condition=["good"], quantity="2"),
    )
    response = await api.post("/start_job", json=request.model_dump())
    assert response.status_code == 201, response.text
    parsed = masumi.StartJobResponse.model_validate(response.json())
    assert parsed.identifierFromPurchaser == request.identifier_from_purchaser
    assert parsed.input_hash == masumi.create_masumi_input_hash(
        request.input_data, request.identifier_from_purchaser
    )


def test_start_responses_parse_and_their_hash_is_the_purchasers(mip_answers: MipAnswers):
    """Issue 15 rows "start response" and "input hash": every field of the SDK's
    StartJobResponse, and the MIP-004 hash the SDK computes over what the purchaser sent."""
    assert len(mip_answers.starts) == len(mip_answers.start_requests) >= 4
    for request, answer in zip(mip_answers.start_requests, mip_answers.starts, strict=True):
        parsed = masumi.StartJobResponse.model_validate(answer)
        assert parsed.id == answer["job_id"]
        assert parsed.identifierFromPurchaser == request["identifierFromPurchaser"]
        assert parsed.payByTime < parsed.submitResultTime < parsed.unlockTime
        assert parsed.unlockTime < parsed.externalDisputeUnlockTime
        assert parsed.agentIdentifier and parsed.sellerVKey
        expected = masumi.create_masumi_input_hash(
            request["input_data"], request["identifierFromPurchaser"]
        )
        assert parsed.input_hash == expected == answer["input_hash"] == answer["inputHash"]
        assert expected == input_hash(request["identifierFromPurchaser"], request["input_data"])


@pytest.mark.parametrize("state", STATES)
def test_every_status_parses(mip_answers: MipAnswers, state: str):
    """Issue 15 row "GET /status?job_id=": ``id`` in every state, ``result`` a string."""
    answer = mip_answers.statuses[state]
    parsed = masumi.StatusResponse.model_validate(answer)
    assert parsed.id
    assert masumi.JobStatus(parsed.status) is not masumi.JobStatus.UNKNOWN
    expected = "failed" if state == "cancelled" else state
    assert parsed.status == expected
    if state == "completed":
        assert isinstance(parsed.result, str) and parsed.result
    else:
        assert parsed.result is None
    assert (parsed.input_schema is not None) == (state == "awaiting_input")


def test_the_awaiting_input_schema_parses_and_the_validator_takes_the_forms_answer(
    mip_answers: MipAnswers,
):
    """Issue 15 part 3: the question of an awaiting_input job is an input schema the SDK
    reads, with exactly the field Vinted lacks, and its validator accepts what a form sends."""
    schema = mip_answers.statuses["awaiting_input"]["input_schema"]
    parsed = masumi.InputSchemaResponse.model_validate(schema)
    assert [field.id for field in parsed.input_data or []] == ["category"]
    validate(mip_answers.provide_request["input_data"], schema)
    with pytest.raises(masumi.ValidationError, match="category"):
        validate({}, schema)


def test_provide_input_parses_and_its_hash_is_the_purchasers(mip_answers: MipAnswers):
    """Issue 15 part 3: the SDK's ProvideInputRequest is what we take, its
    ProvideInputResponse what we answer: ``input_hash`` = ``create_masumi_input_hash`` of the
    input with the job's identifier, ``signature`` empty (no agent key, as the SDK answers)."""
    request = masumi.ProvideInputRequest.model_validate(mip_answers.provide_request)
    parsed = masumi.ProvideInputResponse.model_validate(mip_answers.provided)
    start = next(s for s in mip_answers.starts if s["id"] == request.job_id)
    expected = masumi.create_masumi_input_hash(request.input_data, start["identifierFromPurchaser"])
    assert parsed.input_hash == expected and parsed.signature == ""
    assert set(mip_answers.provided) == {"input_hash", "signature"}
    assert mip_answers.resumed["status"] == "completed" and mip_answers.resumed["result"]


def test_demo_parses_and_its_input_is_valid(mip_answers: MipAnswers):
    parsed = masumi.DemoResponse.model_validate(mip_answers.demo)
    assert parsed.output["result"]
    validate(parsed.input, mip_answers.input_schema)
