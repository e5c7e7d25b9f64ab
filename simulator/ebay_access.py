"""Who may call the simulated eBay APIs, and how often: user tokens that expire, scopes, and
the request limit. Every eBay API route admits a request here first (its surface's
authenticate step, ``simulator.pipeline``).

- Tokens: the configured ``EBAY_TOKEN`` and every token the OAuth route mints live
  ``SIMULATOR_EBAY_TOKEN_LIFETIME`` seconds (7200 by default, eBay's ``expires_in`` for user
  tokens); then the answer is 401 errorId 1001, as eBay's.
- Scopes: a call needs one of the scopes its OAS ``security`` lists; a token without any of
  them gets 403 errorId 1100.
- Rate: eBay publishes daily call quotas, not per-second ones ("the limits on the total calls
  and the rate at which the calls can be made depend on the API",
  developer.ebay.com/develop/api/sell/api_call_limits). The simulator turns the Inventory API's
  2,000,000 calls a day (marketplaces.md) into a token bucket refilled at 2,000,000 / 86,400 =
  23 requests per second (``SIMULATOR_EBAY_REQUESTS_PER_SECOND``) holding at most 100
  (``SIMULATOR_EBAY_REQUEST_BURST``; our choice: a worker's own limiter lets a second's worth
  of activities start at once, each making up to 6 calls). Over it: 429 with the body copied
  from a live eBay answer (errorId 2001) and no ``Retry-After``, which eBay's 429s do not
  reliably carry (real_api_fidelity.md).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request, Response

from config.settings import Settings
from simulator.errors import ebay_error

API_SCOPE = "https://api.ebay.com/oauth/api_scope"
SELL_INVENTORY = "https://api.ebay.com/oauth/api_scope/sell.inventory"
SELL_FULFILLMENT = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
SELL_FULFILLMENT_READONLY = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly"
CONSENTED_SCOPES = frozenset({API_SCOPE, SELL_INVENTORY, SELL_FULFILLMENT})
"""What the simulated seller consented to: the scopes of the configured token, and the most a
refreshed token can ask for."""

INVENTORY_SCOPES = (SELL_INVENTORY,)
METADATA_SCOPES = (API_SCOPE, SELL_INVENTORY)
TAXONOMY_SCOPES = (API_SCOPE,)
FULFILLMENT_SCOPES = (SELL_FULFILLMENT, SELL_FULFILLMENT_READONLY)
"""The OAS ``security`` scopes of each API's operations we serve."""

INVALID_TOKEN = "Invalid access token. Check the value of the Authorization HTTP request header."

Clock = Callable[[], float]


@dataclass(frozen=True)
class _Grant:
    expires_at: float
    scopes: frozenset[str]


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = float(burst)
        self.at = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class EbayAccess:
    """Tokens and the request bucket of one simulator (renewed by ``/__sim/reset``)."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.lifetime = settings.simulator_ebay_token_lifetime
        self.grants: dict[str, _Grant] = {}
        configured = settings.ebay_token.get_secret_value()
        if configured:
            self.grants[configured] = _Grant(clock() + self.lifetime, CONSENTED_SCOPES)
        self.bucket = TokenBucket(
            settings.simulator_ebay_requests_per_second,
            settings.simulator_ebay_request_burst,
            clock,
        )
        self._minted = 0

    def issue(self, scopes: frozenset[str]) -> str:
        self._minted += 1
        token = f"sim-ebay-access-{self._minted}"
        self.grants[token] = _Grant(self.clock() + self.lifetime, scopes)
        return token

    def expire_all(self) -> int:
        """Every token issued so far stops working (401 errorId 1001), as when they expire."""
        expired = len(self.grants)
        self.grants.clear()
        return expired

    def admit(self, request: Request, scopes: tuple[str, ...]) -> Response | None:
        """None when the call may proceed, else eBay's refusal (401, 403 or 429)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        grant = None
        # Compare against every token, without an early exit.
        for value, candidate in self.grants.items():
            if hmac.compare_digest(token.encode(), value.encode()):
                grant = candidate
        if scheme != "Bearer" or grant is None or self.clock() >= grant.expires_at:
            return ebay_error(401, 1001, INVALID_TOKEN, domain="OAuth")
        if not grant.scopes.intersection(scopes):
            return ebay_error(
                403,
                1100,
                "Access denied",
                domain="ACCESS",
                long_message="Insufficient permissions to fulfill the request.",
            )
        if not self.bucket.take():
            return ebay_error(
                429,
                2001,
                "Too many requests.",
                domain="ACCESS",
                long_message="The request limit has been reached for the resource.",
            )
        return None
