"""Simulated Etsy OAuth: access tokens expire, refresh tokens rotate (the old one is spent)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from config.settings import Settings
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOKEN = "/etsy/v3/public/oauth/token"


def _listings(settings: Settings) -> str:
    return f"/etsy/v3/application/shops/{settings.etsy_shop_id}/listings"


def _headers(settings: Settings, bearer: str) -> dict[str, str]:
    return {
        "x-api-key": settings.etsy_api_key.get_secret_value(),
        "Authorization": f"Bearer {bearer}",
    }


async def _refresh(http: httpx.AsyncClient, settings: Settings, refresh: str) -> httpx.Response:
    return await http.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": settings.etsy_api_key.get_secret_value().partition(":")[0],
            "refresh_token": refresh,
        },
    )


async def test_a_refresh_rotates_the_refresh_token_and_spends_the_old_one(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Issue 12 fault 8: POST /v3/public/oauth/token, grant_type=refresh_token (Etsy's
    "Authentication" page): a new pair, ``<user_id>.``-prefixed, expires_in 3600; the refresh
    token sent is spent."""
    assert settings.etsy_refresh_token is not None
    seed = settings.etsy_refresh_token.get_secret_value()
    first = await _refresh(http, settings, seed)
    assert first.status_code == 200, first.text
    body: dict[str, Any] = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    user_id = seed.partition(".")[0]
    assert body["access_token"].startswith(f"{user_id}.")
    assert body["refresh_token"].startswith(f"{user_id}.") and body["refresh_token"] != seed

    spent = await _refresh(http, settings, seed)
    assert spent.status_code == 400
    assert spent.json()["error"] == "invalid_grant"

    second = await _refresh(http, settings, body["refresh_token"])
    assert second.status_code == 200
    listed = await http.get(
        _listings(settings), headers=_headers(settings, second.json()["access_token"])
    )
    assert listed.status_code == 200


async def test_access_tokens_expire(
    http: httpx.AsyncClient, settings: Settings, sim: SimulatorControl
) -> None:
    """Etsy access tokens last an hour: after /__sim/etsy/expire_tokens (an hour later) the
    configured one and every one minted so far get 401; a new one works."""
    configured = settings.etsy_access_token.get_secret_value()
    assert settings.etsy_refresh_token is not None
    minted = (await _refresh(http, settings, settings.etsy_refresh_token.get_secret_value())).json()
    for bearer in (configured, minted["access_token"]):
        assert (
            await http.get(_listings(settings), headers=_headers(settings, bearer))
        ).status_code == 200

    assert (await http.post("/__sim/etsy/expire_tokens")).status_code == 200
    for bearer in (configured, minted["access_token"]):
        expired = await http.get(_listings(settings), headers=_headers(settings, bearer))
        assert expired.status_code == 401
        assert expired.json() == {"error": "invalid_token"}
    renewed = (await _refresh(http, settings, minted["refresh_token"])).json()
    ok = await http.get(_listings(settings), headers=_headers(settings, renewed["access_token"]))
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"client_id": "another-app"}, "invalid_client"),
        ({"refresh_token": "12345678.made-up"}, "invalid_grant"),
    ],
)
async def test_refresh_errors_are_oauth_errors(
    http: httpx.AsyncClient,
    settings: Settings,
    sim: SimulatorControl,
    change: dict[str, str],
    error: str,
) -> None:
    assert settings.etsy_refresh_token is not None
    form = {
        "grant_type": "refresh_token",
        "client_id": settings.etsy_api_key.get_secret_value().partition(":")[0],
        "refresh_token": settings.etsy_refresh_token.get_secret_value(),
    } | change
    response = await http.post(TOKEN, data=form)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert "error_description" in response.json()
