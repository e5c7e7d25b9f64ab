"""POST /start_job and POST /batches refuse, before anyone pays, what a chosen marketplace
would refuse: 422 naming the marketplace and the field (real_api_fidelity.md #11, #12)."""

from __future__ import annotations

import httpx

from tests.api.helpers import assert_problem
from tests.factories import listing_body, start_job_body


async def test_a_description_ebay_refuses_is_422_naming_ebay_and_the_field(
    api: httpx.AsyncClient,
) -> None:
    """Fault #11: 4001 characters are within the contract's 5000 but over eBay's 4000."""
    body = start_job_body(input_data=listing_body(description="x" * 4001))
    problem = assert_problem(await api.post("/start_job", json=body), 422)
    assert "input_data.description" in problem["detail"]
    assert "ebay (EBAY_DE)" in problem["detail"] and "4000" in problem["detail"]
    [error] = problem["errors"]
    assert error["loc"] == "input_data.description"
    assert error["type"] == "marketplace_limit"


async def test_without_ebay_the_long_description_is_accepted(api: httpx.AsyncClient) -> None:
    body = start_job_body(
        input_data=listing_body(description="x" * 4001), marketplaces=["etsy", "vinted"]
    )
    assert (await api.post("/start_job", json=body)).status_code == 201


async def test_a_foreign_currency_is_422_for_ebay_and_etsy(api: httpx.AsyncClient) -> None:
    """Fault #12: EBAY_DE prices in EUR and the Etsy shop in ETSY_SHOP_CURRENCY (EUR)."""
    body = start_job_body(input_data=listing_body(price={"amount": "45.00", "currency": "USD"}))
    problem = assert_problem(await api.post("/start_job", json=body), 422)
    assert [e["loc"] for e in problem["errors"]] == ["input_data.price.currency"] * 2
    assert "ebay (EBAY_DE) prices in EUR, not USD" in problem["detail"]
    assert "etsy prices in the shop's currency EUR" in problem["detail"]
    vinted_only = {**body, "marketplaces": ["vinted"]}
    assert (await api.post("/start_job", json=vinted_only)).status_code == 201


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
