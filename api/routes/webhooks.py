"""Standard Webhooks: ``POST /webhooks/payments`` confirms a job's payment."""

from __future__ import annotations

import json
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from api.deps import Jobs, PaymentsDep, SettingsDep
from api.problems import PROBLEM, ProblemError
from api.services.jobs import utcnow
from domain.canonical import MAX_JSON_DEPTH, canonical_json, json_depth
from domain.messages import SignedInput
from domain.signatures import join_signature_headers, webhook_signed_content

router = APIRouter(tags=["webhooks"])
PAYMENT_CONFIRMED = "payment.confirmed"
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9_\-:]{1,255}", re.ASCII)
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
MAX_SIGNATURE_HEADER = 4096

EXAMPLE_BODY = {
    "type": PAYMENT_CONFIRMED,
    "timestamp": "2026-11-21T10:00:00Z",
    "data": {"job_id": "4b3f0c2e-8a51-4f0e-9d55-2f1f4f1f9a10", "payment_id": "pay_123"},
}


def _one_header(request: Request, name: str) -> str:
    """The single value of a header that must appear exactly once (else 400)."""
    values = request.headers.getlist(name)
    if not values:
        raise ProblemError(400, "webhook-id, webhook-timestamp and webhook-signature are required")
    if len(values) > 1:
        raise ProblemError(400, f"{name} must appear once, not {len(values)} times")
    return values[0]


def _signature_list(request: Request) -> str:
    """Several ``webhook-signature`` lines are one space-separated list (RFC 9110 §5.3)."""
    values = request.headers.getlist("webhook-signature")
    if not values:
        raise ProblemError(400, "webhook-id, webhook-timestamp and webhook-signature are required")
    joined = join_signature_headers(value.strip() for value in values)
    if len(joined) > MAX_SIGNATURE_HEADER:
        raise ProblemError(400, f"webhook-signature is longer than {MAX_SIGNATURE_HEADER} bytes")
    return joined


def _check_timestamp(value: str, tolerance: int) -> None:
    if not _TIMESTAMP.fullmatch(value):
        raise ProblemError(400, "webhook-timestamp must be integer Unix seconds (ASCII digits)")
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
    jobs: Jobs,
    payments: PaymentsDep,
    settings: SettingsDep,
    # Declared for the OpenAPI document; the values are read from the raw header list.
    webhook_id: Annotated[str | None, Header(alias="webhook-id")] = None,
    webhook_timestamp: Annotated[str | None, Header(alias="webhook-timestamp")] = None,
    webhook_signature: Annotated[str | None, Header(alias="webhook-signature")] = None,
) -> Response:
    """Signed content is ``{webhook-id}.{webhook-timestamp}.{raw body}``, verified on the raw
    bytes; ``v1`` (HMAC) and ``v1a`` (Ed25519) with every configured key; the timestamp must be
    within ±5 minutes. A repeated ``webhook-id`` is acknowledged (204) and applied once."""
    message_id = _one_header(request, "webhook-id")
    timestamp = _one_header(request, "webhook-timestamp")
    signature = _signature_list(request)
    if not _WEBHOOK_ID.fullmatch(message_id):
        raise ProblemError(400, "webhook-id must be 1-255 characters of [A-Za-z0-9_-:]")
    _check_timestamp(timestamp, settings.webhook_tolerance_seconds)
    raw = await request.body()
    payments.check_webhook_signature(webhook_signed_content(message_id, timestamp, raw), signature)
    job_id, data = _parse_event(raw)
    await jobs.confirm_payment(
        job_id,
        SignedInput(
            data=data,
            signature=signature,
            received_at=utcnow(),
            source="webhook",
            webhook_id=message_id,
            webhook_timestamp=timestamp,
            raw_body=raw.decode("utf-8"),
        ),
    )
    return Response(status_code=204)
