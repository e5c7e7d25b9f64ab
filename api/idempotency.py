"""The Idempotency-Key header: its syntax, and the job ID a key maps to."""

from __future__ import annotations

import uuid

from api.problems import ProblemError

_KEY_NAMESPACE = uuid.UUID("6f1c2a4e-58d1-4c0b-9a35-5a9b3f0e7c21")


def parse_idempotency_key(header: str | None) -> str | None:
    """Accept the draft's structured-string form (``"abc"``) and a bare token (``abc``)."""
    if header is None:
        return None
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= 255:
        raise ProblemError(400, "Idempotency-Key must be 1-255 characters")
    if not key.isprintable():
        raise ProblemError(400, "Idempotency-Key must be printable characters")
    return key


def job_id_for_key(key: str) -> str:
    """The same key always names the same workflow ID, so Temporal itself de-duplicates starts."""
    return str(uuid.uuid5(_KEY_NAMESPACE, key))
