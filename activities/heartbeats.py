"""Each activity's last heartbeat details, so a long wait can heartbeat without losing them.

Temporal keeps only the last heartbeat's details, and a retry resumes from them (Etsy's
listing_id, Vinted's item id). A wait that is not the adapter's own (its requests waiting for
the marketplace's request budget) must keep heartbeating, or the attempt times out and no
cancel reaches it; but an empty heartbeat would erase what the adapter saved. So the
worker's marketplace workers carry ``HeartbeatMemory``, and ``keep_alive()`` heartbeats with
the details last sent in this attempt (at first, those the previous attempt left).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


class _Remembered:
    def __init__(self, details: Sequence[Any]) -> None:
        self.details = tuple(details)


_CURRENT: ContextVar[_Remembered | None] = ContextVar("last_heartbeat", default=None)


class HeartbeatMemory(Interceptor):
    """Worker interceptor: every activity's heartbeats pass through ``_RememberingOutbound``."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _RememberingInbound(next)


class _RememberingInbound(ActivityInboundInterceptor):
    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self._outbound = _RememberingOutbound(outbound)
        super().init(self._outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        memory = _Remembered(activity.info().heartbeat_details)
        self._outbound.memory = memory
        token = _CURRENT.set(memory)
        try:
            return await self.next.execute_activity(input)
        finally:
            _CURRENT.reset(token)


class _RememberingOutbound(ActivityOutboundInterceptor):
    memory: _Remembered | None = None

    def heartbeat(self, *details: Any) -> None:
        if self.memory is not None:
            self.memory.details = details
        self.next.heartbeat(*details)


def keep_alive() -> None:
    """Heartbeat the current activity with its last details; nothing outside an activity, or
    where ``HeartbeatMemory`` does not run (the last details are unknown there)."""
    memory = _CURRENT.get()
    if memory is not None and activity.in_activity():
        activity.heartbeat(*memory.details)
