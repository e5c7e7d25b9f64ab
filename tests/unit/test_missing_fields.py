"""Fields a marketplace needs that a listing lacks (issue 15 part 3): the question a job asks
(one field per id, a MIP-003 input schema Masumi's clients accept) and how its answer is read
back into the listing and the adapters' extras."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.input_form import FormError
from domain.job import Job
from domain.listing import Listing
from domain.marketplaces import Marketplace
from domain.mip003 import MipStatus, mip_status_view
from domain.missing_fields import (
    FieldTarget,
    ListingExtras,
    ebay_aspect,
    listing_field,
    merge,
    read_answer,
    vinted_package_size,
)
from domain.status import JobStatus, MarketplaceStatus
from tests.factories import job_input, listing_body
from tests.support import masumi_sdk as masumi
from tests.support import sokosumi_rules as sokosumi

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EBAY, VINTED = Marketplace.EBAY, Marketplace.VINTED
FIELDS = merge(
    [
        listing_field(EBAY, "size", "category 11483 requires 'Größe'"),
        ebay_aspect("Größentyp", "category 11483 requires 'Größentyp'"),
        listing_field(VINTED, "size", "catalog 'Jeans' needs a size", ["S", "M", "L"]),
        vinted_package_size({2: "Medium", 1: "Small"}, "VINTED_PACKAGE_SIZE_ID is not set"),
    ]
)


def _listing() -> Listing:
    return Listing.model_validate(listing_body())


def test_one_field_per_id_with_the_choices_of_the_marketplace_that_has_them():
    assert [f.id for f in FIELDS] == ["size", "ebay_groessentyp", "vinted_package_size"]
    size = FIELDS[0]
    assert size.values == ["S", "M", "L"] and size.target is FieldTarget.LISTING
    assert "ebay: category 11483" in size.description and "vinted: catalog" in size.description
    assert FIELDS[2].values == ["Small", "Medium"] and FIELDS[2].value_ids == [1, 2]


def test_the_question_is_a_schema_sokosumi_and_masumi_accept():
    """Sokosumi's input rules (tests/support/sokosumi_rules.py) and the SDK's model; every
    option single choice, every field required."""
    job = Job(job_input(now=NOW), NOW)
    job.move_to(JobStatus.RUNNING, NOW)
    job.missing = {EBAY: FIELDS[:2], VINTED: FIELDS[2:]}
    job.ask_for_input(NOW)
    schema = job.view().input_request.input_schema  # type: ignore[union-attr]
    sokosumi.InputSchema.model_validate(schema)
    masumi.InputSchemaResponse.model_validate(schema)
    for field in schema["input_data"]:
        assert not any(v["validation"] == "optional" for v in field.get("validations", []))
        if field["type"] == "option":
            assert sokosumi.single_choice(field)
    values = sokosumi.form_values(
        schema, {"size": "M", "ebay_groessentyp": "Regular", "vinted_package_size": "Medium"}
    )
    assert sokosumi.check_form(schema, values) == []
    masumi.validate_input_data(values, schema)


def test_the_answer_goes_into_the_listing_and_the_extras():
    listing, extras = read_answer(
        FIELDS,
        {"size": [1], "ebay_groessentyp": " Regular ", "vinted_package_size": "Medium"},
        _listing(),
        ListingExtras(),
    )
    assert listing.size == "M"
    assert extras == ListingExtras(ebay_aspects={"Größentyp": "Regular"}, vinted_package_size_id=2)


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"size": "XXL", "ebay_groessentyp": "R", "vinted_package_size": 0}, {"size"}),
        (
            {"size": "M", "ebay_groessentyp": "x" * 66, "vinted_package_size": 0},
            {"ebay_groessentyp"},
        ),
        ({"size": "M", "ebay_groessentyp": 5, "vinted_package_size": 0}, {"ebay_groessentyp"}),
        ({"size": "M", "vinted_package_size": [7]}, {"ebay_groessentyp", "vinted_package_size"}),
        ({"size": "M", "ebay_groessentyp": "R", "vinted_package_size": 0, "x": 1}, {"x"}),
    ],
)
def test_an_answer_that_does_not_fit_names_each_field(values: dict[str, object], fields: set[str]):
    with pytest.raises(FormError) as err:
        read_answer(FIELDS, values, _listing(), ListingExtras())
    assert {field for field, _ in err.value.errors} == fields


def test_a_listing_field_answer_is_checked_by_the_listing_model():
    brand = [listing_field(EBAY, "brand", "category requires 'Marke'")]
    with pytest.raises(FormError) as err:
        read_answer(brand, {"brand": "b" * 101}, _listing(), ListingExtras())
    assert [field for field, _ in err.value.errors] == ["brand"]


def test_awaiting_input_reads_as_mip003_with_the_question_and_a_new_id_after():
    job = Job(job_input(now=NOW, marketplaces=[EBAY]), NOW)
    job.move_to(JobStatus.RUNNING, NOW)
    job.move_marketplace(EBAY, MarketplaceStatus.RUNNING, NOW)
    before = mip_status_view(job.view()).id
    job.move_marketplace(EBAY, MarketplaceStatus.FAILED, NOW)
    job.missing = {EBAY: FIELDS[:1]}
    job.ask_for_input(NOW)
    asking = mip_status_view(job.view())
    assert asking.status is MipStatus.AWAITING_INPUT
    assert asking.input_schema is not None and asking.id == job.view().input_request.status_id  # type: ignore[union-attr]
    assert asking.message and asking.message.endswith("ebay: size")
    assert asking.id == mip_status_view(job.view()).id, "the same on every read"
    listing, extras = read_answer(FIELDS[:1], {"size": "M"}, job.listing, job.extras)
    assert job.take_fields(listing, extras, "fp", NOW) == [EBAY]
    after = mip_status_view(job.view())
    assert after.status is MipStatus.RUNNING and after.input_schema is None
    assert len({before, asking.id, after.id}) == 3
