"""Simulated eBay OAuth: the refresh_token grant that issues new user access tokens."""

from __future__ import annotations

import base64
import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

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
    expected_basic = base64.b64encode(
        f"{settings.ebay_client_id}:{settings.ebay_client_secret.get_secret_value()}".encode()
    ).decode()
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Basic {expected_basic}".encode()):
        return _oauth_error(401, "invalid_client", "client authentication failed")
    form = {
        k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
    }
    refresh = settings.ebay_refresh_token
    if form.get("grant_type") != "refresh_token":
        return _oauth_error(400, "unsupported_grant_type", "only refresh_token is simulated")
    if refresh is None or not hmac.compare_digest(
        form.get("refresh_token", "").encode(), refresh.get_secret_value().encode()
    ):
        return _oauth_error(
            400, "invalid_grant", "the refresh token is invalid or was issued to another client"
        )
    token = sim.issue_ebay_token()
    sim.log_call("ebay", "refresh_token", "POST", PATH)["status"] = 200
    return JSONResponse(
        {"access_token": token, "expires_in": 7200, "token_type": "User Access Token"}
    )
