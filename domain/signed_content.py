"""The one definition of what a payment-confirmation signature covers."""

from __future__ import annotations

from typing import Any

from domain.canonical import canonical_json


def signed_content(subject_id: str, data: Any) -> bytes:
    """Bytes signed for ``/provide_input``: ``subject_id + "." + JCS(data)`` in UTF-8.

    ``subject_id`` is a job ID, or a batch ID for ``/batches/{id}/provide_input``.
    """
    return subject_id.encode("utf-8") + b"." + canonical_json(data)


def webhook_signed_content(webhook_id: str, timestamp: str, raw_body: bytes) -> bytes:
    """Standard Webhooks: ``{webhook-id}.{webhook-timestamp}.{raw body}`` (body bytes untouched)."""
    return webhook_id.encode("utf-8") + b"." + timestamp.encode("utf-8") + b"." + raw_body
