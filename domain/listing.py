"""The product listing a job publishes, with every validation rule from the contract."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

SKU_PATTERN = r"^[A-Za-z0-9]{1,50}$"
_AMOUNT_RE = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?", re.ASCII)
"""ASCII digits only, the whole value: "45.00\n", Arabic-Indic or fullwidth digits are 422."""
MAX_IMAGE_URL_LENGTH = 2048


class Condition(StrEnum):
    NEW = "new"
    LIKE_NEW = "like_new"
    GOOD = "good"
    FAIR = "fair"


def _check_amount(value: str) -> str:
    if not _AMOUNT_RE.fullmatch(value):
        raise ValueError("must be a decimal string such as '45.00' with at most 2 decimals")
    try:
        amount = Decimal(value)
    except InvalidOperation as err:  # pragma: no cover - the pattern already excludes this
        raise ValueError("must be a decimal string") from err
    if amount <= 0:
        raise ValueError("must be greater than 0")
    return value


def _check_https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an absolute https URL")
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain whitespace")
    return value


Amount = Annotated[str, StringConstraints(max_length=14), AfterValidator(_check_amount)]
HttpsUrl = Annotated[
    str,
    StringConstraints(min_length=9, max_length=MAX_IMAGE_URL_LENGTH),
    AfterValidator(_check_https_url),
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Amount = Field(
        description="Decimal string > 0 with at most 2 decimals.", examples=["45.00"]
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(
        description="ISO 4217 code, 3 upper-case letters.", examples=["EUR"]
    )

    @property
    def decimal_amount(self) -> Decimal:
        return Decimal(self.amount)


class Listing(BaseModel):
    """One product listing, as a shop submits it (``input_data`` of ``POST /start_job``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Annotated[str, StringConstraints(pattern=SKU_PATTERN)] = Field(
        description="Seller SKU, 1-50 letters and digits.", examples=["SKU12345"]
    )
    title: Annotated[str, StringConstraints(min_length=1, max_length=80)] = Field(
        examples=["Vintage denim jacket"]
    )
    description: Annotated[str, StringConstraints(min_length=1, max_length=5000)] = Field(
        examples=["Levi's trucker jacket, size M, light wash."]
    )
    price: Price
    quantity: int = Field(ge=1, le=999, strict=True, examples=[1])
    condition: Condition = Field(examples=["good"])
    images: list[HttpsUrl] = Field(
        min_length=1, max_length=10, examples=[["https://example.com/a.jpg"]]
    )
    brand: ShortText | None = None
    size: ShortText | None = None
    category: ShortText | None = None
