"""How the simulated Vinted admits a request: the access key, its HMAC signature, the rate.

Signing (``X-Vpi-Access-Key``; ``X-Vpi-Hmac-Sha256: t=<unix>,v1=<hex>`` over
``<t>.<METHOD>.<path?query>.<access_key>.<body>``) is Vinted's documented quick start
(pro-docs.svc.vinted.com, "Steps for making requests", v0.173.2) in the exact form of
rfair404/claude-ebay-prompts-etc ``lib/vinted_client.py`` and samicodesit/quick-vint-api
``signing.ts``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from fastapi import Request, Response

from domain.marketplaces import Marketplace
from simulator.errors import vinted_error
from simulator.pipeline import MarketplaceSurface
from simulator.state import SimState

PREFIX = "/vinted/api/v1"

MAX_CLOCK_SKEW_SECONDS = 300
"""ASSUMPTION: how far ``t`` may be from the server clock. No source gives Vinted's figure for
requests; 300 s is the webhook replay window both third-party clients use
(quick-vint-api ``signing.ts``, claude-ebay-prompts-etc ``verify_webhook``)."""

RATE_WINDOW_SECONDS = 1.0


def expected_signature(
    signing_key: str, t: str, method: str, target: str, access_key: str, body: bytes
) -> str:
    """hex HMAC-SHA256(signing_key, "<t>.<METHOD>.<path?query>.<access_key>.<body>").

    Written apart from the client's signer on purpose: the simulator plays the other party,
    so a signing bug on either side shows up as a 401 instead of agreeing with itself.
    """
    message = f"{t}.{method}.{target}.{access_key}.".encode() + body
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def _request_target(request: Request) -> str:
    """The path and query exactly as the client sent them (what it signed)."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query: bytes = request.scope.get("query_string", b"")
    return (raw_path + (b"?" + query if query else b"")).decode("latin-1")


def authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    """401 for a wrong key or signature; then 429 past the request rate (see ``_over_rate``)."""
    access_key = sim.settings.vinted_access_key.get_secret_value()
    given_key = request.headers.get("x-vpi-access-key", "")
    if not hmac.compare_digest(given_key.encode(), access_key.encode()):
        return vinted_error(401, "invalid_access_key", "Unknown X-Vpi-Access-Key")
    parts = dict(
        part.split("=", 1)
        for part in request.headers.get("x-vpi-hmac-sha256", "").split(",")
        if "=" in part
    )
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or not v1:
        return vinted_error(401, "invalid_signature", "X-Vpi-Hmac-Sha256 must be t=<unix>,v1=<hex>")
    if abs(time.time() - int(t)) > MAX_CLOCK_SKEW_SECONDS:
        return vinted_error(401, "timestamp_out_of_range", "Signature timestamp is too old or new")
    expected = expected_signature(
        sim.settings.vinted_signing_key.get_secret_value(),
        t,
        request.method,
        _request_target(request),
        access_key,
        body,
    )
    if not hmac.compare_digest(v1.lower().encode(), expected.encode()):
        return vinted_error(401, "invalid_signature", "Signature does not match")
    return _over_rate(sim)


def _over_rate(sim: SimState) -> Response | None:
    """429 once this access key has made ``SIMULATOR_VINTED_REQUESTS_PER_SECOND`` admitted
    requests in the last second.

    ASSUMPTION (no source gives figures): Vinted documents no request rate; its docs state
    only the 500 item slots, which anicolao/vintage ``VINTED_INTEGRATION.md`` calls "an
    inventory allowance, not a request-rate limit", and tonyyang0504/platform-mcp
    ``vinted_pro.json`` records ``rate_limits: "not stated"`` (while throttling itself to
    2 requests/s). The simulator enforces a chosen 10 requests per second, five times that
    client-side budget (our VINTED_RATE_LIMIT default is 2 activities/s), and answers with
    ``Retry-After`` (RFC 9110) only: no source shows Vinted's rate headers.
    """
    limit = sim.settings.simulator_vinted_requests_per_second
    if not limit:
        return None
    now = time.monotonic()
    window = sim.vinted.request_times
    while window and now - window[0] >= RATE_WINDOW_SECONDS:
        window.popleft()
    if len(window) >= limit:
        wait = max(1, math.ceil(RATE_WINDOW_SECONDS - (now - window[0])))
        return vinted_error(
            429,
            "rate_limited",
            f"Too many requests: at most {limit:g} per second",
            headers={"Retry-After": str(wait)},
        )
    window.append(now)
    return None


surface = MarketplaceSurface(Marketplace.VINTED, authenticate)
