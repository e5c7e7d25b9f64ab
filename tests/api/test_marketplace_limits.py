"""POST /start_job and POST /batches refuse, before anyone pays, what a chosen marketplace
would refuse: 422 naming the marketplace and the field (real_api_fidelity.md #11, #12; Vinted's
item limits: domain.marketplace_limits, with their sources)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import assert_problem
from tests.factories import listing_body, start_job_body


async def test_a_description_ebay_refuses_is_422_naming_ebay_and_the_field(
    api: httpx.AsyncClient,
) -> None:
    """Fault #11: 4001 characters are within the contract's 5000 but over eBay's 4000."""
    body = start_job_body(
        input_data=listing_body(description="x" * 4001), marketplaces=["ebay", "etsy"]
    )
    problem = assert_problem(await api.post("/start_job", json=body), 422)
    assert "input_data.description" in problem["detail"]
    assert "ebay (EBAY_DE)" in problem["detail"] and "4000" in problem["detail"]
    [error] = problem["errors"]
    assert error["loc"] == "input_data.description"
    assert error["type"] == "marketplace_limit"


async def test_without_ebay_the_long_description_is_accepted(api: httpx.AsyncClient) -> None:
    body = start_job_body(input_data=listing_body(description="x" * 4001), marketplaces=["etsy"])
    assert (await api.post("/start_job", json=body)).status_code == 201


async def test_a_foreign_currency_is_422_for_each_marketplace(api: httpx.AsyncClient) -> None:
    """Fault #12: EBAY_DE prices in EUR, the Etsy shop in ETSY_SHOP_CURRENCY (EUR), Vinted in
    EUR or GBP."""
    body = start_job_body(input_data=listing_body(price={"amount": "45.00", "currency": "USD"}))
    problem = assert_problem(await api.post("/start_job", json=body), 422)
    assert [e["loc"] for e in problem["errors"]] == ["input_data.price.currency"] * 3
    assert "ebay (EBAY_DE) prices in EUR, not USD" in problem["detail"]
    assert "etsy prices in the shop's currency EUR" in problem["detail"]
    assert "vinted prices in EUR or GBP, not USD" in problem["detail"]
    gbp_for_vinted = start_job_body(
        input_data=listing_body(price={"amount": "45.00", "currency": "GBP"}),
        marketplaces=["vinted"],
    )
    assert (await api.post("/start_job", json=gbp_for_vinted)).status_code == 201


async def test_a_batch_names_the_entry_the_marketplace_and_the_field(
    api: httpx.AsyncClient,
) -> None:
    good = start_job_body()
    bad = start_job_body(
        input_data=listing_body(price={"amount": "45.00", "currency": "GBP"}),
        marketplaces=["ebay"],
    )
    problem = assert_problem(await api.post("/batches", json={"jobs": [good, bad]}), 422)
    [error] = problem["errors"]
    assert error["loc"] == "jobs.1.input_data.price.currency"
    assert "ebay (EBAY_DE)" in error["msg"]


@pytest.mark.parametrize(
    ("listing", "field", "message"),
    [
        ({"title": "Hat"}, "title", "vinted accepts 5-100 characters (got 3)"),
        ({"description": "Mint"}, "description", "vinted accepts 5-2000 characters (got 4)"),
        ({"description": "x" * 2001}, "description", "vinted accepts 5-2000 characters (got 2001)"),
        (
            {"price": {"amount": "45.00", "currency": "PLN"}},
            "price.currency",
            "vinted prices in EUR or GBP, not PLN",
        ),
        (
            {"price": {"amount": "0.99", "currency": "EUR"}},
            "price.amount",
            "vinted accepts a price of at least 1 EUR (got 0.99)",
        ),
    ],
)
async def test_what_vinted_refuses_is_422_naming_vinted_and_the_field(
    api: httpx.AsyncClient, listing: dict[str, Any], field: str, message: str
) -> None:
    """Vinted's item limits (api.yml via anicolao/vintage; the minimum price via
    quick-vint-api): within the contract, refused by Vinted, so refused before payment."""
    body = start_job_body(input_data=listing_body(**listing), marketplaces=["vinted"])
    problem = assert_problem(await api.post("/start_job", json=body), 422)
    [error] = problem["errors"]
    assert error["loc"] == f"input_data.{field}"
    assert error["type"] == "marketplace_limit"
    assert error["msg"] == message
    assert f"input_data.{field}" in problem["detail"] and message in problem["detail"]
    without_vinted = {**body, "marketplaces": ["ebay"]}
    if field != "price.currency":
        assert (await api.post("/start_job", json=without_vinted)).status_code == 201


async def test_a_4001_character_description_names_ebay_and_vinted(api: httpx.AsyncClient) -> None:
    """Each marketplace that would refuse the field says so, in marketplace order."""
    body = start_job_body(input_data=listing_body(description="x" * 4001))
    problem = assert_problem(await api.post("/start_job", json=body), 422)
    assert [e["loc"] for e in problem["errors"]] == ["input_data.description"] * 2
    assert "ebay (EBAY_DE) accepts at most 4000" in problem["errors"][0]["msg"]
    assert "vinted accepts 5-2000" in problem["errors"][1]["msg"]
