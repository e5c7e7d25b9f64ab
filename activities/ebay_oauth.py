"""The eBay user access token of a worker: minted with the refresh_token grant, renewed before
it expires, and once more when eBay answers 401 errorId 1001 anyway.

eBay user access tokens live ``expires_in`` = 7200 s; the refresh token that mints them lives
about 18 months (developer.ebay.com/api-docs/static/oauth-refresh-token-request.html). A token
minted here is renewed ``REFRESH_MARGIN`` before it runs out, so no call is made with a token
about to die. ``EBAY_TOKEN``, a token handed over by configuration, has no known expiry: it is
used until eBay refuses it. The token lives in memory only and never in a log or an error.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from temporalio import activity

from activities.http_errors import MARKETPLACE_AUTH_ERROR, marketplace_error, send
from config.settings import Settings
from domain.marketplaces import Marketplace

MARKETPLACE = Marketplace.EBAY
REFRESH_MARGIN = 300.0
"""Seconds before expiry at which a token is renewed (at most half its lifetime)."""

Clock = Callable[[], float]


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float | None  # clock time; None: unknown expiry (a configured EBAY_TOKEN)


def _basic_auth(settings: Settings) -> str:
    credentials = f"{settings.ebay_client_id}:{settings.ebay_client_secret.get_secret_value()}"
    return "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")


class EbayUserToken:
    """One per worker, shared by every eBay activity it runs (one refresh at a time)."""

    def __init__(
        self, settings: Settings, http: httpx.AsyncClient, *, clock: Clock = time.monotonic
    ) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        configured = settings.ebay_token.get_secret_value()
        self._token = _Token(configured, None) if configured else None
        self._lock = asyncio.Lock()

    @property
    def can_refresh(self) -> bool:
        return self.settings.ebay_refresh_token is not None

    async def current(self) -> str:
        """A token that is not about to expire (minting one if there is none yet)."""
        token = self._token
        if token is not None and (token.renew_at is None or self.clock() < token.renew_at):
            return token.value
        if token is not None and not self.can_refresh:
            return token.value
        if token is None and not self.can_refresh:
            raise marketplace_error(
                MARKETPLACE,
                "user_token",
                MARKETPLACE_AUTH_ERROR,
                "no eBay user token: set EBAY_REFRESH_TOKEN (or EBAY_TOKEN)",
            )
        return await self._refresh(token.value if token else None)

    async def rejected(self, stale: str) -> bool:
        """eBay refused ``stale`` (401 errorId 1001): renew it once. False when it cannot."""
        if not self.can_refresh:
            return False
        await self._refresh(stale)
        return True

    async def _refresh(self, stale: str | None) -> str:
        async with self._lock:
            token = self._token
            if token is not None and token.value != stale:
                return token.value  # another activity renewed it meanwhile
            refresh = self.settings.ebay_refresh_token
            assert refresh is not None
            if activity.in_activity():
                activity.heartbeat({"step": "refresh_token"})
            request = self.http.build_request(
                "POST",
                self.settings.ebay_token_url(),
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh.get_secret_value(),
                    "scope": self.settings.ebay_oauth_scope,
                },
                headers={"Authorization": _basic_auth(self.settings)},
            )
            minted_at = self.clock()
            response = await send(
                self.http,
                request,
                marketplace=MARKETPLACE,
                operation="refresh_token",
                expected=(400,),
            )
            body = response.json()
            if response.status_code == 400:
                # invalid_grant: the refresh token itself is revoked; no retry can fix that.
                raise marketplace_error(
                    MARKETPLACE,
                    "refresh_token",
                    MARKETPLACE_AUTH_ERROR,
                    str(body.get("error", "invalid_grant")),
                    status=400,
                )
            lifetime = float(body.get("expires_in") or 0)
            renew_at = (
                minted_at + lifetime - min(REFRESH_MARGIN, lifetime / 2) if lifetime else None
            )
            self._token = _Token(str(body["access_token"]), renew_at)
            activity.logger.info("ebay user token refreshed (expires in %.0f s)", lifetime)
            return self._token.value
