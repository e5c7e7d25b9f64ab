"""Simulated Etsy OAuth 2.0: access tokens that expire, refresh tokens that rotate.

As Etsy documents it (developers.etsy.com, "Authentication"): ``POST /v3/public/oauth/token``
(form-urlencoded) with ``grant_type=refresh_token``, ``client_id`` (the app's keystring) and
``refresh_token`` answers ``{access_token, token_type: "Bearer", expires_in: 3600,
refresh_token}``; both tokens are prefixed with the user's numeric id. Etsy rotates the refresh
token on every use: the one sent is spent (a second use is ``invalid_grant``).

Tokens the simulator mints carry their expiry and an HMAC under a key derived from the Etsy
shared secret, so a restarted simulator still knows them. The configured pair
(``ETSY_ACCESS_TOKEN``, ``ETSY_REFRESH_TOKEN``) counts as minted when the simulator started (or
was reset). What a restart forgets is which refresh tokens were spent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from simulator.pipeline import sim_state
from simulator.state import SimState

PATH = "/etsy/v3/public/oauth/token"
ACCESS_SECONDS = 3600
REFRESH_SECONDS = 90 * 24 * 3600
"""Refresh tokens last 90 days (developers.etsy.com, "Authentication")."""

Kind = Literal["at", "rt"]
router = APIRouter()


def _key(sim: SimState) -> bytes:
    secret = sim.settings.etsy_api_key.get_secret_value().encode()
    return hashlib.sha256(b"simulated etsy tokens\x00" + secret).digest()


def _mac(sim: SimState, body: str) -> str:
    return hmac.new(_key(sim), body.encode(), hashlib.sha256).hexdigest()[:24]


def mint(sim: SimState, kind: Kind, user_id: str, lifetime: int) -> str:
    expires_ms = int((time.time() + lifetime) * 1000)
    body = f"sim{kind}-{expires_ms}-{secrets.token_urlsafe(12)}"
    return f"{user_id}.{body}-{_mac(sim, body)}"


def _expiry(sim: SimState, token: str, kind: Kind) -> float | None:
    """When (Unix seconds) a token minted here, or configured, expires; None if not ours."""
    settings = sim.settings
    configured = settings.etsy_access_token if kind == "at" else settings.etsy_refresh_token
    if configured is not None and hmac.compare_digest(
        token.encode(), configured.get_secret_value().encode()
    ):
        lifetime = ACCESS_SECONDS if kind == "at" else REFRESH_SECONDS
        return sim.etsy_tokens_since + lifetime
    user_id, _, body = token.partition(".")
    stem, _, mac = body.rpartition("-")
    parts = stem.split("-")
    if (
        not user_id.isdigit()
        or len(parts) < 3
        or parts[0] != f"sim{kind}"
        or not parts[1].isdigit()
        or not hmac.compare_digest(mac.encode(), _mac(sim, stem).encode())
    ):
        return None
    return int(parts[1]) / 1000


def access_token_problem(sim: SimState, token: str) -> str | None:
    """Why Etsy would refuse this bearer token (``<user_id>.<token>``), or None."""
    expiry = _expiry(sim, token, "at")
    if expiry is None:
        return "invalid_token"
    issued = expiry - ACCESS_SECONDS
    if time.time() >= expiry or issued <= sim.etsy_tokens_expired_at:
        return "invalid_token"  # Etsy's 401 for an expired token is not more specific
    return None


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    """RFC 6749 section 5.2, as Etsy's token endpoint answers."""
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@router.post(PATH)
async def token(request: Request) -> Response:
    """The refresh_token grant (the authorization-code grant needs a browser: not simulated)."""
    sim = sim_state(request)
    entry = sim.log_call("etsy", "oauthToken", "POST", PATH)
    response = _grant(sim, await request.body())
    entry["status"] = response.status_code
    return response


def _grant(sim: SimState, body: bytes) -> Response:
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    keystring = sim.settings.etsy_api_key.get_secret_value().partition(":")[0]
    if form.get("grant_type") != "refresh_token":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be refresh_token")
    if not hmac.compare_digest(form.get("client_id", "").encode(), keystring.encode()):
        return _oauth_error(400, "invalid_client", "client_id is not a valid API keystring")
    refresh = form.get("refresh_token", "")
    expiry = _expiry(sim, refresh, "rt")
    if expiry is None or time.time() >= expiry or refresh in sim.etsy_spent_refresh_tokens:
        return _oauth_error(400, "invalid_grant", "refresh_token is invalid or expired")
    sim.etsy_spent_refresh_tokens.add(refresh)
    user_id = refresh.partition(".")[0]
    return JSONResponse(
        {
            "access_token": mint(sim, "at", user_id, ACCESS_SECONDS),
            "token_type": "Bearer",
            "expires_in": ACCESS_SECONDS,
            "refresh_token": mint(sim, "rt", user_id, REFRESH_SECONDS),
        }
    )


@router.post("/__sim/etsy/expire_tokens", tags=["simulator control"])
async def expire_tokens(request: Request) -> dict[str, bool]:
    """Every Etsy access token issued so far stops working (401), as an hour later."""
    sim_state(request).etsy_tokens_expired_at = time.time()
    return {"expired": True}
