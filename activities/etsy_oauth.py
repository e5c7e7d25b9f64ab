"""Etsy access tokens for the adapter: the configured one, renewed through the shop's
EtsyTokenWorkflow when it expires or Etsy refuses it (design in workflows/etsy_tokens.py).

Etsy's refresh (developers.etsy.com, "Authentication"): ``POST
https://api.etsy.com/v3/public/oauth/token`` (form-urlencoded) with ``grant_type=refresh_token``,
``client_id`` = the app's keystring and the refresh token; the answer carries a new access token
(``expires_in`` 3600 s) and a new refresh token, the old one being spent.

A worker process keeps the token it was last given and asks the workflow only when that one is
about to expire or was refused, so the workflow sees about one Update per process per hour.
Tokens are never logged; in Temporal they travel sealed (``TokenCipher``).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from activities.http_errors import MARKETPLACE_AUTH_ERROR, MARKETPLACE_UNAVAILABLE
from activities.http_errors import marketplace_error as _marketplace_error
from config.settings import Settings
from domain.marketplaces import Marketplace, marketplace_task_queue
from workflows.etsy_tokens import (
    EtsyTokenWorkflow,
    RefreshReport,
    SealedPair,
    TokenGrant,
    TokenRequest,
    TokenState,
)

MARKETPLACE = Marketplace.ETSY
MARGIN = timedelta(minutes=5)
"""A token that expires within this is renewed before use."""
REFRESH_TIMEOUT = 30.0
ROUNDS = 12
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport failures that prove the refresh request never reached Etsy."""


def fingerprint(token: str) -> str:
    """Names a token without revealing it (16 hex digits of its SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class TokenCipher:
    """AES-256-GCM for tokens at rest in Temporal, under a key every worker derives from the
    Etsy shared secret (HKDF-SHA256): only holders of Etsy's own credentials can open them."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.etsy_api_key.get_secret_value().partition(":")[2]
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"marketplace-jobs etsy tokens v1 " + settings.etsy_shop_id.encode(),
        ).derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, token: str) -> str:
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, token.encode(), b"etsy-token")
        return "v1." + base64.urlsafe_b64encode(sealed).decode()

    def open(self, sealed: str) -> str:
        version, _, body = sealed.partition(".")
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            if version != "v1":
                raise InvalidTag
            return self._aead.decrypt(raw[:12], raw[12:], b"etsy-token").decode()
        except InvalidTag:
            raise _auth_error(
                "a stored Etsy token cannot be opened (was the shared secret changed?)"
            ) from None

    def pair(
        self, access: str, refresh: str | None, expires_at: datetime | None = None
    ) -> SealedPair:
        return SealedPair(
            access=self.seal(access),
            access_fp=fingerprint(access),
            refresh=self.seal(refresh) if refresh else None,
            refresh_fp=fingerprint(refresh) if refresh else None,
            expires_at=expires_at,
        )


class EtsyTokens:
    """The bearer token for Etsy calls; ``renewable`` when a refresh token is configured."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        keepalive: Callable[[], None] = lambda: None,
        *,
        workflow_id: str | None = None,
        task_queue: str = marketplace_task_queue(MARKETPLACE),
    ) -> None:
        self.settings = settings
        self.http = http
        self.keepalive = keepalive
        self.cipher = TokenCipher(settings)
        self.renewable = settings.etsy_refresh_token is not None
        self.workflow_id = workflow_id or f"etsy-tokens-{settings.etsy_shop_id}"
        self.task_queue = task_queue
        configured = settings.etsy_access_token.get_secret_value()
        self._current: tuple[str, datetime | None] = (configured, None)

    async def bearer(self, *, rejected: str | None = None) -> str:
        """A token to send: this process's current one, unless it was ``rejected`` by Etsy or
        expires within MARGIN; then the shop's token workflow's (renewed if need be)."""
        token, expires_at = self._current
        fresh = expires_at is None or expires_at - MARGIN > datetime.now(UTC)
        if rejected is None and fresh:
            return token
        if not self.renewable:
            raise _auth_error("the Etsy access token was refused and ETSY_REFRESH_TOKEN is unset")
        request = TokenRequest(
            seed=self._seed(),
            rejected_fp=fingerprint(rejected) if rejected else None,
            margin_seconds=MARGIN.total_seconds(),
        )
        for _ in range(ROUNDS):
            grant = await self._ask(request)
            if grant.kind == "refresh":
                grant = await self._refresh(grant)
            if grant.kind == "use" and grant.access:
                self._current = (self.cipher.open(grant.access), grant.expires_at)
                return self._current[0]
            self.keepalive()  # another worker is refreshing, or ours was not sent: ask again
        raise _marketplace_error(
            MARKETPLACE, "oauth_token", MARKETPLACE_UNAVAILABLE, "the Etsy token stayed busy"
        )

    def _seed(self) -> SealedPair:
        refresh = self.settings.etsy_refresh_token
        return self.cipher.pair(
            self.settings.etsy_access_token.get_secret_value(),
            refresh.get_secret_value() if refresh else None,
        )

    async def _ask(self, request: TokenRequest) -> TokenGrant:
        start = WithStartWorkflowOperation(
            EtsyTokenWorkflow.run,
            TokenState(shop_id=self.settings.etsy_shop_id),
            id=self.workflow_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            grant: TokenGrant = await _client().execute_update_with_start_workflow(
                EtsyTokenWorkflow.access_token, request, start_workflow_operation=start
            )
        except WorkflowUpdateFailedError as err:
            raise _refused(err) from None
        return grant

    async def _refresh(self, lease: TokenGrant) -> TokenGrant:
        """Hold the lease: renew with Etsy, report the outcome, get the token to use."""
        assert lease.lease_id is not None and lease.refresh is not None
        report = await refresh_with_etsy(
            self.http, self.settings, self.cipher, lease.lease_id, self.cipher.open(lease.refresh)
        )
        handle = _client().get_workflow_handle(self.workflow_id)
        try:
            grant: TokenGrant = await handle.execute_update(
                EtsyTokenWorkflow.complete_refresh, report
            )
        except WorkflowUpdateFailedError as err:
            raise _refused(err) from None
        return grant


async def refresh_with_etsy(
    http: httpx.AsyncClient,
    settings: Settings,
    cipher: TokenCipher,
    lease_id: str,
    refresh_token: str,
) -> RefreshReport:
    """One refresh_token grant; the report says whether the refresh token may be spent."""
    form = {
        "grant_type": "refresh_token",
        "client_id": settings.etsy_api_key.get_secret_value().partition(":")[0],
        "refresh_token": refresh_token,
    }
    try:
        response = await http.post(
            settings.etsy_token_url(),
            data=form,
            headers={"Accept": "application/json"},
            timeout=min(REFRESH_TIMEOUT, settings.marketplace_http_timeout),
        )
    except NOT_SENT as err:
        return RefreshReport(lease_id=lease_id, outcome="not_sent", detail=type(err).__name__)
    except httpx.RequestError as err:
        return RefreshReport(lease_id=lease_id, outcome="unknown", detail=type(err).__name__)
    status = response.status_code
    if status == 429:  # refused by the rate limiter before anything was processed
        return RefreshReport(lease_id=lease_id, outcome="not_sent", detail="HTTP 429")
    if status >= 500 or status == 408:
        return RefreshReport(lease_id=lease_id, outcome="unknown", detail=f"HTTP {status}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if status != 200:
        error = body.get("error", "") if isinstance(body, dict) else ""
        return RefreshReport(
            lease_id=lease_id, outcome="refused", detail=f"HTTP {status} {error}".strip()
        )
    try:
        access, refresh = str(body["access_token"]), str(body["refresh_token"])
        expires_at = datetime.now(UTC) + timedelta(seconds=int(body["expires_in"]))
    except (KeyError, TypeError, ValueError):
        return RefreshReport(lease_id=lease_id, outcome="unknown", detail="unreadable answer")
    activity.logger.info("etsy access token renewed (refresh token rotated)")
    return RefreshReport(
        lease_id=lease_id, outcome="refreshed", pair=cipher.pair(access, refresh, expires_at)
    )


def _client() -> Client:
    """The worker's Temporal client; none (an activity run outside a worker): no renewal."""
    try:
        return activity.client()
    except RuntimeError:
        raise _auth_error(
            "the Etsy access token was refused; no Temporal client to renew it"
        ) from None


def _refused(err: WorkflowUpdateFailedError) -> ApplicationError:
    cause = err.cause
    text = cause.message if isinstance(cause, ApplicationError) else str(err)
    return _auth_error(text)


def _auth_error(text: str) -> ApplicationError:
    return _marketplace_error(MARKETPLACE, "oauth_token", MARKETPLACE_AUTH_ERROR, text)
