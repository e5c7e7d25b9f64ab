"""``pay``: sign a payment confirmation with ``cli.sign`` and deliver it to a job or batch."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from cli.client import ApiClient
from cli.errors import CliError
from cli.sign import sign

_CHILD_SUFFIX = re.compile(r"-\d{5}$")


def is_batch_id(target_id: str) -> bool:
    """Batch IDs are ``batch-<uuid>``; their jobs are ``batch-<uuid>-00042`` (domain.batch)."""
    return target_id.startswith("batch-") and not _CHILD_SUFFIX.search(target_id)


def payment_data(raw: str | None) -> dict[str, Any]:
    """``--data`` as a JSON object, or a fresh ``{"payment_id": "cli-…"}``."""
    if raw is None:
        return {"payment_id": f"cli-{secrets.token_hex(8)}"}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise CliError(f"--data is not JSON: {err.msg} (column {err.colno})") from None
    if not isinstance(data, dict):
        raise CliError("--data must be a JSON object")
    return data


def signature_for(subject_id: str, data: dict[str, Any], secret: str | None) -> str:
    """Signed exactly as the API checks it (``cli.sign``); the secret is never echoed.

    No secret at all is ``cli.sign``'s own ``CliError`` ("no signing secret: …").
    """
    try:
        return sign(subject_id, data, secret=secret)
    except ValueError as err:
        raise CliError(f"signing secret: {err}") from None


def check_signing_secret(secret: str | None) -> None:
    """Raise now, not after ``submit --pay`` has submitted, when there is no usable key."""
    signature_for("preflight", {}, secret)


def pay(client: ApiClient, target_id: str, data: dict[str, Any], secret: str | None) -> str:
    """Deliver the signed input without waiting for the outcome; returns the status after it."""
    signature = signature_for(target_id, data, secret)
    if is_batch_id(target_id):
        body = {"batch_id": target_id, "data": data, "signature": signature}
        response = client.post(f"/batches/{target_id}/provide_input", body)
    else:
        body = {"job_id": target_id, "data": data, "signature": signature}
        response = client.post("/provide_input", body, {"Prefer": "wait=0"})
    return str(response.body.get("status", "accepted"))
