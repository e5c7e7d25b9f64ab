"""What the gateway checks of a ``callback_url`` before a job starts (issue 16).

The request body's own rules (an http(s) URL with a host, no credentials) are in
``api/schemas.py``; these depend on settings and DNS: callbacks configured at all
(``CALLBACK_SIGNING_SECRET``), ``https`` unless ``CALLBACK_ALLOW_HTTP``, and a host whose
addresses are all public unless ``CALLBACK_ALLOW_PRIVATE`` (the outbound guard's rule,
``activities/outbound_guard.py``, which checks again on every delivery attempt). Each failure is
a validation error located at the field, so the answer is a 422 naming it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from activities.outbound_guard import Resolver, host_refusal, system_resolver
from api.schemas import StartJobRequest
from config.settings import Settings

RESOLVE_TIMEOUT = 2.0
"""Seconds the gateway waits for DNS; a name that does not answer by then is not refused here."""

Located = tuple[tuple[str | int, ...], StartJobRequest]


async def callback_url_errors(
    requests: Sequence[Located], settings: Settings, resolver: Resolver = system_resolver
) -> list[dict[str, Any]]:
    """Validation errors for every request's ``callback_url``; ``requests`` are (location in
    the body, request) pairs. Each host is resolved once, however many jobs name it."""
    errors: list[dict[str, Any]] = []
    refusals: dict[tuple[str, int], str | None] = {}
    for at, request in requests:
        url = request.callback_url
        if url is None:
            continue
        message = _setting_refusal(url, settings)
        if message is None and not settings.callback_allow_private:
            parts = urlsplit(url)
            host = parts.hostname or ""
            key = (host, parts.port or (443 if parts.scheme == "https" else 80))
            if key not in refusals:
                refusals[key] = await _address_refusal(*key, resolver)
            if (reason := refusals[key]) is not None:
                message = f"must point to a public address: {reason}"
        if message is not None:
            errors.append(
                {"loc": ("body", *at, "callback_url"), "msg": message, "type": "callback_url"}
            )
    return errors


def _setting_refusal(url: str, settings: Settings) -> str | None:
    if settings.callback_signing_secret is None:
        return "callbacks are not configured on this service (no CALLBACK_SIGNING_SECRET)"
    if urlsplit(url).scheme != "https" and not settings.callback_allow_http:
        return "must be an https URL"
    return None


async def _address_refusal(host: str, port: int, resolver: Resolver) -> str | None:
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            return await host_refusal(host, port, resolver)
    except TimeoutError:
        return None
