"""The listing as a flat MIP-003 form (issue 15, part 2): one table for the schema and the
parser, flat ids, values as Sokosumi's form and the ``masumi`` SDK send them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from domain.input_form import (
    ABSENT,
    FIELD_ID,
    FieldType,
    FormError,
    FormField,
    FormValueError,
    read_form,
)
from domain.listing import Listing
from domain.listing_form import (
    LISTING_FORM,
    ROWS,
    form_locations,
    form_values,
    is_listing_form,
    listing_form_schema,
    listing_json,
)
from tests.factories import listing_body


def _leaf_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= _leaf_paths(annotation, (*prefix, name))
        else:
            paths.add((*prefix, name))
    return paths


def _form(**values: Any) -> dict[str, Any]:
    return {
        "sku": "SKU1",
        "title": "Jacket",
        "description": "Denim",
        "price_amount": "45.00",
        "price_currency": "EUR",
        "quantity": 1,
        "condition": [2],
        "images": "https://example.com/a.jpg",
        **values,
    }


def test_every_listing_field_has_exactly_one_flat_form_field():
    """Issue 15 "one table shared by the schema and the parser": a new Listing field without
    a row fails here, before /input_schema and /start_job disagree."""
    assert sorted(row.path for row in ROWS) == sorted(_leaf_paths(Listing))
    ids = [field.id for field in LISTING_FORM]
    assert len(ids) == len(set(ids))
    assert all(FIELD_ID.fullmatch(i) and "." not in i for i in ids)


def test_schema_limits_come_from_the_model():
    fields = {f["id"]: f for f in listing_form_schema()["input_data"]}
    assert {"validation": "max", "value": "80"} in fields["title"]["validations"]
    assert fields["description"]["type"] == "textarea"
    assert fields["quantity"]["validations"] == [
        {"validation": "min", "value": "1"},
        {"validation": "max", "value": "999"},
        {"validation": "format", "value": "integer"},
    ]
    assert fields["quantity"]["data"]["placeholder"] == "1", "placeholders are strings"
    assert fields["condition"]["data"]["values"] == ["new", "like_new", "good", "fair"]
    assert {"validation": "max", "value": "1"} in fields["condition"]["validations"]
    assert fields["images"]["type"] == "textarea"
    assert "validations" not in fields["images"], "a textarea's min/max would count characters"
    assert {"validation": "optional", "value": "true"} in fields["brand"]["validations"]
    assert not any(v["validation"] == "optional" for v in fields["sku"]["validations"])
    assert fields["is_supply"]["type"] == "boolean"


def test_schema_of_a_subset_keeps_table_order():
    """The builder serves part 3 (awaiting_input): only the fields a job is missing."""
    schema = listing_form_schema(["size", "brand"])
    assert [f["id"] for f in schema["input_data"]] == ["brand", "size"]


def test_form_values_become_the_nested_listing():
    listing = Listing.model_validate(
        listing_json(_form(images="https://e.com/a.jpg\r\n\n  https://e.com/b.jpg  \n"))
    )
    assert listing.price.amount == "45.00" and listing.price.currency == "EUR"
    assert listing.condition == "good"
    assert listing.images == ["https://e.com/a.jpg", "https://e.com/b.jpg"]


@pytest.mark.parametrize(
    ("sent", "condition"),
    [([2], "good"), (2, "good"), ("good", "good"), (["good"], "good"), ([0], "new")],
    ids=["sokosumi index list", "bare index", "value", "masumi value list", "index 0"],
)
def test_an_option_is_read_by_index_or_by_value(sent: Any, condition: str):
    assert listing_json(_form(condition=sent))["condition"] == condition


@pytest.mark.parametrize(
    ("sent", "quantity"), [(3, 3), (3.0, 3), ("3", 3), ("3.5", "3.5"), ("٣", "٣"), (True, True)]
)
def test_an_integer_is_read_as_forms_send_it(sent: Any, quantity: Any):
    """A JavaScript number (3.0) and ASCII digits become an int; anything else reaches the
    model unchanged, which refuses it (non-ASCII digits, fractions, booleans)."""
    assert listing_json(_form(quantity=sent))["quantity"] == quantity


def test_an_optional_field_left_empty_is_absent():
    listing = listing_json(_form(brand="", size=None, who_made=[], is_supply=None))
    assert not {"brand", "size", "who_made", "is_supply"} & set(listing)


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"colour": "blue"}, "colour", "Extra inputs"),
        ({"condition": [7]}, "condition", "out of range"),
        ({"condition": [0, 1]}, "condition", "exactly one"),
        ({"condition": []}, "condition", "choose one"),
        ({"condition": [True]}, "condition", "or its index"),
        ({"who_made": {"x": 1}}, "who_made", "or its index"),
    ],
)
def test_values_no_reading_fits_name_their_field(values: dict[str, Any], field: str, words: str):
    with pytest.raises(FormError) as err:
        listing_json(_form(**values))
    assert [f for f, _ in err.value.errors] == [field]
    assert words in err.value.errors[0][1]


def test_model_errors_map_back_to_form_ids():
    assert form_locations(("price", "amount")) == [(("price_amount",), "")]
    assert form_locations(("price",)) == [(("price_amount",), ""), (("price_currency",), "")]
    assert form_locations(("images", 1)) == [(("images",), "line 2: ")]
    assert form_locations(("sku",)) == [(("sku",), "")]


def test_the_nested_listing_is_not_a_form():
    assert not is_listing_form(listing_body())
    assert is_listing_form(_form())
    assert not is_listing_form(["not", "a", "dict"])


def test_form_values_of_a_listing_read_back_to_it():
    listing = Listing.model_validate(
        listing_body(
            images=["https://e.com/a.jpg", "https://e.com/b.jpg"], brand="Levi's", is_supply=False
        )
    )
    values = form_values(listing)
    assert values["images"] == "https://e.com/a.jpg\nhttps://e.com/b.jpg"
    assert Listing.model_validate(listing_json(values)) == listing


def test_a_form_field_refuses_what_sokosumi_cannot_render():
    with pytest.raises(ValueError, match="no dots"):
        FormField(id="price.amount", type=FieldType.TEXT, name="Price")
    with pytest.raises(ValueError, match="values"):
        FormField(id="colour", type=FieldType.OPTION, name="Colour")
    with pytest.raises(ValueError, match="textarea"):
        FormField(id="urls", type=FieldType.TEXT, name="URLs", lines=True)


def test_a_multiple_choice_option_reads_a_list():
    field = FormField(
        id="colours", type=FieldType.OPTION, name="Colours", values=("red", "blue"), max=2
    )
    assert field.read([1, "red"]) == ["blue", "red"]
    with pytest.raises(FormValueError):
        field.read([])
    optional = FormField(id="c", type=FieldType.OPTION, name="C", values=("a",), optional=True)
    assert optional.read([]) is ABSENT


def test_a_form_without_a_model_is_read_and_checked_field_by_field():
    """What a job asking for fields no model describes (eBay aspects) reads its answer with."""
    fields = [
        FormField(id="Colour", type=FieldType.OPTION, name="Colour", values=("Red", "Blue"), max=1),
        FormField(id="Material", type=FieldType.TEXT, name="Material"),
        FormField(id="Style", type=FieldType.TEXT, name="Style", optional=True),
    ]
    assert read_form(fields, {"Colour": [1], "Material": "Denim", "Style": ""}) == {
        "Colour": "Blue",
        "Material": "Denim",
    }
    with pytest.raises(FormError) as err:
        read_form(fields, {"Colour": [5], "Pattern": "x"})
    assert [field for field, _ in err.value.errors] == ["Colour", "Pattern", "Material"]
