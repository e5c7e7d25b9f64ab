"""Fields a marketplace needs that a listing lacks (issue 15, ``awaiting_input``): what an
adapter reports, the MIP-003 form a job asks with, and how the answer is read back.

An adapter that finds such fields before any write (eBay: item specifics its category
requires, Taxonomy API ``getItemAspectsForCategory``; Vinted: the catalog, brand, size or
package size its ontology needs) raises ``MissingListingFields`` with a :class:`MissingField`
each. The job asks for them (``running -> awaiting_input``), reads the answer with
:func:`read_answer` and hands the change over again: a listing field (brand, size, category)
goes into the listing, the rest into :class:`ListingExtras` for that marketplace's adapter.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import replace
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.input_form import FieldType, FormError, FormField, form_schema, read_form
from domain.listing import Listing
from domain.listing_form import LISTING_FORM
from domain.marketplaces import Marketplace
from domain.timestamps import UtcDatetime

LISTING_KEYS = ("brand", "size", "category")
"""Listing fields a marketplace may find missing; their form ids are the listing form's."""
ASPECT_MAX_LENGTH = 65
"""eBay's ``aspectMaxLength`` for free-text item specifics (the Taxonomy API's default, 65)."""
PACKAGE_SIZE_ID = "vinted_package_size"


class FieldTarget(StrEnum):
    """Where a supplied value goes."""

    LISTING = "listing"
    """The listing's own field ``key`` (brand, size, category): every marketplace sees it."""
    EBAY_ASPECT = "ebay_aspect"
    """An eBay item specific named ``key`` that no listing field holds."""
    VINTED_PACKAGE_SIZE = "vinted_package_size"
    """Vinted's ``package_size_id`` (a seller setting, VINTED_PACKAGE_SIZE_ID, when set)."""


class MissingField(BaseModel):
    """One field a marketplace needs. ``values``: the choices where the marketplace has a list
    (``value_ids`` their ids, Vinted), else free text."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    target: FieldTarget
    key: str
    marketplace: Marketplace
    description: str
    values: list[str] = Field(default_factory=list)
    value_ids: list[int] = Field(default_factory=list)


class ListingExtras(BaseModel):
    """What a job supplied beyond the listing model, per marketplace adapter."""

    model_config = ConfigDict(extra="forbid")

    ebay_aspects: dict[str, str] = Field(default_factory=dict)
    """Item specific name (localized, as the category names it) -> value."""
    vinted_package_size_id: int | None = None

    def is_empty(self) -> bool:
        return not self.ebay_aspects and self.vinted_package_size_id is None


class InputRequest(BaseModel):
    """A job's question while ``awaiting_input``: the fields (one per form id), which question
    of the job it is (``number``, from 1) and until when it waits (INPUT_TIMEOUT)."""

    model_config = ConfigDict(extra="forbid")

    number: int
    fields: list[MissingField]
    asked_at: UtcDatetime
    deadline: UtcDatetime

    def input_schema(self) -> dict[str, Any]:
        """The MIP-003 input schema (Attachment 01) of exactly these fields."""
        return form_schema(form_field(f) for f in self.fields)


class InputRequestView(BaseModel):
    """The question as the job view shows it (``GET /status/{job_id}``, ``input_request``)."""

    model_config = ConfigDict(extra="forbid")

    status_id: str = Field(description="The `status_id` that `POST /provide_input` names.")
    input_schema: dict[str, Any] = Field(description="MIP-003 input schema of the fields.")
    marketplaces: dict[Marketplace, list[str]] = Field(
        description="Which marketplace needs which field ids."
    )
    deadline: UtcDatetime = Field(description="After this the job fails with input_timeout.")


# -- what an adapter reports --------------------------------------------------------------------


def listing_field(
    marketplace: Marketplace, key: str, why: str, values: Iterable[str] = ()
) -> MissingField:
    """A listing field (``brand``, ``size``, ``category``) ``marketplace`` needs; ``values``
    when it takes only those (a Vinted catalog's size titles)."""
    if key not in LISTING_KEYS:
        raise ValueError(f"{key!r} is not a listing field a marketplace can ask for")
    form = _LISTING_FIELDS[key]
    return MissingField(
        id=form.id,
        name=form.name,
        target=FieldTarget.LISTING,
        key=key,
        marketplace=marketplace,
        description=f"{marketplace.value}: {why}",
        values=list(dict.fromkeys(values)),
    )


def ebay_aspect(name: str, why: str) -> MissingField:
    """An item specific the eBay category requires and no listing field holds."""
    return MissingField(
        id=f"ebay_{_slug(name)}",
        name=name,
        target=FieldTarget.EBAY_ASPECT,
        key=name,
        marketplace=Marketplace.EBAY,
        description=f"ebay: {why}",
    )


def vinted_package_size(choices: Mapping[int, str], why: str) -> MissingField:
    """Vinted's package size, one of the ontology's (id -> title)."""
    ordered = sorted(choices.items())
    return MissingField(
        id=PACKAGE_SIZE_ID,
        name="Vinted package size",
        target=FieldTarget.VINTED_PACKAGE_SIZE,
        key="package_size_id",
        marketplace=Marketplace.VINTED,
        description=f"vinted: {why}",
        values=[title or str(pid) for pid, title in ordered],
        value_ids=[pid for pid, _ in ordered],
    )


def _slug(name: str) -> str:
    """ASCII letters, digits and ``_`` (form ids: domain.input_form.FIELD_ID): ``Größentyp``
    -> ``groessentyp``."""
    text = name.replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:50] or "aspect"


# -- the form the job asks with ---------------------------------------------------------------

_LISTING_FIELDS = {f.id: f for f in LISTING_FORM if f.id in LISTING_KEYS}


def merge(fields: Iterable[MissingField]) -> list[MissingField]:
    """One field per form id (eBay and Vinted may both ask for the brand): the first with
    choices wins, the descriptions are joined."""
    merged: dict[str, MissingField] = {}
    for field in fields:
        seen = merged.get(field.id)
        if seen is None:
            merged[field.id] = field
            continue
        keep = field if field.values and not seen.values else seen
        description = f"{seen.description}; {field.description}"
        merged[field.id] = keep.model_copy(update={"description": description})
    return list(merged.values())


def form_field(field: MissingField) -> FormField:
    """The MIP-003 form field of ``field``: an option (one choice) where it has choices, else
    text of 1 to the field's maximum characters; always required."""
    if field.values:
        return FormField(
            id=field.id,
            type=FieldType.OPTION,
            name=field.name,
            description=field.description,
            values=tuple(field.values),
            min=1,
            max=1,
        )
    base = _LISTING_FIELDS.get(field.id)
    if base is not None and field.target is FieldTarget.LISTING:
        return replace(base, description=field.description, optional=False, min=1)
    return FormField(
        id=field.id,
        type=FieldType.TEXT,
        name=field.name,
        description=field.description,
        min=1,
        max=ASPECT_MAX_LENGTH,
    )


def read_answer(
    fields: Iterable[MissingField],
    input_data: Mapping[str, Any],
    listing: Listing,
    extras: ListingExtras,
) -> tuple[Listing, ListingExtras]:
    """The listing and extras with the answer applied. ``input_data`` is the form's values as
    a MIP-003 form sends them (options by value, by index, or as a one-value list). Raises
    ``FormError`` naming each unknown, missing or invalid field id (nothing is applied)."""
    fields = list(fields)
    values = read_form([form_field(f) for f in fields], input_data)
    errors: list[tuple[str, str]] = []
    updates: dict[str, Any] = {}
    aspects = dict(extras.ebay_aspects)
    package_size_id = extras.vinted_package_size_id
    for field in fields:
        value = values[field.id]
        if not isinstance(value, str) or not value.strip():
            errors.append((field.id, "must be a non-empty string"))
            continue
        value = value.strip()
        if field.values and value not in field.values:
            errors.append((field.id, f"must be one of: {', '.join(field.values)}"))
        elif field.target is FieldTarget.EBAY_ASPECT and len(value) > ASPECT_MAX_LENGTH:
            errors.append((field.id, f"must be at most {ASPECT_MAX_LENGTH} characters"))
        elif field.target is FieldTarget.LISTING:
            updates[field.key] = value
        elif field.target is FieldTarget.EBAY_ASPECT:
            aspects[field.key] = value
        else:
            package_size_id = field.value_ids[field.values.index(value)]
    if not errors and updates:
        try:
            listing = Listing.model_validate({**listing.model_dump(), **updates})
        except ValidationError as err:
            by_key = {f.key: f.id for f in fields if f.target is FieldTarget.LISTING}
            for error in err.errors(include_url=False):
                name = str(error["loc"][0]) if error["loc"] else ""
                errors.append((by_key.get(name, name), error["msg"]))
    if errors:
        raise FormError(errors)
    return listing, ListingExtras(ebay_aspects=aspects, vinted_package_size_id=package_size_id)
