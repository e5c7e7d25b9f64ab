"""UTC timestamps: one format (ISO-8601 with a trailing Z) for every time we show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer


def format_utc(value: datetime) -> str:
    """Render a datetime as UTC ISO-8601 with millisecond precision and a trailing ``Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def _as_utc(value: datetime) -> datetime:
    """In UTC; a time whose UTC is before year 1 or after 9999 (``0001-01-01T00:00+14:00``) is
    a ValueError, so a 422 (found by schemathesis in CI: it was a 500)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of the range of dates once in UTC") from None


UtcDatetime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(format_utc, return_type=str, when_used="json"),
]
"""A datetime that is always UTC and serialises to JSON as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
