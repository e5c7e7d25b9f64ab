"""What Sokosumi, Masumi's agent marketplace, accepts from an agent: its zod schemas restated
in pydantic, each rule citing the file and commit of masumi-network/sokosumi it restates.

Read through the code index of that repository (the whole snapshot could not be fetched):
paths below are in masumi-network/sokosumi, each ``@ <commit>`` the version read. zod objects
strip unknown keys, so extra keys are accepted here too (``extra="ignore"``); zod strings do not
coerce (``StrictStr``), ``z.coerce.number()`` does (lax ``int``).

Two layers:
- the response schemas (``packages/masumi/src/schemas``): what Sokosumi parses, or rejects as
  ``invalid-response``;
- the job form (``apps/web/src/lib/job-input``): how it renders an input schema and what values
  it submits (``form_values``), and the zod rules those values must pass (``check_form``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

REPO = "masumi-network/sokosumi"
INPUT_TYPES = "packages/masumi/src/types/input-types.ts @ b4bd3c53632b2280b8305a3b5a637bd7ab16d42b"
VALIDATIONS = (
    "packages/masumi/src/schemas/input/validation.schema.ts "
    "@ b4bd3c53632b2280b8305a3b5a637bd7ab16d42b"
)
INPUT_FIELDS = (
    "packages/masumi/src/schemas/input/input.schema.ts @ 03940611881eb641d370b9f910b1fe3863ffd8b0"
)
START_JOB = (
    "packages/masumi/src/schemas/agent/start_job.schema.ts "
    "@ 092991ba004a423eb6b15aa5b340810b761b33e1 (same rules @ b4bd3c53632b)"
)
STATUS = (
    "packages/masumi/src/schemas/agent/status.schema.ts "
    "@ 4d1850fa1257809630938c5b8503073ed55f59dd (same rules @ 903661a76cd6)"
)
AVAILABILITY = (
    "packages/masumi/src/schemas/agent/availability.schema.ts "
    "@ ed5340b0cb6d4ea6035ddfe073e91d7b8813e67b"
)
FORM_SCHEMA = "apps/web/src/lib/job-input/form-schema.ts @ 494147c4e226eb084324ed95e10cdc4b81649a5c"
FORM_HELPERS = (
    "apps/web/src/lib/job-input/form-schema-helpers.ts @ 93cbac2153f0837afc282392ad4e01f63a73b8ea"
)
OPTION_MODE = (
    "apps/web/src/lib/job-input/option-select-mode.ts @ 174096a2bb043b26f04d8cf58bfd47f9639445d4"
)
FORM = "apps/web/src/lib/job-input/form.ts @ 903661a76cd6178fecbcaaa2844f3204579a73ec"


class _Zod(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- validations (VALIDATIONS; format names from INPUT_TYPES' InputFormat) -------------------

NonEmpty = Annotated[StrictStr, Field(min_length=1)]


class Optional_(_Zod):
    """optionalValidationSchema: value "true" or "false" (strings)."""

    validation: Literal["optional"]
    value: Literal["true", "false"]


class Min(_Zod):
    """minValidationSchema: z.union([z.coerce.number().int().min(0), z.string().min(1)])."""

    validation: Literal["min"]
    value: Annotated[int, Field(ge=0)] | NonEmpty


class Max(_Zod):
    """maxValidationSchema: as min."""

    validation: Literal["max"]
    value: Annotated[int, Field(ge=0)] | NonEmpty


def _format(*names: str) -> type[_Zod]:
    class Format(_Zod):
        validation: Literal["format"]
        value: Literal[names]

    return Format


# One class per InputFormat: nonempty, url, email, integer, tel_pattern (INPUT_TYPES).
FormatNonEmpty, FormatUrl, FormatEmail, FormatInteger = (
    _format("nonempty"),
    _format("url"),
    _format("email"),
    _format("integer"),
)


# -- input fields (INPUT_FIELDS): which validations each type takes ---------------------------


class _Field(_Zod):
    id: NonEmpty
    name: NonEmpty


class _Described(_Zod):
    """data of text-like fields: placeholder and description are strings (z.string().nullish():
    a number placeholder is rejected)."""

    placeholder: StrictStr | None = None
    description: StrictStr | None = None


class TextField(_Field):
    """inputTextSchema / inputStringSchema: optional, min, max, format nonempty|url|email."""

    type: Literal["text", "string"]
    data: _Described | None = None
    validations: list[Optional_ | Min | Max | FormatNonEmpty | FormatUrl | FormatEmail] | None = (
        None
    )


class TextareaField(_Field):
    """inputTextareaSchema: optional, min, max, format nonempty (no url: a list of URLs in a
    textarea is fine, a format on it is not)."""

    type: Literal["textarea"]
    data: _Described | None = None
    validations: list[Optional_ | Min | Max | FormatNonEmpty] | None = None


class NumberField(_Field):
    """inputNumberSchema: optional, min, max, format integer."""

    type: Literal["number"]
    data: _Described | None = None
    validations: list[Optional_ | Min | Max | FormatInteger] | None = None


class UrlField(_Field):
    """inputUrlSchema: optional, min, max, format nonempty|url."""

    type: Literal["url"]
    data: _Described | None = None
    validations: list[Optional_ | Min | Max | FormatNonEmpty | FormatUrl] | None = None


class BooleanField(_Field):
    """inputBooleanSchema: optional only."""

    type: Literal["boolean"]
    data: _Described | None = None
    validations: list[Optional_] | None = None


class _OptionData(_Zod):
    """data of inputOptionSchema: required; values non-empty, unique, each a non-empty string
    (z.string().min(1) in input.schema.ts @ 52be64bef1d2; plain z.string() @ 03940611881e:
    the stricter one is kept)."""

    values: Annotated[list[NonEmpty], Field(min_length=1)]
    placeholder: StrictStr | None = None
    description: StrictStr | None = None

    @model_validator(mode="after")
    def _unique(self) -> _OptionData:
        if len(set(self.values)) != len(self.values):
            raise ValueError("option values must be unique")
        return self


class OptionField(_Field):
    """inputOptionSchema: data required, validations optional, min, max only."""

    type: Literal["option"]
    data: _OptionData
    validations: list[Optional_ | Min | Max] | None = None


InputField = Annotated[
    TextField | TextareaField | NumberField | UrlField | BooleanField | OptionField,
    Field(discriminator="type"),
]
"""The input types this gateway uses; any other type fails, as a type Sokosumi does not render
would be no help to its purchasers anyway."""


class InputSchema(_Zod):
    """inputSchemaSchema: exactly one of input_data, input_groups; ids unique."""

    input_data: list[InputField]

    @model_validator(mode="after")
    def _unique_ids(self) -> InputSchema:
        ids = [field.id for field in self.input_data]
        if len(set(ids)) != len(ids):
            raise ValueError("Input IDs must be unique across all inputs")
        return self


# -- agent responses --------------------------------------------------------------------------


class StartPaidJobResponse(_Zod):
    """startPaidJobResponseSchema (START_JOB): ``id`` (or ``job_id``, preprocessed into it),
    non-empty strings, the four times coerced to integers."""

    id: NonEmpty
    input_hash: NonEmpty
    identifierFromPurchaser: NonEmpty
    blockchainIdentifier: NonEmpty
    payByTime: int
    submitResultTime: int
    unlockTime: int
    externalDisputeUnlockTime: int
    agentIdentifier: NonEmpty
    sellerVKey: NonEmpty

    @model_validator(mode="before")
    @classmethod
    def _id_from_job_id(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("id") is None and "job_id" in value:
            return {**value, "id": value["job_id"]}
        return value


class JobStatusResponse(_Zod):
    """jobStatusResponseSchema (STATUS): five statuses; input_schema required when
    awaiting_input, result a non-empty string when completed."""

    id: StrictStr | None = None
    status: Literal["awaiting_payment", "awaiting_input", "running", "completed", "failed"]
    input_schema: InputSchema | None = None
    result: StrictStr | None = None

    @model_validator(mode="after")
    def _required_by_status(self) -> JobStatusResponse:
        if self.status == "awaiting_input" and not self.input_schema:
            raise ValueError("input_schema is required when status is awaiting_input")
        if self.status == "completed" and not self.result:
            raise ValueError("result is required when status is completed")
        return self


class AvailabilityResponse(_Zod):
    """availabilityResponseSchema (AVAILABILITY)."""

    status: Literal["available", "unavailable"]
    type: Literal["masumi-agent"]
    message: StrictStr | None = None


# -- the job form (FORM_SCHEMA, FORM_HELPERS, OPTION_MODE, FORM) ------------------------------


def _rules(field: dict[str, Any]) -> dict[str, Any]:
    """parseValidations (FORM_HELPERS): the last min/max/format wins; optional when "true"."""
    rules: dict[str, Any] = {"optional": False}
    for entry in field.get("validations") or []:
        if entry["validation"] == "optional":
            rules["optional"] = entry["value"] == "true"
        else:
            rules[entry["validation"]] = entry["value"]
    return rules


def single_choice(field: dict[str, Any]) -> bool:
    """getOptionSelectMode (OPTION_MODE): "single" without min/max or with min = max = 1."""
    rules = _rules(field)
    if "min" not in rules and "max" not in rules:
        return True
    return str(rules.get("min")) == "1" and str(rules.get("max")) == "1"


def form_values(schema: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """What the form submits when a purchaser enters ``wanted`` (field id -> what they type or
    pick, options by value): options become the list of their indices in data.values
    (applyOptionValidations: z.array(z.int())), numbers stay numbers (z.coerce.number), text
    stays text; fields left empty are dropped (filterOutNullValues in FORM); booleans default
    to false (defaultValues in FORM), so they are always sent."""
    values: dict[str, Any] = {}
    for field in schema["input_data"]:
        entered = wanted.get(field["id"])
        if field["type"] == "boolean":
            values[field["id"]] = bool(entered)
        elif entered is None or entered == "":
            continue
        elif field["type"] == "option":
            choices = entered if isinstance(entered, list) else [entered]
            values[field["id"]] = [field["data"]["values"].index(c) for c in choices]
        elif field["type"] == "number":
            values[field["id"]] = int(entered) if float(entered).is_integer() else float(entered)
        else:
            values[field["id"]] = str(entered)
    return values


def check_form(schema: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """The form's own zod rules (FORM_SCHEMA, FORM_HELPERS) on submitted values: what keeps
    the purchaser from submitting. Returns the problems (empty: the form submits)."""
    problems: list[str] = []
    for field in schema["input_data"]:
        rules, value, where = _rules(field), values.get(field["id"]), field["id"]
        if value is None:
            if not rules["optional"] and field["type"] != "boolean":
                problems.append(f"{where}: required")
            continue
        low, high = rules.get("min"), rules.get("max")
        if field["type"] in ("text", "string", "textarea", "url"):
            # applyStringValidations / applyTextareaValidations: min/max are lengths; a
            # required field without min needs 1 character.
            if not isinstance(value, str):
                problems.append(f"{where}: not a string")
                continue
            if low is not None and len(value) < int(low):
                problems.append(f"{where}: shorter than {low}")
            if high is not None and len(value) > int(high):
                problems.append(f"{where}: longer than {high}")
            if low is None and not rules["optional"] and not value:
                problems.append(f"{where}: required")
        elif field["type"] == "number":
            # applyNumericValidations: min/max are values, format integer is .int().
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{where}: not a number")
                continue
            if (low is not None and value < float(low)) or (
                high is not None and value > float(high)
            ):
                problems.append(f"{where}: out of {low}..{high}")
            if rules.get("format") == "integer" and not float(value).is_integer():
                problems.append(f"{where}: not an integer")
        elif field["type"] == "option":
            # applyOptionValidations: an array of integer indices below len(values); min/max
            # count the chosen ones.
            count = len(field["data"]["values"])
            if not isinstance(value, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < count for i in value
            ):
                problems.append(f"{where}: not a list of indices below {count}")
                continue
            if low is not None and len(value) < int(low):
                problems.append(f"{where}: fewer than {low} chosen")
            if high is not None and len(value) > int(high):
                problems.append(f"{where}: more than {high} chosen")
        elif field["type"] == "boolean" and not isinstance(value, bool):
            problems.append(f"{where}: not a boolean")
    return problems
