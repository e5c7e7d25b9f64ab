"""Read a listings file (JSON or CSV) into start_job bodies, remembering where each came from."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.errors import InputFileError

LISTING_KEYS = ("input_data", "inputs")
REQUIRED_COLUMNS = ("sku", "title", "description", "currency", "quantity", "condition", "images")
OPTIONAL_COLUMNS = ("brand", "size", "category")
PRICE_COLUMNS = ("price", "price_amount")
KNOWN_COLUMNS = (*REQUIRED_COLUMNS, *PRICE_COLUMNS, *OPTIONAL_COLUMNS)
_IMAGE_SEPARATORS = re.compile(r"[\s|]+")


@dataclass(frozen=True)
class Submission:
    """What to send: one start_job body per job, and where each one is in the file."""

    source: str
    jobs: list[dict[str, Any]]
    origins: list[str]
    """Per job, a place people find in the file: ``line 4`` (CSV), ``item 2`` (JSON list)."""
    as_batch: bool
    """True for several listings, or a file that is a ``{"jobs": [...]}`` batch body."""


def read_submission(path: str) -> Submission:
    """``path`` is a file (``.json``, ``.csv``, else sniffed from its first character) or ``-``."""
    text = _read_text(path)
    source = "stdin" if path == "-" else path
    suffix = Path(path).suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("{", "[")):
        return parse_json(text, source)
    return parse_csv(text, source)


def _read_text(path: str) -> str:
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as err:
        raise InputFileError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputFileError(f"{path}: not UTF-8 (byte {err.start})") from None


# -- JSON ---------------------------------------------------------------------------------


def parse_json(text: str, source: str) -> Submission:
    """A listing, a list of listings (or start_job bodies), a start_job body or a batch body."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputFileError(
            f"{source}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    if isinstance(document, dict) and "jobs" in document:
        entries = document["jobs"]
        if not isinstance(entries, list) or not entries:
            raise InputFileError(f'{source}: "jobs" must be a non-empty list of start_job bodies')
        jobs = [_job_body(entry, f"jobs[{i}]", source) for i, entry in enumerate(entries)]
        return Submission(source, jobs, [f"jobs[{i}]" for i in range(len(jobs))], as_batch=True)
    if isinstance(document, list):
        if not document:
            raise InputFileError(f"{source}: the list is empty")
        origins = [f"item {i + 1}" for i in range(len(document))]
        jobs = [_job_body(entry, origins[i], source) for i, entry in enumerate(document)]
        return Submission(source, jobs, origins, as_batch=len(jobs) > 1)
    return Submission(source, [_job_body(document, "the document", source)], [""], as_batch=False)


def _job_body(entry: Any, origin: str, source: str) -> dict[str, Any]:
    """A start_job body as is; a bare listing wrapped as its ``input_data``."""
    if not isinstance(entry, dict):
        raise InputFileError(f"{source}: {origin} is not a JSON object")
    if any(key in entry for key in LISTING_KEYS):
        return dict(entry)
    return {"input_data": entry}


# -- CSV ----------------------------------------------------------------------------------


def parse_csv(text: str, source: str) -> Submission:
    """A header row, then one listing per row; values are checked by the API, columns here."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = next(reader, None)
    if header is None:
        raise InputFileError(f"{source}: empty file (expected a header row)")
    columns = [name.strip().lower() for name in header]
    _check_columns(columns, source)
    jobs: list[dict[str, Any]] = []
    origins: list[str] = []
    line = reader.line_num + 1
    for row in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            raise InputFileError(
                f"{source}: line {start} has {len(row)} cells, the header {len(columns)}"
            )
        # A short row (trailing cells left out) reads as empty cells; the API names them.
        cells = dict(zip(columns, (cell.strip() for cell in row), strict=False))
        jobs.append({"input_data": listing_of_row(cells)})
        origins.append(f"line {start}")
    if not jobs:
        raise InputFileError(f"{source}: no listings (only a header row)")
    return Submission(source, jobs, origins, as_batch=len(jobs) > 1)


def _delimiter(text: str) -> str:
    """Comma by default; semicolon or tab when the header row uses them (spreadsheet exports)."""
    header = text.split("\n", 1)[0]
    return max(",;\t", key=header.count) if any(c in header for c in ";\t") else ","


def _check_columns(columns: list[str], source: str) -> None:
    prices = [name for name in PRICE_COLUMNS if name in columns]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if not prices:
        missing.insert(sum(name in missing for name in REQUIRED_COLUMNS[:3]), "price")
    if missing:
        raise InputFileError(f"{source}: missing column(s): {', '.join(missing)}")
    if len(prices) > 1:
        raise InputFileError(f"{source}: use one of the columns price and price_amount, not both")
    unknown = [name for name in columns if name not in KNOWN_COLUMNS]
    if unknown:
        raise InputFileError(
            f"{source}: unknown column(s): {', '.join(unknown)} (known: {', '.join(KNOWN_COLUMNS)})"
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise InputFileError(f"{source}: repeated column(s): {', '.join(repeated)}")


def listing_of_row(cells: dict[str, str]) -> dict[str, Any]:
    """One listing from a CSV row. Values the API would reject are passed on as written, so
    its 422 lists every bad cell of every row at once."""
    amount = cells.get("price", cells.get("price_amount", ""))
    listing: dict[str, Any] = {
        "sku": cells.get("sku", ""),
        "title": cells.get("title", ""),
        "description": cells.get("description", ""),
        "price": {"amount": amount, "currency": cells.get("currency", "").upper()},
        "quantity": _integer_or_text(cells.get("quantity", "")),
        "condition": cells.get("condition", "").lower().replace(" ", "_").replace("-", "_"),
        "images": [url for url in _IMAGE_SEPARATORS.split(cells.get("images", "")) if url],
    }
    for name in OPTIONAL_COLUMNS:
        if cells.get(name):
            listing[name] = cells[name]
    return listing


def _integer_or_text(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value
