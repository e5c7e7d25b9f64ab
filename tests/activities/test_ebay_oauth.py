"""eBay OAuth done properly (real_api_fidelity.md #9): eBay's own token endpoints unless
configured, the simulator's only under `make run`, and user tokens renewed before they expire
(expires_in 7200 s), while a 401 errorId 1001 still renews once."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.ebay import EbayActivities
from config.settings import ConfigurationError, Settings, load_settings
from domain.marketplaces import Marketplace
from stack.marketplace_defaults import with_marketplace_defaults
from tests.activities.ebay_support import Clock
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

EBAY = Marketplace.EBAY
PRODUCTION = "https://api.ebay.com/identity/v1/oauth2/token"
SANDBOX = "https://api.sandbox.ebay.com/identity/v1/oauth2/token"


async def test_the_token_endpoint_is_ebays_own_unless_configured() -> None:
    """No simulator fallback: a deployment that forgets EBAY_OAUTH_URL must not send its
    refresh token to a local address."""
    assert load_settings(ebay_oauth_url=None).ebay_token_url() == PRODUCTION
    sandbox = load_settings(ebay_oauth_url=None, ebay_environment="sandbox")
    assert sandbox.ebay_token_url() == SANDBOX
    explicit = load_settings(ebay_oauth_url="https://oauth.example/token")
    assert explicit.ebay_token_url() == "https://oauth.example/token"


async def test_an_explicit_ebay_api_and_its_token_endpoint_agree_on_the_simulator() -> None:
    """docker-compose.yml's simulator profile names the simulator's token endpoint; a
    deployment that sets a real EBAY_BASE_URL and keeps it, or points EBAY_BASE_URL at the
    simulator with eBay's own token endpoint, stops at start instead of going half real."""
    sim = "http://127.0.0.1:8081"
    simulated = load_settings(
        ebay_base_url=f"{sim}/ebay/sell/inventory/v1",
        ebay_oauth_url=f"{sim}/ebay/identity/v1/oauth2/token",
    )
    assert simulated.ebay_token_url().startswith(sim)
    real = "https://api.ebay.com/sell/inventory/v1"
    assert load_settings(ebay_base_url=real, ebay_oauth_url="").ebay_token_url() == PRODUCTION
    with pytest.raises(ConfigurationError, match="EBAY_OAUTH_URL is the simulator's"):
        load_settings(ebay_base_url=real, ebay_oauth_url=f"{sim}/ebay/identity/v1/oauth2/token")
    with pytest.raises(ConfigurationError, match="EBAY_BASE_URL is the simulator's"):
        load_settings(ebay_base_url=f"{sim}/ebay/sell/inventory/v1", ebay_oauth_url=None)


async def test_make_run_names_the_simulators_token_endpoint() -> None:
    env = with_marketplace_defaults({"EBAY_OAUTH_URL": ""}, "http://127.0.0.1:8081")
    assert env["EBAY_OAUTH_URL"] == "http://127.0.0.1:8081/ebay/identity/v1/oauth2/token"
    mine = with_marketplace_defaults({"EBAY_OAUTH_URL": SANDBOX}, "http://127.0.0.1:8081")
    assert mine["EBAY_OAUTH_URL"] == SANDBOX, "the environment wins"


async def test_a_minted_token_is_renewed_before_it_expires(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Fault #9: with no token configured the worker mints one (expires_in 7200); it renews
    it 5 minutes before it would expire, so eBay never has to refuse it."""
    clock = Clock()
    fresh = settings.model_copy(update={"ebay_token": SecretStr("")})
    activities = EbayActivities(fresh, ebay_http, clock=clock)
    publish = Attempts(activities.publish_to_ebay, EBAY)
    await publish.run(publish_request(EBAY))
    assert len(await sim.calls("ebay", "refresh_token")) == 1, "minted on first use"

    clock.now += 7200 - 301
    await publish.run(publish_request(EBAY))
    assert len(await sim.calls("ebay", "refresh_token")) == 1, "still fresh"
    clock.now += 2
    await publish.run(publish_request(EBAY))
    assert len(await sim.calls("ebay", "refresh_token")) == 2, "renewed before expiry"
    assert [c for c in await sim.calls("ebay") if c["status"] == 401] == []


async def test_tokens_are_never_in_the_error_of_a_failed_refresh(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """A wrong client secret: invalid_client (401) from the token endpoint, an auth error
    that names neither secret."""
    wrong = settings.model_copy(
        update={"ebay_token": SecretStr(""), "ebay_client_secret": SecretStr("not-the-secret-7")}
    )
    with pytest.raises(ApplicationError) as failure:
        await Attempts(EbayActivities(wrong, ebay_http).publish_to_ebay, EBAY).run(
            publish_request(EBAY)
        )
    message = str(failure.value)
    assert "not-the-secret-7" not in message and "sim-ebay-refresh-token" not in message
    assert failure.value.type == "MarketplaceAuthError" and failure.value.non_retryable


async def test_without_any_token_the_marketplace_fails_naming_the_setting(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    nothing = settings.model_copy(update={"ebay_token": SecretStr(""), "ebay_refresh_token": None})
    with pytest.raises(ApplicationError) as failure:
        await Attempts(EbayActivities(nothing, ebay_http).publish_to_ebay, EBAY).run(
            publish_request(EBAY)
        )
    assert failure.value.type == "MarketplaceAuthError" and failure.value.non_retryable
    assert "EBAY_REFRESH_TOKEN" in failure.value.message
    assert await sim.calls("ebay") == []
