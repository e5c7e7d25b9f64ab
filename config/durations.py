"""Parse durations given as seconds ("43200", "1.5") or ISO-8601 ("PT12H", "P7D", "P1DT2H30M")."""

from __future__ import annotations

import re
from datetime import timedelta

_ISO_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Return a positive timedelta or raise ValueError naming the accepted forms."""
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = timedelta(seconds=value)
    elif isinstance(value, str):
        text = value.strip()
        match = _ISO_DURATION.match(text.upper())
        if re.fullmatch(r"\d+(\.\d+)?", text):
            result = timedelta(seconds=float(text))
        elif match and text.upper() not in ("P", "PT") and not text.upper().endswith("T"):
            parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
            result = timedelta(**parts)
        else:
            raise ValueError(
                f"{value!r} is not a duration: use seconds (43200) or ISO-8601 (PT12H, P7D)"
            )
    else:
        raise ValueError(f"{value!r} is not a duration")
    if result <= timedelta(0):
        raise ValueError("duration must be greater than zero")
    return result
