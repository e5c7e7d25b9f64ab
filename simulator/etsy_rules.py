"""What the simulated Etsy refuses, with the error bodies Etsy itself sends.

Sources, cited per rule: the Etsy Open API v3 document (``etsy_openapi_v3_2025-02.json``,
"OAS" below) and Etsy staff or reporters in github.com/etsy/open-api issues (``#n``). Where
Etsy's wording is not public, the text says so and the simulator keeps its own.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse

from domain.listing import WhenMade, WhoMade
from simulator.errors import etsy_error
from simulator.state import SimState

SPEC_REQUIRED_DRAFT_FIELDS = (
    "quantity",
    "title",
    "description",
    "price",
    "who_made",
    "when_made",
    "taxonomy_id",
)
"""createDraftListing's ``required`` list (OAS)."""

WHO_MADE = frozenset(w.value for w in WhoMade)
WHEN_MADE = frozenset(w.value for w in WhenMade)
"""The OAS 2025-02 enums (``tests/simulator/test_sim_etsy.py`` checks them against it)."""

RECENT = frozenset({"made_to_order", "2020_2025", "2010_2019", "2006_2009"})
"""``when_made`` values that are not vintage (Etsy: vintage is 20 years or older)."""

PROVENANCE = ("who_made", "when_made", "is_supply")
MAX_IMAGES = 10
LIMIT_PER_DAY = 10_000
PRICE_RANGE = (Decimal("0.20"), Decimal("50000"))

IMAGES_MISSING: list[dict[str, str]] = [
    {"path": "/images", "type": "array_too_short", "message": "cannot be less than 1 items"}
]
"""Etsy's listing validator when a listing would have no image: an array, not its documented
``ErrorSchema`` (#472, #511). #511: Etsy staff explain that createDraftListing answers it when
``who_made``/``when_made`` are sent without ``is_supply``; the OAS says activation "requires
that the listing have an image set", and the simulator answers the same body there."""

NO_IMAGE_FILE = "Either a valid image file or a listing_image_id must be provided."
"""uploadListingImage without a multipart ``image`` file (#180, #233)."""

TOO_MANY_IMAGES = (
    "Listings are only allowed 10 images. Please delete a ListingImage before trying to "
    "upload another."
)
"""The eleventh image (#606)."""

LAST_IMAGE = "An active listing must have at least one image."
"""deleteListingImage of an active listing's only image (our wording: Etsy's is not public)."""

CANNOT_SELL = "There was a problem with /marketplace : Oh dear, you cannot sell this item on Etsy."
"""An item made by someone else that is neither vintage nor a supply (#365, #118, #539)."""

PROVENANCE_BUNDLE = (
    "Cannot update 'when_made' without 'who_made' and  without 'is_supply' and vice versa"
)
"""updateListing with only some of who_made/when_made/is_supply (#280, wording as quoted)."""

PER_SECOND_EXCEEDED = "Exceeded per second rate limit"
"""The 429 body when the API key's per-second limit is used up (#198)."""


def _bool(value: str | None) -> bool | None:
    return {"true": True, "1": True, "false": False, "0": False}.get((value or "").lower())


def provenance_problem(fields: dict[str, str], *, partners: bool) -> Response | None:
    """who_made/when_made/is_supply: valid values, and only what Etsy's marketplace allows."""
    if fields["who_made"] not in WHO_MADE:
        return etsy_error(400, f"who_made must be one of {', '.join(sorted(WHO_MADE))}")
    if fields["when_made"] not in WHEN_MADE:
        return etsy_error(400, "when_made is not a valid value")
    supply = _bool(fields.get("is_supply"))
    if supply is None:
        return etsy_error(400, "Expected parameter 'is_supply' to be a boolean")
    if (
        fields["who_made"] == "someone_else"
        and fields["when_made"] in RECENT
        and not supply
        and not partners
    ):
        return etsy_error(400, CANNOT_SELL)
    return None


def draft_problem(fields: dict[str, str]) -> Response | None:
    """createDraftListing's checks, in the order Etsy reports them."""
    missing = [name for name in SPEC_REQUIRED_DRAFT_FIELDS if not fields.get(name)]
    if missing:
        return etsy_error(400, f"Missing required parameter(s): {', '.join(missing)}")
    if "is_supply" not in fields:
        return JSONResponse(IMAGES_MISSING, status_code=400)
    for name in ("quantity", "taxonomy_id", "shipping_profile_id", "return_policy_id"):
        value = fields.get(name)
        if value is not None and (not value.isdigit() or int(value) <= 0):
            return etsy_error(400, f"Expected parameter '{name}' to be a positive integer")
    if fields.get("type", "physical") == "physical" and not fields.get("shipping_profile_id"):
        # Wording from anitabyte/etsyv3#13 (a client of the real API).
        return etsy_error(400, "A shipping_profile_id is required for physical listings.")
    if problem := price_problem(fields["price"]):
        return problem
    return provenance_problem(fields, partners=bool(fields.get("production_partner_ids")))


def update_problem(fields: dict[str, str], current: dict[str, Any]) -> Response | None:
    """updateListing's provenance rule: all three together or none (#280)."""
    sent = [name for name in PROVENANCE if name in fields]
    if not sent:
        return None
    if len(sent) != len(PROVENANCE):
        return etsy_error(400, PROVENANCE_BUNDLE)
    partners = bool(fields.get("production_partner_ids") or current.get("production_partner_ids"))
    return provenance_problem(fields, partners=partners)


def price_problem(raw: Any) -> Response | None:
    try:
        price = Decimal(str(raw))
    except InvalidOperation:
        return etsy_error(400, "Expected parameter 'price' to be a float")
    low, high = PRICE_RANGE
    if not price.is_finite() or price < low or price > high:
        return etsy_error(400, "Price must be between 0.20 and 50000.00")
    return None


def money(amount: Any, currency: str) -> dict[str, Any]:
    """Etsy's ``Money``: an integer amount over a divisor (OAS ``components.schemas.Money``)."""
    cents = int((Decimal(str(amount)) * 100).to_integral_value())
    return {"amount": cents, "divisor": 100, "currency_code": currency}


def is_image(data: bytes) -> bool:
    """JPEG, PNG or GIF by their leading bytes (what Etsy takes as a listing image)."""
    return data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a"))


def count_request(sim: SimState) -> int:
    """Count one request against the API key; return how many it made this second."""
    second = int(time.time())
    at, used = sim.etsy_second
    used = used + 1 if at == second else 1
    sim.etsy_second = (second, used)
    sim.etsy_calls_today += 1
    return used


def per_second_exceeded(limit: int) -> Response:
    """429 once the API key's requests this second pass ``limit``. Headers as Etsy sent them
    in #198 (x-limit-per-second, x-remaining-this-second: 0); ``retry-after`` in seconds as
    on Etsy's daily-quota 429 (#256) and the rate-limits page's header list."""
    return etsy_error(
        429,
        PER_SECOND_EXCEEDED,
        headers={
            "x-limit-per-second": str(limit),
            "x-remaining-this-second": "0",
            "retry-after": "1",
        },
    )


def quota_headers(response: Response, sim: SimState, limit: int) -> None:
    """Etsy's usage headers on every answer (developers.etsy.com rate-limits page); a 429 of
    the per-second limit keeps its own."""
    if "x-remaining-this-second" in response.headers:
        return
    at, used = sim.etsy_second
    used = used if at == int(time.time()) else 0
    remaining = 0 if response.status_code == 429 else max(0, limit - used)
    response.headers["x-limit-per-second"] = str(limit)
    response.headers["x-remaining-this-second"] = str(remaining)
    response.headers["x-limit-per-day"] = str(LIMIT_PER_DAY)
    response.headers["x-remaining-today"] = str(max(0, LIMIT_PER_DAY - sim.etsy_calls_today))
