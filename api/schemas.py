"""Request and response bodies of the gateway (unknown fields are rejected at every level)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from config.settings import Settings
from domain.batch import MAX_BATCH_SIZE
from domain.callbacks import MAX_CALLBACK_URL_LENGTH
from domain.canonical import MAX_JSON_DEPTH, json_depth
from domain.input_form import FormError
from domain.job import JobView
from domain.listing import Listing
from domain.listing_form import form_locations, is_listing_form, listing_json
from domain.marketplace_limits import ListingLimits, listing_violations
from domain.marketplaces import ALL_MARKETPLACES, Marketplace

EXAMPLE_START_JOB: dict[str, Any] = {
    "input_data": {
        "sku": "SKU12345",
        "title": "Vintage denim jacket",
        "description": "Levi's trucker jacket, size M, light wash.",
        "price": {"amount": "45.00", "currency": "EUR"},
        "quantity": 1,
        "condition": "good",
        "images": ["https://example.com/a.jpg"],
    },
    "identifier_from_purchaser": "order-8812",
    "marketplaces": ["ebay", "etsy", "vinted"],
}


def _not_too_deep(value: dict[str, Any]) -> dict[str, Any]:
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"must not nest deeper than {MAX_JSON_DEPTH} levels")
    return value


SignedData = Annotated[dict[str, Any], AfterValidator(_not_too_deep)]
"""The signed payment confirmation: a JSON object nested at most MAX_JSON_DEPTH levels."""


def _form_error(loc: tuple[str | int, ...], message: str, value: Any) -> dict[str, Any]:
    error = PydanticCustomError("listing_form", "{message}", {"message": message})
    return {"type": error, "loc": loc, "input": value}


def _listing_of_form(values: dict[str, Any], handler: ValidatorFunctionWrapHandler) -> Listing:
    """A listing from flat MIP-003 form values; every error located at its form field id."""
    try:
        listing: Listing = handler(listing_json(values))
        return listing
    except FormError as err:
        errors = [
            _form_error((field,), message, values.get(field)) for field, message in err.errors
        ]
    except ValidationError as err:
        errors = []
        for error in err.errors(include_url=False):
            for loc, prefix in form_locations(tuple(error["loc"])):
                errors.append(_form_error(loc, prefix + error["msg"], error.get("input")))
    raise ValidationError.from_exception_data("Listing", errors)  # type: ignore[arg-type]


class StartJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_START_JOB]})

    input_data: Listing = Field(
        validation_alias=AliasChoices("input_data", "inputs"),
        description="The listing to publish (alias `inputs`): this nested object, or the flat "
        "form `GET /input_schema` describes (`price_amount`, `price_currency`, `images` one "
        "URL per line, options by value or by index).",
    )
    identifier_from_purchaser: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        validation_alias=AliasChoices("identifier_from_purchaser", "identifierFromPurchaser"),
        description="The purchaser's reference (alias `identifierFromPurchaser`, as Sokosumi "
        "sends it); generated when absent.",
    )
    marketplaces: list[Marketplace] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="Where to publish; default all three.",
    )
    callback_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CALLBACK_URL_LENGTH,
        description="Where the service POSTs `job.completed`, `job.failed` and `job.cancelled`, "
        'signed per Standard Webhooks (README "Operating it"): an https URL of a public '
        "host, without credentials.",
    )

    _received_input: Any = PrivateAttr(default=None)

    @field_validator("marketplaces")
    @classmethod
    def _unique(cls, value: list[Marketplace] | None) -> list[Marketplace] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("marketplaces must be unique")
        return value

    @field_validator("callback_url")
    @classmethod
    def _callback_url_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isascii() or any(ch.isspace() or ord(ch) < 32 for ch in value):
            raise ValueError("must be an ASCII URL without spaces or control characters")
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an https URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials: put a token in the path instead")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number in range
        except ValueError:
            raise ValueError("has an invalid port") from None
        return value

    @field_validator("input_data", mode="wrap")
    @classmethod
    def _nested_or_form(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Listing:
        if is_listing_form(value):
            return _listing_of_form(value, handler)
        listing: Listing = handler(value)
        return listing

    @model_validator(mode="wrap")
    @classmethod
    def _keep_received_input(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        request = handler(data)
        if isinstance(data, dict):
            request._received_input = data["input_data"] if "input_data" in data else data["inputs"]
        return request

    def received_input_data(self) -> Any:
        """``input_data`` exactly as the caller sent it: MIP-004 hashes this, so the hash is
        the purchaser's whichever form (nested or flat, option names or indices) they used."""
        if self._received_input is None:  # built in code, not from a request body
            return self.input_data.model_dump(mode="json", exclude_unset=True)
        return self._received_input

    def is_form(self) -> bool:
        return is_listing_form(self._received_input)

    def marketplace_limit_errors(
        self, limits: ListingLimits, at: tuple[str | int, ...] = ()
    ) -> list[dict[str, Any]]:
        """What the chosen marketplaces (default all) would refuse of the listing, as
        validation errors located in the body (``domain.marketplace_limits``).

        Not a pydantic validator: the rules depend on settings (the eBay marketplace, the Etsy
        shop's currency), which FastAPI's body validation cannot see; the job and batch
        services call this before anything starts, and answer 422 with these errors."""
        marketplaces = self.marketplaces or ALL_MARKETPLACES
        errors: list[dict[str, Any]] = []
        for violation in listing_violations(self.input_data, marketplaces, limits):
            loc: tuple[str | int, ...] = tuple(violation.field.split("."))
            locations = form_locations(loc) if self.is_form() else [(loc, "")]
            errors.extend(
                {
                    "loc": ("body", *at, "input_data", *where),
                    "msg": prefix + violation.message,
                    "type": "marketplace_limit",
                }
                for where, prefix in locations
            )
        return errors


class ProvideInputRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "job_id": "4b3f0c2e-8a51-4f0e-9d55-2f1f4f1f9a10",
                    "data": {"payment_id": "pay_123", "amount": "45.00", "currency": "EUR"},
                    "signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
                }
            ]
        },
    )

    job_id: str = Field(min_length=1, max_length=255)
    data: SignedData = Field(
        description="The signed payment confirmation (a JSON object, at most "
        f"{MAX_JSON_DEPTH} levels deep)."
    )
    signature: str = Field(
        min_length=1,
        max_length=4096,
        description="Space-separated `v1,<base64 HMAC-SHA256>` and/or `v1a,<base64 Ed25519>` "
        "over `job_id + '.' + JCS(data)`.",
    )


class ProvideFieldsRequest(BaseModel):
    """MIP-003's ``POST /provide_input``: the fields a job asks for while ``awaiting_input``
    (its MIP status's ``input_schema``), answering the question ``status_id`` names."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "job_id": "4b3f0c2e-8a51-4f0e-9d55-2f1f4f1f9a10",
                    "status_id": "5d0a3c8e-3f4b-5e62-9a8b-0c1d2e3f4a5b",
                    "input_data": {"size": "W32 L34"},
                }
            ]
        },
    )

    job_id: str = Field(min_length=1, max_length=255)
    status_id: str = Field(
        min_length=1, max_length=255, description="The `id` of the job's awaiting_input status."
    )
    input_data: SignedData = Field(
        description="The values of the status's `input_schema` fields, as a MIP-003 form "
        "sends them (options by value or by index)."
    )


class ProvideInputBody(RootModel[ProvideInputRequest | ProvideFieldsRequest]):
    """Either form of ``POST /provide_input``: the signed payment confirmation (``data``,
    ``signature``) or MIP-003's input (``status_id``, ``input_data``), told apart by those
    keys; errors are located as in the form chosen."""

    @model_validator(mode="wrap")
    @classmethod
    def _one_form(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, cls | ProvideInputRequest | ProvideFieldsRequest):
            return handler(value)
        mip = isinstance(value, dict) and ("status_id" in value or "input_data" in value)
        form = ProvideFieldsRequest if mip else ProvideInputRequest
        try:
            return handler(form.model_validate(value))
        except ValidationError as err:
            errors = err.errors(include_url=False)
            raise ValidationError.from_exception_data(form.__name__, errors) from None  # type: ignore[arg-type]


class ProvideFieldsResponse(BaseModel):
    """MIP-003's answer to ``provide_input``: ``input_hash`` (MIP-004, over ``input_data`` as
    received, with the job's identifier_from_purchaser) and the agent's ``signature`` of it,
    empty while no agent key is configured (as the ``masumi`` SDK answers)."""

    input_hash: str
    signature: str = ""


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


class StartJobResponse(JobView):
    """The job view plus MIP-003's start response, as Sokosumi and the ``masumi`` SDK read it:
    ``id``, the payment deadlines in Unix seconds, the agent's identity, both hash spellings."""

    id: str
    identifierFromPurchaser: str
    blockchainIdentifier: str
    payByTime: int
    submitResultTime: int
    unlockTime: int
    externalDisputeUnlockTime: int
    agentIdentifier: str
    sellerVKey: str
    inputHash: str

    @classmethod
    def of(cls, view: JobView, settings: Settings) -> StartJobResponse:
        """Deadlines from the job's start and settings, so a repeated Idempotency-Key gets
        the same numbers (README "Selling through Masumi")."""
        submit_result = view.created_at + settings.masumi_submit_result_after
        unlock = submit_result + settings.masumi_unlock_after
        return cls(
            **view.model_dump(),
            id=view.job_id,
            identifierFromPurchaser=view.identifier_from_purchaser,
            blockchainIdentifier=view.blockchain_identifier,
            payByTime=_unix(view.pay_by_time),
            submitResultTime=_unix(submit_result),
            unlockTime=_unix(unlock),
            externalDisputeUnlockTime=_unix(unlock + settings.masumi_dispute_unlock_after),
            agentIdentifier=settings.masumi_agent_identifier,
            sellerVKey=settings.masumi_seller_vkey,
            inputHash=view.input_hash,
        )


class DemoResponse(BaseModel):
    """MIP-003 ``GET /demo``: an example input and the result a job gives for it."""

    input: dict[str, Any]
    output: dict[str, str]


class CreateBatchRequest(BaseModel):
    """``POST /batches``: every entry is validated like ``POST /start_job``."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"jobs": [EXAMPLE_START_JOB]}]}
    )

    jobs: list[StartJobRequest] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class BatchProvideInputRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: str = Field(min_length=1, max_length=255)
    data: SignedData = Field(
        description="The signed payment confirmation (a JSON object, at most "
        f"{MAX_JSON_DEPTH} levels deep)."
    )
    signature: str = Field(
        min_length=1,
        max_length=4096,
        description="As for a job, over `batch_id + '.' + JCS(data)`.",
    )


class BatchCreated(BaseModel):
    batch_id: str
    job_ids: list[str]
