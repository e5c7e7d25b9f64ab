"""MIP-003 input forms (Attachment 01): a field, the schema entry it publishes, and how the value
a form sends for it is read back. Generic: the listing form (``domain.listing_form``) is one
table of these; a job that asks for missing fields (``awaiting_input``) builds another.

Only what Masumi's clients accept is built (Sokosumi's zod schemas, the ``masumi`` validator;
tests/support/sokosumi_rules.py): flat ids, string placeholders, ``format`` only ``integer`` on
numbers, ``min``/``max`` as the form applies them (string length on text, count on options).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

FIELD_ID = re.compile(r"[A-Za-z0-9_]{1,64}")
"""Sokosumi's form turns a dot in an id into a nested path (``price.amount`` -> price/amount),
so the flat value stays empty: ids are letters, digits and ``_`` only."""

_DIGITS = re.compile(r"[0-9]{1,9}")


class FieldType(StrEnum):
    """The Attachment 01 types the forms here use."""

    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    OPTION = "option"
    BOOLEAN = "boolean"


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
"""What ``FormField.read`` returns for an optional field the form left empty."""


class FormValueError(ValueError):
    """A value no reading of the field makes sense of (an option index out of range, …)."""


class FormError(ValueError):
    """Form values that cannot be read: ``errors`` as (field id, message), in input order."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))
        self.errors = errors


@dataclass(frozen=True)
class FormField:
    """One MIP-003 input field. ``lines``: a textarea read as a list, one entry per line."""

    id: str
    type: FieldType
    name: str
    description: str | None = None
    placeholder: str | None = None
    values: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    integer: bool = False
    optional: bool = False
    lines: bool = False

    def __post_init__(self) -> None:
        if not FIELD_ID.fullmatch(self.id):
            raise ValueError(f"form field id {self.id!r}: letters, digits and _ only (no dots)")
        if (self.type is FieldType.OPTION) != bool(self.values):
            raise ValueError(f"form field {self.id!r}: options, and only options, have values")
        if self.lines and self.type is not FieldType.TEXTAREA:
            raise ValueError(f"form field {self.id!r}: only a textarea is read as lines")

    @property
    def single_choice(self) -> bool:
        """An option field whose form lets the purchaser pick exactly one value."""
        return self.type is FieldType.OPTION and self.max == 1

    # -- the schema entry -----------------------------------------------------------------

    def schema(self) -> dict[str, Any]:
        """The field as ``GET /input_schema`` (or a status's ``input_schema``) lists it."""
        data: dict[str, Any] = {}
        if self.description:
            data["description"] = self.description
        if self.placeholder is not None:
            data["placeholder"] = self.placeholder
        if self.values:
            data["values"] = list(self.values)
        validations: list[dict[str, str]] = []
        if self.min is not None:
            validations.append({"validation": "min", "value": str(self.min)})
        if self.max is not None:
            validations.append({"validation": "max", "value": str(self.max)})
        if self.integer:
            validations.append({"validation": "format", "value": "integer"})
        if self.optional:
            validations.append({"validation": "optional", "value": "true"})
        entry: dict[str, Any] = {"id": self.id, "type": self.type.value, "name": self.name}
        if data:
            entry["data"] = data
        if validations:
            entry["validations"] = validations
        return entry

    # -- reading a submitted value --------------------------------------------------------

    def read(self, value: Any) -> Any:
        """The value a form sent, in the shape the model behind the form takes; ``ABSENT`` for
        an optional field left empty. What cannot be read is passed on unchanged for the model
        to refuse (with its own message), except option choices that name no option."""
        if _empty(value) and (self.optional or self.type is FieldType.OPTION):
            if self.optional:
                return ABSENT
            raise FormValueError(f"choose one of: {', '.join(self.values)}")
        if self.type is FieldType.OPTION:
            return self._read_option(value)
        if self.type is FieldType.NUMBER and self.integer:
            return _read_integer(value)
        if self.lines and isinstance(value, str):
            return [line.strip() for line in value.splitlines() if line.strip()]
        return value

    def _read_option(self, value: Any) -> Any:
        # Sokosumi sends the indices of the chosen values in data.values ([2]), always as a
        # list; a single-choice form may send the value itself ("good"), or a list of it.
        choices = value if isinstance(value, list) else [value]
        if self.single_choice and len(choices) != 1:
            raise FormValueError(f"choose exactly one of: {', '.join(self.values)}")
        chosen = [self._choice(choice) for choice in choices]
        return chosen[0] if self.single_choice else chosen

    def _choice(self, choice: Any) -> Any:
        if isinstance(choice, int) and not isinstance(choice, bool):
            if not 0 <= choice < len(self.values):
                raise FormValueError(
                    f"option index {choice} is out of range: 0 to {len(self.values) - 1} "
                    f"({', '.join(self.values)})"
                )
            return self.values[choice]
        if isinstance(choice, str):
            return choice  # the model checks it is one of the values
        raise FormValueError(f"must be one of {', '.join(self.values)} or its index")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _read_integer(value: Any) -> Any:
    """An integer as forms send it: 3, 3.0 (a JavaScript number) or "3" (ASCII digits only)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return value


def read_form(
    fields: Iterable[FormField], values: Mapping[str, Any], *, check_required: bool = True
) -> dict[str, Any]:
    """Every value read by its field (``FormField.read``), optional empties left out. Raises
    ``FormError`` naming each unknown id, unreadable value and, with ``check_required``, each
    required field missing (leave that to the model behind the form when it has one)."""
    by_id = {field.id: field for field in fields}
    read: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for field_id, value in values.items():
        field = by_id.get(field_id)
        if field is None:
            errors.append((field_id, "Extra inputs are not permitted"))
            continue
        try:
            result = field.read(value)
        except FormValueError as err:
            errors.append((field_id, str(err)))
            continue
        if result is not ABSENT:
            read[field_id] = result
    if check_required:
        missing = [f.id for f in by_id.values() if not f.optional and f.id not in values]
        errors.extend((field_id, "Field required") for field_id in missing)
    if errors:
        raise FormError(errors)
    return read


def form_schema(fields: Iterable[FormField]) -> dict[str, Any]:
    """A MIP-003 input schema (Attachment 01) of these fields, in order."""
    return {"input_data": [field.schema() for field in fields]}
