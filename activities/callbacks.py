"""The ``deliver_callback`` activity: one signed POST of a completion callback (issue 16).

The URL is user input, so the client is built like one that faces the internet must be:

- ``https`` only, unless ``CALLBACK_ALLOW_HTTP=true``; a URL with credentials is refused;
- behind the outbound guard (``activities/outbound_guard.py``): public addresses only, the
  connection pinned to the checked address, no proxy from the environment; unless
  ``CALLBACK_ALLOW_PRIVATE=true`` (local receivers under ``make run`` and in tests);
- no redirect followed: a 3xx is a failed attempt like any other non-2xx;
- ``CALLBACK_TIMEOUT`` seconds for the whole exchange, DNS included, and at most
  ``MAX_RESPONSE_BYTES`` of the answer read (and dropped: only the status matters);
- no keep-alive, so nothing stays open between deliveries and the client needs no closing.

Signed per Standard Webhooks with ``CALLBACK_SIGNING_SECRET`` through ``domain/signatures.py``
(``webhook-id``, ``webhook-timestamp`` of this attempt, ``webhook-signature: v1,…``). The secret
never leaves this worker: not in the activity's input or result, not in a log line. Log lines
name the host, never the path or query, which may carry the receiver's own token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
from temporalio import activity

from activities import USER_AGENT
from activities.outbound_guard import BlockedAddress, GuardedTransport, Resolver, system_resolver
from config.settings import Settings
from domain.callbacks import (
    DELIVER_CALLBACK_ACTIVITY,
    GONE,
    AttemptOutcome,
    CallbackAttempt,
    CallbackRequest,
)
from domain.signatures import sign_hmac, webhook_signed_content

log = logging.getLogger("activities.callbacks")
MAX_RESPONSE_BYTES = 64 * 1024


def callback_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes POSTed and signed (compact JSON, the same for every attempt)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def url_refusal(url: str, *, allow_http: bool) -> str | None:
    """Why ``url`` is not one a callback goes to (scheme, credentials), or None. The address
    is the guard's business, on every attempt."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "not a valid URL"
    schemes = ("https", "http") if allow_http else ("https",)
    if parsed.scheme not in schemes:
        return "not an https URL" if not allow_http else "not an http(s) URL"
    if not parsed.host:
        return "no host"
    if parsed.userinfo:
        return "credentials in the URL are not sent"
    return None


class CallbackSender:
    """Registered on the ``callbacks`` queue; tests pass a ``transport`` and a ``resolver``."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.key = settings.callback_key()
        self.allow_http = settings.callback_allow_http
        inner = transport or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_keepalive_connections=0)
        )
        self.http = httpx.AsyncClient(
            transport=inner
            if settings.callback_allow_private
            else GuardedTransport(inner, resolver=resolver),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
            trust_env=False,  # no HTTP(S)_PROXY: the guard must see the receiver's address
        )

    @activity.defn(name=DELIVER_CALLBACK_ACTIVITY)
    async def deliver_callback(self, request: CallbackRequest) -> CallbackAttempt:
        """One attempt; never raises for what the receiver did (the workflow counts attempts)."""
        attempt = await self.send(request)
        log.info(
            "callback attempt webhook_id=%s host=%s outcome=%s status=%s",
            request.webhook_id,
            _host(request.url),
            attempt.outcome.value,
            attempt.status,
        )
        return attempt

    async def send(self, request: CallbackRequest) -> CallbackAttempt:
        if (reason := url_refusal(request.url, allow_http=self.allow_http)) is not None:
            return CallbackAttempt(outcome=AttemptOutcome.REFUSED, error=reason)
        if self.key is None:
            # A configuration fault of this worker: retried, so fixing it within the window
            # still delivers.
            error = "CALLBACK_SIGNING_SECRET is not set on the worker"
            return CallbackAttempt(outcome=AttemptOutcome.RETRY, error=error)
        body = callback_body(request.payload)
        timestamp = str(int(time.time()))
        content = webhook_signed_content(request.webhook_id, timestamp, body)
        headers = {
            "content-type": "application/json",
            "webhook-id": request.webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign_hmac(content, self.key),
        }
        seconds = request.timeout.total_seconds()
        try:
            async with asyncio.timeout(seconds):
                status = await self._post(request.url, body, headers)
        except TimeoutError:
            return CallbackAttempt(
                outcome=AttemptOutcome.RETRY, error=f"no answer in {seconds:g} s"
            )
        except BlockedAddress as err:
            return CallbackAttempt(outcome=AttemptOutcome.REFUSED, error=f"refused: {err.reason}")
        except httpx.HTTPError as err:
            return CallbackAttempt(outcome=AttemptOutcome.RETRY, error=type(err).__name__)
        if 200 <= status < 300:
            return CallbackAttempt(outcome=AttemptOutcome.DELIVERED, status=status)
        if status == GONE:
            return CallbackAttempt(outcome=AttemptOutcome.GONE, status=status)
        return CallbackAttempt(outcome=AttemptOutcome.RETRY, status=status)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        request = self.http.build_request("POST", url, content=body, headers=headers)
        response = await self.http.send(request, stream=True, follow_redirects=False)
        try:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES:
                    break
        finally:
            await response.aclose()
        return response.status_code


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or "?"
    except httpx.InvalidURL:
        return "?"
