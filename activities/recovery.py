"""When an adapter looks for what an earlier attempt may have written, instead of writing."""

from __future__ import annotations

from typing import Any

from temporalio import activity


def earlier_attempt_may_have_written(recover: bool = False) -> bool:
    """True on a retry (attempt > 1), when heartbeat details show an earlier attempt got
    somewhere, or when the caller says an earlier execution with the same key may have written
    (``PublishRequest.recover``). Only then does a create pay for a lookup by SKU or
    reference: a first attempt creates directly, so a publish costs the same number of
    requests in a shop of 10 000 listings as in an empty one (DESIGN.md "Listings are
    entities")."""
    info = activity.info()
    return recover or info.attempt > 1 or bool(info.heartbeat_details)


def last_heartbeat(key: str) -> Any:
    """``key`` in the newest heartbeat details of an earlier attempt that carry it, or None."""
    for detail in reversed(list(activity.info().heartbeat_details or ())):
        if isinstance(detail, dict) and key in detail:
            return detail[key]
    return None
