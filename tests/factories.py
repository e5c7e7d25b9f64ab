"""Builders for realistic test inputs: listings, job inputs and start-job bodies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.callbacks import CallbackPolicy
from domain.canonical import input_hash
from domain.job import JobInput
from domain.listing import Listing
from domain.marketplaces import ALL_MARKETPLACES, Marketplace
from domain.sales import OrderLine


def unique_sku() -> str:
    return "SKU" + uuid.uuid4().hex[:12].upper()


def listing_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": unique_sku(),
        "title": "Vintage denim jacket",
        "description": "Levi's trucker jacket, size M, light wash.",
        "price": {"amount": "45.00", "currency": "EUR"},
        "quantity": 1,
        "condition": "good",
        "images": ["https://example.com/a.jpg"],
    }
    body.update(overrides)
    return body


def start_job_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "input_data": listing_body(),
        "identifier_from_purchaser": "order-" + uuid.uuid4().hex[:8],
        "marketplaces": ["ebay", "etsy", "vinted"],
    }
    body.update(overrides)
    return body


def job_input(
    *,
    now: datetime | None = None,
    marketplaces: list[Marketplace] | None = None,
    payment_timeout: timedelta = timedelta(hours=12),
    max_retries: int = 3,
    retry_window: timedelta = timedelta(days=7),
    callback: CallbackPolicy | None = None,
) -> JobInput:
    now = now or datetime.now(UTC)
    listing = Listing.model_validate(listing_body())
    identifier = "order-" + uuid.uuid4().hex[:8]
    return JobInput(
        job_id=str(uuid.uuid4()),
        listing=listing,
        marketplaces=list(marketplaces or ALL_MARKETPLACES),
        identifier_from_purchaser=identifier,
        input_hash=input_hash(identifier, listing.model_dump(mode="json", exclude_none=True)),
        blockchain_identifier="pay_" + uuid.uuid4().hex,
        created_at=now,
        pay_by_time=now + payment_timeout,
        max_retries=max_retries,
        retry_window=retry_window,
        callback=callback,
    )


def order_line(
    sku: str,
    marketplace: Marketplace,
    order: str,
    quantity: int = 1,
    sold_at: datetime | None = None,
) -> OrderLine:
    """One sale as an orders reader reports it (line id ``<order>-1``); ``sold_at`` now unless
    given (recorded histories pass a fixed time)."""
    return OrderLine(
        marketplace=marketplace,
        order_id=order,
        line_id=f"{order}-1",
        sku=sku,
        quantity=quantity,
        sold_at=sold_at or datetime.now(UTC),
    )
