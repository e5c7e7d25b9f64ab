"""Job and batch IDs: how they are made, and what an ID the gateway could have made looks like."""

from __future__ import annotations

import re
import uuid

_KEY_NAMESPACE = uuid.UUID("6f1c2a4e-58d1-4c0b-9a35-5a9b3f0e7c21")

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,254}", re.ASCII)
"""Every ID the gateway makes matches (a UUID, ``batch-<uuid>``, ``batch-<uuid>-00042``), and so
does any sensible workflow ID started directly on Temporal. Anything else cannot name a job:
the gateway answers 404 without asking Temporal (issue 11: any id on any route)."""


def is_plausible_id(value: str) -> bool:
    """True when ``value`` could be a job or batch ID (whole value, ASCII only)."""
    return ID_PATTERN.fullmatch(value) is not None


def new_job_id() -> str:
    return str(uuid.uuid4())


def job_id_for_key(key: str) -> str:
    """The same Idempotency-Key always names the same workflow ID, so Temporal itself
    de-duplicates starts (while it keeps the execution: README, "Idempotency")."""
    return str(uuid.uuid5(_KEY_NAMESPACE, key))


def new_batch_id() -> str:
    return f"batch-{uuid.uuid4()}"


def batch_id_for_key(key: str) -> str:
    """A batch's ID for an Idempotency-Key; never equal to a job's for the same key."""
    return f"batch-{job_id_for_key('batch:' + key)}"
