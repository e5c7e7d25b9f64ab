"""How every simulated marketplace call is answered: latency, call log, auth, faults, handler."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec

from fastapi import Request, Response

from domain.marketplaces import Marketplace
from simulator.errors import fault_response
from simulator.faults import OPERATIONS, FaultMode
from simulator.state import SimState

P = ParamSpec("P")
Handler = Callable[P, Awaitable[Response]]
Authenticator = Callable[[Request, bytes, SimState], Response | None]
Finisher = Callable[[Response, SimState], None]


def sim_state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _no_finish(response: Response, sim: SimState) -> None:
    return None


@dataclass(frozen=True)
class MarketplaceSurface:
    """What differs per marketplace: how it authenticates and what it adds to every answer."""

    marketplace: Marketplace
    authenticate: Authenticator
    finish: Finisher = _no_finish

    def operation(self, name: str) -> Callable[[Handler[P]], Handler[P]]:
        """Decorate a route handler (which must take ``request: Request``) as operation ``name``."""
        if name not in OPERATIONS[self.marketplace]:
            raise ValueError(f"unknown {self.marketplace.value} operation {name!r}")

        def decorate(handler: Handler[P]) -> Handler[P]:
            @functools.wraps(handler)
            async def endpoint(*args: P.args, **kwargs: P.kwargs) -> Response:
                request = kwargs["request"]
                assert isinstance(request, Request)
                return await self._answer(name, request, lambda: handler(*args, **kwargs))

            return endpoint

        return decorate

    async def _answer(
        self, name: str, request: Request, handler: Callable[[], Awaitable[Response]]
    ) -> Response:
        sim = sim_state(request)
        entry = sim.log_call(self.marketplace.value, name, request.method, request.url.path)
        response = await self._run(name, request, sim, handler)
        self.finish(response, sim)
        entry["status"] = response.status_code
        return response

    async def _run(
        self,
        name: str,
        request: Request,
        sim: SimState,
        handler: Callable[[], Awaitable[Response]],
    ) -> Response:
        if sim.latency_ms:
            await sim.hold(sim.latency_ms / 1000)
        body = await request.body()
        denied = self.authenticate(request, body, sim)
        if denied is not None:
            return denied
        rule = sim.faults.take(self.marketplace, name)
        if rule is None:
            return await handler()
        if rule.mode is FaultMode.TIMEOUT:
            await sim.hold(rule.hold_seconds)
        elif rule.mode is FaultMode.GHOST_WRITE:
            response = await handler()
            if response.status_code >= 400:
                return response  # nothing was written, so there is nothing to hide
        return fault_response(self.marketplace, rule)


async def read_json(request: Request) -> Any:
    """The JSON body, or ``None`` when it is missing or not JSON (callers answer 400)."""
    body = await request.body()
    if not body:
        return None
    try:
        return await request.json()
    except ValueError:
        return None
