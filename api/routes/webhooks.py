"""Standard Webhooks: ``POST /webhooks/payments`` confirms a job's payment."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response

from api.dependencies import get_gateway
from api.gateway import JobGateway
from api.problems import ProblemError
from domain.canonical import MAX_JSON_DEPTH, canonical_json, json_depth
from domain.messages import SignedInput
from domain.signatures import webhook_signed_content

router = APIRouter(tags=["webhooks"])
PAYMENT_CONFIRMED = "payment.confirmed"
_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9_\-:]{1,255}$")
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}

EXAMPLE_BODY = {
    "type": PAYMENT_CONFIRMED,
    "timestamp": "2026-11-21T10:00:00Z",
    "data": {"job_id": "4b3f0c2e-8a51-4f0e-9d55-2f1f4f1f9a10", "payment_id": "pay_123"},
}


def _check_timestamp(value: str, tolerance: int) -> None:
    if not value.isdigit():
        raise ProblemError(400, "webhook-timestamp must be integer Unix seconds")
    skew = int(value) - int(time.time())
    if skew < -tolerance:
        raise ProblemError(400, f"webhook-timestamp is too old (more than {tolerance} s)")
    if skew > tolerance:
        raise ProblemError(400, f"webhook-timestamp is too new (more than {tolerance} s ahead)")


def _parse_event(raw: bytes) -> tuple[str, dict[str, Any]]:
    try:
        event = json.loads(raw.decode("utf-8"))
        canonical_json(event)  # NaN, huge integers: not JSON we can keep as evidence
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProblemError(400, "webhook body is not valid UTF-8 JSON") from None
    if json_depth(event) > MAX_JSON_DEPTH:
        raise ProblemError(400, f"webhook body must not nest deeper than {MAX_JSON_DEPTH} levels")
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise ProblemError(400, 'webhook body must be {"type": …, "data": {"job_id": …}}')
    if event.get("type") != PAYMENT_CONFIRMED:
        raise ProblemError(400, f"unsupported webhook type {event.get('type')!r}")
    data: dict[str, Any] = event["data"]
    job_id = data.get("job_id")
    if not isinstance(job_id, str) or not 1 <= len(job_id) <= 255:
        raise ProblemError(400, "data.job_id must be a string of 1-255 characters")
    return job_id, data


@router.post(
    "/webhooks/payments",
    status_code=204,
    response_class=Response,
    responses={
        400: {"description": "Missing/invalid headers, stale timestamp or bad body.", **PROBLEM},
        403: {"description": "No valid signature.", **PROBLEM},
        404: {"description": "Unknown job.", **PROBLEM},
        409: {"description": "The job is not awaiting payment.", **PROBLEM},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}, "example": EXAMPLE_BODY}
            },
        }
    },
    summary="A payment service confirms a job's payment (Standard Webhooks signature).",
)
async def payment_webhook(
    request: Request,
    gateway: Annotated[JobGateway, Depends(get_gateway)],
    webhook_id: Annotated[str | None, Header(alias="webhook-id")] = None,
    webhook_timestamp: Annotated[str | None, Header(alias="webhook-timestamp")] = None,
    webhook_signature: Annotated[str | None, Header(alias="webhook-signature")] = None,
) -> Response:
    """Signed content is ``{webhook-id}.{webhook-timestamp}.{raw body}``, verified on the raw
    bytes; ``v1`` (HMAC) and ``v1a`` (Ed25519) with every configured key; the timestamp must be
    within ±5 minutes. A repeated ``webhook-id`` is acknowledged (204) and applied once."""
    if not webhook_id or not webhook_timestamp or not webhook_signature:
        raise ProblemError(400, "webhook-id, webhook-timestamp and webhook-signature are required")
    if not _WEBHOOK_ID.match(webhook_id):
        raise ProblemError(400, "webhook-id must be 1-255 characters of [A-Za-z0-9_-:]")
    _check_timestamp(webhook_timestamp, gateway.settings.webhook_tolerance_seconds)
    raw = await request.body()
    content = webhook_signed_content(webhook_id, webhook_timestamp, raw)
    if len(webhook_signature) > 4096 or not gateway.signature_valid(content, webhook_signature):
        raise ProblemError(403, "no valid webhook signature")
    job_id, data = _parse_event(raw)
    await gateway.confirm_payment(
        job_id,
        SignedInput(
            data=data,
            signature=webhook_signature,
            received_at=datetime.now(UTC),
            source="webhook",
            webhook_id=webhook_id,
            webhook_timestamp=webhook_timestamp,
            raw_body=raw.decode("utf-8"),
        ),
    )
    return Response(status_code=204)
