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


class WhoMade(StrEnum):
    """Who made the item: Etsy's ``who_made`` (Etsy Open API v3, OAS 2025-02, ShopListing)."""

    I_DID = "i_did"
    SOMEONE_ELSE = "someone_else"
    COLLECTIVE = "collective"


class WhenMade(StrEnum):
    """When it was made: Etsy's ``when_made`` buckets (Etsy Open API v3, OAS 2025-02,
    ShopListing). ``made_to_order`` and 2006 onwards are "recent"; ``before_2006`` and the
    decades before it are vintage (20 years or older)."""

    MADE_TO_ORDER = "made_to_order"
    Y2020_2025 = "2020_2025"
    Y2010_2019 = "2010_2019"
    Y2006_2009 = "2006_2009"
    BEFORE_2006 = "before_2006"
    Y2000_2005 = "2000_2005"
    Y1990S = "1990s"
    Y1980S = "1980s"
    Y1970S = "1970s"
    Y1960S = "1960s"
    Y1950S = "1950s"
    Y1940S = "1940s"
    Y1930S = "1930s"
    Y1920S = "1920s"
    Y1910S = "1910s"
    Y1900S = "1900s"
    Y1800S = "1800s"
    Y1700S = "1700s"
    BEFORE_1700 = "before_1700"


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
    currency: Annotated[
        str, StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")
    ] = Field(description="ISO 4217 code, 3 upper-case letters.", examples=["EUR"])

    @property
    def decimal_amount(self) -> Decimal:
        return Decimal(self.amount)


class Listing(BaseModel):
    """One product listing, as a shop submits it (``input_data`` of ``POST /start_job``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=SKU_PATTERN)] = (
        Field(description="Seller SKU, 1-50 letters and digits.", examples=["SKU12345"])
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
    # Provenance, as Etsy asks for it (and the other marketplaces ignore). Absent: the shop's
    # defaults (ETSY_WHO_MADE, ETSY_WHEN_MADE, ETSY_IS_SUPPLY), which fit resale.
    who_made: WhoMade | None = Field(
        default=None, description="Who made the item: i_did, someone_else or collective."
    )
    when_made: WhenMade | None = Field(
        default=None,
        description="When it was made: made_to_order, a recent range (2020_2025, 2010_2019, "
        "2006_2009) or a vintage one (before_2006, 2000_2005, 1990s ... before_1700).",
    )
    is_supply: bool | None = Field(
        default=None, strict=True, description="A craft supply or tool rather than a finished item."
    )
