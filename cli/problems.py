"""Say what the API rejected in a submitted file, by the file's own line or item numbers."""

from __future__ import annotations

import re
from typing import Any

from cli.errors import ApiError
from cli.inputs import Submission

_JOB_LOCATION = re.compile(r"^jobs\.(\d+)(?:\.(.*))?$")
_LISTING_PREFIX = re.compile(r"^(?:input_data|inputs)\.")
_CSV_COLUMN_OF_FIELD = {"price.amount": "price", "price.currency": "currency"}


def problem_lines(error: ApiError, submission: Submission | None = None) -> list[str]:
    """``error: <status> <detail>``, then one line per invalid field when the API listed them."""
    if not error.errors:
        return [f"error: {error.status} {error.detail}"]
    where = f" in {submission.source}" if submission else ""
    count = len(error.errors)
    lines = [f"error: {error.status} the API rejected {count} field(s){where}:"]
    lines += [f"  {entry_line(entry, submission)}" for entry in error.errors]
    return lines


def entry_line(entry: dict[str, Any], submission: Submission | None) -> str:
    """``line 4: sku: String should match pattern …`` from ``{"loc": "jobs.2.input_data.sku"}``."""
    location = str(entry.get("loc", ""))
    message = str(entry.get("msg", "invalid")).removeprefix("Value error, ")
    index, field = _split_location(location, submission)
    origin = ""
    if submission is not None and index is not None and index < len(submission.origins):
        origin = submission.origins[index]
    elif index is not None:
        origin = f"jobs[{index}]"
    if field and origin.startswith("line "):
        field = _csv_column(field)
    parts = [part for part in (origin, field) if part]
    return f"{': '.join(parts)}: {message}" if parts else message


def _split_location(location: str, submission: Submission | None) -> tuple[int | None, str]:
    """(job index, field inside the start_job body) of a problem's ``loc``."""
    match = _JOB_LOCATION.match(location)
    if match:
        return int(match.group(1)), _LISTING_PREFIX.sub("", match.group(2) or "")
    if submission is not None and not submission.as_batch and location != "body":
        return 0, _LISTING_PREFIX.sub("", location)
    return None, location


def _csv_column(field: str) -> str:
    if field in _CSV_COLUMN_OF_FIELD:
        return _CSV_COLUMN_OF_FIELD[field]
    if re.fullmatch(r"images\.\d+", field):
        return f"images (URL {int(field.split('.')[1]) + 1})"
    return field
