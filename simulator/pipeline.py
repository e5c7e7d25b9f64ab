"""How every simulated marketplace call is answered: latency, call log, auth, faults, handler.

Calls are logged and matched by fault rules under their official operationId (eBay, Etsy),
looked up in the spec by method and path, or under Vinted's name (``simulator.faults``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec

from fastapi import FastAPI, Request, Response

from domain.marketplaces import Marketplace
from simulator.errors import fault_response
from simulator.faults import SPEC_DOCUMENTS, VINTED_OPERATIONS, FaultMode, official_operation
from simulator.spec import locate, operation_id
from simulator.state import SimState

P = ParamSpec("P")
Handler = Callable[P, Awaitable[Response]]
Authenticator = Callable[[Request, bytes, SimState], Response | None]
Finisher = Callable[[Response, SimState], None]

_LABELS: dict[Marketplace, set[str]] = {m: set() for m in Marketplace}
"""The names route handlers were decorated with, per marketplace (Vinted's are operations)."""


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
        """Decorate a route handler (which must take ``request: Request``). ``name`` is the
        operation for Vinted; for eBay and Etsy a label, the spec names the operation."""
        if self.marketplace not in SPEC_DOCUMENTS and name not in VINTED_OPERATIONS:
            raise ValueError(f"unknown {self.marketplace.value} operation {name!r}")

        def decorate(handler: Handler[P]) -> Handler[P]:
            @functools.wraps(handler)
            async def endpoint(*args: P.args, **kwargs: P.kwargs) -> Response:
                request = kwargs["request"]
                assert isinstance(request, Request)
                return await self._answer(name, request, lambda: handler(*args, **kwargs))

            _LABELS[self.marketplace].add(name)
            return endpoint

        return decorate

    async def _answer(
        self, name: str, request: Request, handler: Callable[[], Awaitable[Response]]
    ) -> Response:
        sim = sim_state(request)
        operation = official_operation(self.marketplace, name, request.method, str(request.url))
        entry = sim.log_call(self.marketplace.value, operation, request.method, request.url.path)
        response = await self._run(operation, request, sim, handler)
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


def served_operations(app: FastAPI) -> dict[Marketplace, set[str]]:
    """The operations the app's routes answer, per marketplace, named as calls are logged:
    eBay's and Etsy's from the spec by each route's method and path, Vinted's by name."""
    served: dict[Marketplace, set[str]] = {m: set() for m in Marketplace}
    served[Marketplace.VINTED] = set(_LABELS[Marketplace.VINTED])
    for path, item in app.openapi().get("paths", {}).items():
        sample_url = "http://simulator" + re.sub(r"\{[^}]+\}", "1", path)
        for method in item:
            found = operation_id(method.upper(), sample_url)
            location = locate(sample_url) if found else None
            if found and location is not None:
                served[location.marketplace].add(found)
    return served


async def read_json(request: Request) -> Any:
    """The JSON body, or ``None`` when it is missing or not JSON (callers answer 400)."""
    body = await request.body()
    if not body:
        return None
    try:
        return await request.json()
    except ValueError:
        return None
