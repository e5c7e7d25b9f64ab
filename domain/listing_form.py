"""The listing as a flat MIP-003 form: one table that ``GET /input_schema`` publishes and
``POST /start_job`` reads back, so the two cannot drift. Limits, option values, examples and
descriptions come from the Listing model itself; the table adds only what a form needs (a flat
id, a field type, a name)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.input_form import FieldType, FormField, form_schema, read_form
from domain.listing import Listing

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class FormRow:
    """Where a form field's value goes in the listing (``path``) and how the form shows it."""

    id: str
    path: tuple[str, ...]
    type: FieldType
    name: str
    description: str | None = None
    lines: bool = False


ROWS: tuple[FormRow, ...] = (
    FormRow("sku", ("sku",), FieldType.TEXT, "SKU"),
    FormRow("title", ("title",), FieldType.TEXT, "Title"),
    FormRow("description", ("description",), FieldType.TEXTAREA, "Description"),
    FormRow("price_amount", ("price", "amount"), FieldType.TEXT, "Price"),
    FormRow("price_currency", ("price", "currency"), FieldType.TEXT, "Currency"),
    FormRow("quantity", ("quantity",), FieldType.NUMBER, "Quantity"),
    FormRow("condition", ("condition",), FieldType.OPTION, "Condition"),
    # A list has no form field of its own: a url field's min/max would count characters.
    FormRow(
        "images",
        ("images",),
        FieldType.TEXTAREA,
        "Image URLs",
        description="1 to 10 https image URLs, one per line.",
        lines=True,
    ),
    FormRow("brand", ("brand",), FieldType.TEXT, "Brand"),
    FormRow("size", ("size",), FieldType.TEXT, "Size"),
    FormRow("category", ("category",), FieldType.TEXT, "Category"),
    FormRow("who_made", ("who_made",), FieldType.OPTION, "Who made it"),
    FormRow("when_made", ("when_made",), FieldType.OPTION, "When it was made"),
    FormRow("is_supply", ("is_supply",), FieldType.BOOLEAN, "Craft supply"),
)


# -- the fields, from the model -------------------------------------------------------------


def _property(root: dict[str, Any], path: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
    """The JSON schema of the model property at ``path`` and whether it is required."""
    defs = root.get("$defs", {})
    schema, required = root, True
    for name in path:
        required = required and name in schema.get("required", [])
        schema = schema["properties"][name]
        if "$ref" in schema:
            schema = {**defs[schema["$ref"].rsplit("/", 1)[-1]], **schema}
        variants = [v for v in schema.get("anyOf", []) if v.get("type") != "null"]
        if variants:  # an optional field, X | None: the field's own keys win over X's
            target = variants[0]
            if "$ref" in target:
                target = defs[target["$ref"].rsplit("/", 1)[-1]]
            schema = {**target, **{k: v for k, v in schema.items() if k != "anyOf"}}
    return schema, required


def _field(row: FormRow, root: dict[str, Any]) -> FormField:
    schema, required = _property(root, row.path)
    examples = schema.get("examples") or [None]
    example = examples[0][0] if isinstance(examples[0], list) else examples[0]
    limits: dict[str, Any] = {}
    if row.type is FieldType.OPTION:
        limits = {"min": 1, "max": 1}
    elif row.type is FieldType.NUMBER:
        limits = {"min": schema.get("minimum"), "max": schema.get("maximum")}
    elif not row.lines:
        limits = {"min": schema.get("minLength"), "max": schema.get("maxLength")}
    return FormField(
        id=row.id,
        type=row.type,
        name=row.name,
        description=row.description or schema.get("description"),
        placeholder=None if example is None else str(example),
        values=tuple(schema.get("enum", ())),
        integer=schema.get("type") == "integer",
        optional=not required,
        lines=row.lines,
        **limits,
    )


LISTING_FORM: tuple[FormField, ...] = tuple(
    _field(row, Listing.model_json_schema()) for row in ROWS
)
_ROWS = {row.id: row for row in ROWS}


def listing_form_schema(ids: Iterable[str] | None = None) -> dict[str, Any]:
    """``GET /input_schema``: every listing field, or only ``ids`` (in table order), e.g. the
    listing fields a marketplace found missing."""
    wanted = None if ids is None else set(ids)
    return form_schema(f for f in LISTING_FORM if wanted is None or f.id in wanted)


# -- reading a form back ----------------------------------------------------------------------


def is_listing_form(input_data: Any) -> bool:
    """Flat form values rather than the nested listing: a listing always has ``price``."""
    return isinstance(input_data, dict) and "price" not in input_data


def listing_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """The nested listing JSON of flat form values, for ``Listing`` to validate (which also
    names missing fields). Raises ``FormError`` for unknown ids and values no reading of the
    field makes sense of."""
    listing: dict[str, Any] = {}
    for field_id, value in read_form(LISTING_FORM, values, check_required=False).items():
        *parents, leaf = _ROWS[field_id].path
        target = listing
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return listing


def form_locations(loc: Loc) -> list[tuple[Loc, str]]:
    """Where an error at ``loc`` in the nested listing is in the form: (location, prefix for
    its message). ``images.2`` is line 3 of the images textarea; a missing ``price`` is both
    price fields."""
    located: list[tuple[Loc, str]] = []
    for row in ROWS if loc else ():
        depth = len(row.path)
        if tuple(loc[:depth]) == row.path:
            rest = loc[depth:]
            if row.lines and rest and isinstance(rest[0], int):
                return [((row.id,), f"line {rest[0] + 1}: ")]
            return [((row.id, *rest), "")]
        if len(loc) < depth and tuple(row.path[: len(loc)]) == tuple(loc):
            located.append(((row.id,), ""))
    return located or [(loc, "")]


def form_values(listing: Listing) -> dict[str, Any]:
    """The form values a purchaser would fill in for ``listing`` (option values by name)."""
    source = listing.model_dump(mode="json", exclude_none=True)
    values: dict[str, Any] = {}
    for row in ROWS:
        value: Any = source
        for name in row.path:
            value = value.get(name) if isinstance(value, dict) else None
        if value is not None:
            values[row.id] = "\n".join(value) if row.lines else value
    return values
