"""How every publish activity reports marketplace failures to Temporal (retryable or not)."""

from __future__ import annotations

import socket
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.registry import marketplace_activities
from config.settings import Settings, load_settings
from domain.marketplaces import Marketplace
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

MARKETPLACES = list(Marketplace)
FIRST_OPERATION = {
    Marketplace.EBAY: "get_item_condition_policies",
    Marketplace.ETSY: "create_draft",
    Marketplace.VINTED: "get_ontologies",
}
"""A first attempt's first call: the category rules (eBay), the draft (Etsy), the ontology
(Vinted); no lookup by SKU or reference (that is a retry's)."""
MARKETPLACE_TEXT = {
    Marketplace.EBAY: "25001",
    Marketplace.ETSY: "Server Error",
    Marketplace.VINTED: "internal_error",
}


async def _fail(
    settings: Settings, http: httpx.AsyncClient, marketplace: Marketplace
) -> ApplicationError:
    publish = marketplace_activities(settings, http)[marketplace][0]
    with pytest.raises(ApplicationError) as failure:
        await Attempts(publish, marketplace).run(publish_request(marketplace))
    return failure.value


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.ebay_token,
        settings.ebay_client_secret,
        settings.etsy_api_key,
        settings.etsy_access_token,
        settings.vinted_access_key,
        settings.vinted_signing_key,
    ]
    found = [v.get_secret_value() for v in values]
    found += [part for v in found for part in v.replace(":", ".").split(".") if len(part) > 6]
    return found


def _assert_no_secrets(error: ApplicationError, settings: Settings) -> None:
    text = f"{error.message} {error.details!r}"
    for secret in _secrets(settings):
        assert secret not in text


@pytest.mark.parametrize("marketplace", MARKETPLACES)
async def test_server_error_is_retryable_with_marketplace_text(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl, marketplace: Marketplace
) -> None:
    await sim.add_fault(marketplace.value, "error", status=500)
    error = await _fail(settings, http, marketplace)
    assert error.type == "MarketplaceUnavailable"
    assert not error.non_retryable
    assert marketplace.value in error.message
    assert FIRST_OPERATION[marketplace] in error.message
    assert "HTTP 500" in error.message
    assert MARKETPLACE_TEXT[marketplace] in error.message
    assert error.details == (
        {
            "marketplace": marketplace.value,
            "operation": FIRST_OPERATION[marketplace],
            "status": 500,
            "attempt": 1,
        },
    )
    _assert_no_secrets(error, settings)


@pytest.mark.parametrize("marketplace", MARKETPLACES)
async def test_rate_limit_retries_after_the_retry_after_delay(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl, marketplace: Marketplace
) -> None:
    await sim.add_fault(marketplace.value, "rate_limit", retry_after=7)
    error = await _fail(settings, http, marketplace)
    assert error.type == "RateLimited"
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=7)
    assert "HTTP 429" in error.message


@pytest.mark.parametrize("marketplace", MARKETPLACES)
async def test_validation_error_is_not_retryable(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl, marketplace: Marketplace
) -> None:
    await sim.add_fault(marketplace.value, "validation")
    error = await _fail(settings, http, marketplace)
    assert error.type == "MarketplaceValidationError"
    assert error.non_retryable
    assert "HTTP 400" in error.message


@pytest.mark.parametrize("marketplace", MARKETPLACES)
async def test_auth_fault_is_not_retryable_and_leaks_no_credentials(
    settings: Settings, http: httpx.AsyncClient, sim: SimulatorControl, marketplace: Marketplace
) -> None:
    await sim.add_fault(marketplace.value, "auth")
    if marketplace is Marketplace.EBAY:
        # With a refresh token eBay refreshes once and recovers (tests/activities/
        # test_ebay_activity.py); without one a 401 fails at once.
        settings = settings.model_copy(update={"ebay_refresh_token": None})
    if marketplace is Marketplace.ETSY:
        # Likewise Etsy, through the shop's token workflow (tests/worker/test_etsy_tokens.py).
        settings = settings.model_copy(update={"etsy_refresh_token": None})
    error = await _fail(settings, http, marketplace)
    assert error.type == "MarketplaceAuthError"
    assert error.non_retryable
    assert "HTTP 401" in error.message
    _assert_no_secrets(error, settings)


@pytest.mark.parametrize(
    ("marketplace", "wrong"),
    [
        (
            Marketplace.EBAY,
            {
                "ebay_token": SecretStr("expired-ebay-token-123"),
                "ebay_client_secret": SecretStr("wrong-client-secret-789"),
            },
        ),
        (Marketplace.ETSY, {"etsy_api_key": SecretStr("keystring-without-secret")}),
        (Marketplace.ETSY, {"etsy_access_token": SecretStr("12345678.revoked-token-xyz")}),
        (Marketplace.VINTED, {"vinted_signing_key": SecretStr("rotated-signing-key-456")}),
    ],
)
async def test_wrong_credentials_are_auth_errors_without_the_credentials(
    settings: Settings,
    http: httpx.AsyncClient,
    sim: SimulatorControl,
    marketplace: Marketplace,
    wrong: dict[str, SecretStr],
) -> None:
    wrong_settings = settings.model_copy(update=wrong)
    error = await _fail(wrong_settings, http, marketplace)
    assert error.type == "MarketplaceAuthError"
    assert error.non_retryable
    _assert_no_secrets(error, wrong_settings)
    assert await sim.listings() == {"ebay": [], "etsy": [], "vinted": []}


@pytest.mark.parametrize("marketplace", MARKETPLACES)
async def test_timeout_is_retryable(
    settings: Settings, sim: SimulatorControl, marketplace: Marketplace
) -> None:
    await sim.add_fault(marketplace.value, "timeout")
    async with httpx.AsyncClient(timeout=0.3) as short_timeout:
        error = await _fail(settings, short_timeout, marketplace)
    assert error.type == "MarketplaceUnavailable"
    assert not error.non_retryable
    assert "timed out" in error.message
    assert error.details[0]["status"] is None


@pytest.mark.parametrize("marketplace", MARKETPLACES)
async def test_connection_refused_is_retryable(
    http: httpx.AsyncClient, simulator_url: str, marketplace: Marketplace
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    # The marketplace is unreachable, the listing's images are not (Etsy fetches them first).
    nowhere = load_settings(
        simulator_url=f"http://127.0.0.1:{closed_port}",
        image_fetch_override_url=f"{simulator_url}/images",
    )
    error = await _fail(nowhere, http, marketplace)
    assert error.type == "MarketplaceUnavailable"
    assert not error.non_retryable
    assert "connection failed" in error.message
