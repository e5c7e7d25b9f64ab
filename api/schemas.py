"""Request and response bodies of the gateway (unknown fields are rejected at every level)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, field_validator

from domain.batch import MAX_BATCH_SIZE
from domain.canonical import MAX_JSON_DEPTH, json_depth
from domain.job import JobView
from domain.listing import Listing
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


class StartJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_START_JOB]})

    input_data: Listing = Field(
        validation_alias=AliasChoices("input_data", "inputs"),
        description="The listing to publish (alias `inputs`).",
    )
    identifier_from_purchaser: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The purchaser's reference; generated when absent.",
    )
    marketplaces: list[Marketplace] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="Where to publish; default all three.",
    )

    @field_validator("marketplaces")
    @classmethod
    def _unique(cls, value: list[Marketplace] | None) -> list[Marketplace] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("marketplaces must be unique")
        return value

    def marketplace_limit_errors(
        self, limits: ListingLimits, at: tuple[str | int, ...] = ()
    ) -> list[dict[str, Any]]:
        """What the chosen marketplaces (default all) would refuse of the listing, as
        validation errors located in the body (``domain.marketplace_limits``).

        Not a pydantic validator: the rules depend on settings (the eBay marketplace, the Etsy
        shop's currency), which FastAPI's body validation cannot see; the job and batch
        services call this before anything starts, and answer 422 with these errors."""
        marketplaces = self.marketplaces or ALL_MARKETPLACES
        return [
            {
                "loc": ("body", *at, "input_data", *violation.field.split(".")),
                "msg": violation.message,
                "type": "marketplace_limit",
            }
            for violation in listing_violations(self.input_data, marketplaces, limits)
        ]


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


class StartJobResponse(JobView):
    """The job view plus the MIP-003 camelCase names agent marketplaces read."""

    inputHash: str
    blockchainIdentifier: str

    @classmethod
    def of(cls, view: JobView) -> StartJobResponse:
        return cls(
            **view.model_dump(),
            inputHash=view.input_hash,
            blockchainIdentifier=view.blockchain_identifier,
        )


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
