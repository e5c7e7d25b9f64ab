"""Canonical JSON (RFC 8785) and the MIP-004 input hash."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

MAX_JSON_DEPTH = 32
"""Deepest nesting accepted in free-form JSON from callers (payment ``data``, webhook bodies).

Payment confirmations are flat objects. Temporal's pydantic payload converter refuses values
nested about 255 levels deep, so a deeper value could never reach a workflow as a signal.
"""


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON value. Raises ``ValueError`` for values JCS cannot encode."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as err:
        raise ValueError(f"value cannot be canonicalised as JSON: {err}") from err


def input_hash(identifier_from_purchaser: str, input_data: Any) -> str:
    """MIP-004: lowercase hex SHA-256 of ``identifier + ";" + JCS(input_data)``."""
    content = identifier_from_purchaser.encode("utf-8") + b";" + canonical_json(input_data)
    return hashlib.sha256(content).hexdigest()


def fingerprint(value: Any) -> str:
    """A stable SHA-256 hex digest of any JSON value (used to compare request bodies)."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def json_depth(value: Any) -> int:
    """Nesting depth of a JSON value: 0 for a scalar, 1 for ``[]`` or ``{"a": 1}``. Iterative,
    so any depth a parser produced is measured without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest
