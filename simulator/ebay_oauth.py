"""Simulated eBay OAuth: the refresh_token grant that issues new user access tokens.

As on api.ebay.com/identity/v1/oauth2/token (developer.ebay.com/api-docs/static/
oauth-refresh-token-request.html): HTTP Basic client credentials, a form body with
``grant_type=refresh_token``, ``refresh_token`` and ``scope`` (space-separated, at most what the
user consented to), answered ``{access_token, expires_in, token_type}``. The token lives
``SIMULATOR_EBAY_TOKEN_LIFETIME`` seconds (eBay: 7200).
"""

from __future__ import annotations

import base64
import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from simulator.ebay_access import CONSENTED_SCOPES
from simulator.pipeline import sim_state

PATH = "/ebay/identity/v1/oauth2/token"
router = APIRouter()


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@router.post(PATH)
async def mint_token(request: Request) -> Response:
    """``grant_type=refresh_token`` with HTTP Basic client credentials, as on api.ebay.com."""
    sim = sim_state(request)
    settings = sim.settings
    entry = sim.log_call("ebay", "refresh_token", "POST", PATH)
    expected_basic = base64.b64encode(
        f"{settings.ebay_client_id}:{settings.ebay_client_secret.get_secret_value()}".encode()
    ).decode()
    given = request.headers.get("authorization", "")
    form = {
        k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
    }
    refresh = settings.ebay_refresh_token
    scopes = frozenset(form.get("scope", "").split()) or CONSENTED_SCOPES
    if not hmac.compare_digest(given.encode(), f"Basic {expected_basic}".encode()):
        response = _oauth_error(401, "invalid_client", "client authentication failed")
    elif form.get("grant_type") != "refresh_token":
        response = _oauth_error(400, "unsupported_grant_type", "only refresh_token is simulated")
    elif refresh is None or not hmac.compare_digest(
        form.get("refresh_token", "").encode(), refresh.get_secret_value().encode()
    ):
        response = _oauth_error(
            400, "invalid_grant", "the refresh token is invalid or was issued to another client"
        )
    elif not scopes <= CONSENTED_SCOPES:
        response = _oauth_error(
            400, "invalid_scope", "the requested scope is invalid, unknown, or exceeds the grant"
        )
    else:
        response = JSONResponse(
            {
                "access_token": sim.ebay_access.issue(scopes),
                "expires_in": sim.ebay_access.lifetime,
                "token_type": "User Access Token",
            }
        )
    entry["status"] = response.status_code
    return response
