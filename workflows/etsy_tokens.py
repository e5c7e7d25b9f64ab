"""EtsyTokenWorkflow: the one owner of an Etsy shop's OAuth token pair, across all workers.

Etsy access tokens last an hour and the refresh token rotates on every use: the one sent is
spent (developers.etsy.com, "Authentication"). Two workers refreshing at once, or a worker
refreshing with a token another one already spent, lose the shop's authorization. So one
long-running workflow per shop (id ``etsy-tokens-<shop_id>``) holds the pair, and every worker
asks it through Updates, which Temporal runs one at a time on the workflow's single thread:

- ``access_token``: the current access token, unless it expires within the caller's margin or
  is the one Etsy just refused. Then the first caller gets a *lease* with the refresh token and
  does the refresh itself (the workflow does no I/O); every other caller waits for that lease.
- ``complete_refresh``: the lease holder reports: the new pair; "not sent" (the request never
  reached Etsy, the refresh token is still good); or a refusal or an unknown outcome.

A refresh token is handed out under at most one lease, and never again once a lease may have
used it: a lease that expires without a report, a refusal, or an unknown outcome (a timeout
after sending, a 5xx) stop the shop with ``problem`` set instead of risking a spent token
(Etsy may treat reuse as theft). Publishes then fail at once, saying the shop must be
re-authorized; a new ``ETSY_REFRESH_TOKEN`` is adopted by the next request that carries it
(``seed``). A late report of success for an expired lease still heals the shop.

Every token in the workflow's arguments, state and results is sealed (AES-256-GCM under a key
the workers derive from Etsy's shared secret, ``activities/etsy_oauth.py``): Temporal history
never holds one in plaintext, with or without PAYLOAD_ENCRYPTION_KEYS. Fingerprints (a
truncated SHA-256) identify tokens without revealing them.

It runs on the ``marketplace-etsy`` task queue, whose workers register it (``worker.py``); the
Etsy adapter asks it through ``activities/etsy_oauth.py``. Its workflow type stays
``EtsyTokenWorkflow`` wherever the module lives, so running executions keep matching.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.exceptions import ApplicationError

LEASE = timedelta(seconds=60)
"""How long a refresh may take before its outcome counts as unknown (the HTTP call itself is
bounded by MARKETPLACE_HTTP_TIMEOUT, at most 30 s for it, see etsy_oauth.REFRESH_TIMEOUT)."""
WAIT = timedelta(seconds=10)
"""How long one ``access_token`` Update waits for another worker's refresh before answering
"wait" (the caller heartbeats, then asks again)."""
REAUTHORIZE = "EtsyReauthorizationRequired"
"""The error type of an Update refused because the shop must be authorized again."""


class SealedPair(BaseModel):
    """A token pair, each token sealed; ``expires_at`` None: unknown (a configured token,
    used until Etsy refuses it)."""

    model_config = ConfigDict(frozen=True)

    access: str
    access_fp: str
    refresh: str | None = None
    refresh_fp: str | None = None
    expires_at: datetime | None = None


class Lease(BaseModel):
    lease_id: str
    refresh_fp: str
    expires_at: datetime


class TokenState(BaseModel):
    """Everything the workflow holds (carried over by continue-as-new)."""

    shop_id: str
    pair: SealedPair | None = None
    seeds: list[str] = Field(default_factory=list)
    """Fingerprints of every refresh token adopted as a seed: never adopted twice."""
    lease: Lease | None = None
    expired_lease: Lease | None = None
    problem: str | None = None
    refreshes: int = 0


class TokenRequest(BaseModel):
    seed: SealedPair | None = None
    rejected_fp: str | None = None
    margin_seconds: float = Field(default=300, ge=0)


class TokenGrant(BaseModel):
    kind: Literal["use", "refresh", "wait"]
    access: str | None = None
    access_fp: str | None = None
    expires_at: datetime | None = None
    lease_id: str | None = None
    refresh: str | None = None


class RefreshReport(BaseModel):
    lease_id: str
    outcome: Literal["refreshed", "not_sent", "refused", "unknown"]
    pair: SealedPair | None = None
    detail: str = ""


@workflow.defn(name="EtsyTokenWorkflow")
class EtsyTokenWorkflow:
    @workflow.init
    def __init__(self, state: TokenState) -> None:
        self.state = state

    @workflow.run
    async def run(self, state: TokenState) -> None:
        await workflow.wait_condition(
            lambda: (
                workflow.info().is_continue_as_new_suggested()
                and self.state.lease is None
                and workflow.all_handlers_finished()
            )
        )
        workflow.continue_as_new(self.state)

    @workflow.query
    def status(self) -> dict[str, object]:
        """What an operator may see: no token, sealed or not."""
        pair = self.state.pair
        return {
            "shop_id": self.state.shop_id,
            "access_fp": pair.access_fp if pair else None,
            "expires_at": pair.expires_at.isoformat() if pair and pair.expires_at else None,
            "refreshing": self.state.lease is not None,
            "refreshes": self.state.refreshes,
            "problem": self.state.problem,
        }

    @workflow.update
    async def access_token(self, request: TokenRequest) -> TokenGrant:
        self._adopt(request.seed)
        deadline = workflow.now() + WAIT
        while True:
            self._expire_lease()
            self._raise_problem()
            pair = self.state.pair
            if pair is not None and self._usable(pair, request):
                return _use(pair)
            if self.state.lease is None:
                return self._grant_lease(pair)
            if workflow.now() >= deadline:
                return TokenGrant(kind="wait")
            await self._lease_settled(min(deadline, self.state.lease.expires_at))

    async def _lease_settled(self, until: datetime) -> None:
        """Wait until the current lease is settled, or ``until``."""
        lease = self.state.lease
        try:
            await workflow.wait_condition(
                lambda: self.state.lease is not lease, timeout=until - workflow.now()
            )
        except TimeoutError:
            pass  # the lease expired (the next turn stops the shop) or our wait is over

    @workflow.update
    async def complete_refresh(self, report: RefreshReport) -> TokenGrant:
        lease = self.state.lease
        if lease is None or lease.lease_id != report.lease_id:
            late = self.state.expired_lease
            if report.outcome == "refreshed" and late and late.lease_id == report.lease_id:
                self._store(report.pair)  # the refresh did happen: the shop is whole again
                return _use(self.state.pair) if self.state.pair else TokenGrant(kind="wait")
            raise ApplicationError("unknown or expired refresh lease", type=REAUTHORIZE)
        self.state.lease = None
        if report.outcome == "refreshed":
            self._store(report.pair)
        elif report.outcome == "refused":
            self.state.problem = f"Etsy refused the refresh token ({report.detail})"
        elif report.outcome == "unknown":
            self.state.problem = (
                f"a refresh of the Etsy token may have spent the refresh token ({report.detail})"
            )
        self._raise_problem()
        if report.outcome == "refreshed" and self.state.pair is not None:
            return _use(self.state.pair)
        return TokenGrant(kind="wait")  # not sent: the refresh token is still good

    def _adopt(self, seed: SealedPair | None) -> None:
        """A configured pair the workflow has not seen: the first one, or a new authorization."""
        if seed is None:
            return
        if seed.refresh_fp is None:
            if self.state.pair is None:
                self.state.pair = seed
            return
        if seed.refresh_fp in self.state.seeds:
            return
        self.state.seeds.append(seed.refresh_fp)
        self.state.pair = seed
        self.state.problem = None
        workflow.logger.info("etsy tokens: adopted a configured refresh token")

    def _usable(self, pair: SealedPair, request: TokenRequest) -> bool:
        if request.rejected_fp is not None and request.rejected_fp == pair.access_fp:
            return False
        if pair.expires_at is None:
            return True
        return pair.expires_at - timedelta(seconds=request.margin_seconds) > workflow.now()

    def _grant_lease(self, pair: SealedPair | None) -> TokenGrant:
        if pair is None or pair.refresh is None or pair.refresh_fp is None:
            self.state.problem = "no Etsy refresh token (ETSY_REFRESH_TOKEN) to renew the token"
            self._raise_problem()
            raise AssertionError("unreachable")  # pragma: no cover
        lease = Lease(
            lease_id=str(workflow.uuid4()),
            refresh_fp=pair.refresh_fp,
            expires_at=workflow.now() + LEASE,
        )
        self.state.lease = lease
        return TokenGrant(kind="refresh", lease_id=lease.lease_id, refresh=pair.refresh)

    def _expire_lease(self) -> None:
        lease = self.state.lease
        if lease is not None and workflow.now() >= lease.expires_at:
            self.state.expired_lease, self.state.lease = lease, None
            self.state.problem = (
                f"a refresh of the Etsy token did not report back within {LEASE.seconds} s; "
                "its refresh token may be spent"
            )

    def _store(self, pair: SealedPair | None) -> None:
        if pair is None:
            raise ApplicationError("a refreshed report without a pair", type=REAUTHORIZE)
        self.state.pair = pair
        self.state.problem = None
        self.state.refreshes += 1

    def _raise_problem(self) -> None:
        if self.state.problem:
            raise ApplicationError(
                f"{self.state.problem}: authorize the shop again and set ETSY_REFRESH_TOKEN",
                type=REAUTHORIZE,
                non_retryable=True,
            )


def _use(pair: SealedPair) -> TokenGrant:
    return TokenGrant(
        kind="use", access=pair.access, access_fp=pair.access_fp, expires_at=pair.expires_at
    )


__all__ = [
    "REAUTHORIZE",
    "EtsyTokenWorkflow",
    "Lease",
    "RefreshReport",
    "SealedPair",
    "TokenGrant",
    "TokenRequest",
    "TokenState",
]
