"""``POST /webhooks/vinted``: Vinted's signed webhooks; a sale goes to its listing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from api.deps import VintedSalesDep
from api.problems import PROBLEM
from domain.vinted_webhook import ITEM_SOLD, SIGNATURE_HEADER

router = APIRouter(tags=["webhooks"])

EXAMPLE_BODY = {
    "webhook_id": "5f0c2e8a-51f0-4e9d-b55f-1f4f1f9a1002",
    "event_type": ITEM_SOLD,
    "event_data": {
        "item_id": "0b8f6c1e-7d2a-4f7e-9a51-2c3d4e5f6a7b",
        "item_reference": "SKU12345-3f9a1c2b4d5e",
        "order_id": 9100000001,
    },
}


@router.post(
    "/webhooks/vinted",
    status_code=204,
    response_class=Response,
    responses={
        202: {"description": "Verified, and not a sale of one of our listings: ignored."},
        400: {"description": "A body that is not a Vinted event, or a malformed sale.", **PROBLEM},
        403: {
            "description": "No valid signature (or webhooks are off): nothing changed.",
            **PROBLEM,
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}, "example": EXAMPLE_BODY}
            },
        }
    },
    summary="Vinted reports an event (signed); a sale is counted by the SKU's listing.",
)
async def vinted_webhook(
    request: Request,
    sales: VintedSalesDep,
    # Declared for the OpenAPI document; the value is read from the raw header list.
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> Response:
    """``X-Vpi-Webhook-Hmac-Sha256: t=<unix>,v1=<hex HMAC-SHA256(VINTED_WEBHOOK_SIGNING_KEY,
    "<t>.<raw body>")>``, verified on the raw bytes, ``t`` within WEBHOOK_TOLERANCE_SECONDS.
    ``ITEM_SOLD`` with ``event_data`` ``{item_id, item_reference, order_id}`` is signalled to
    the listing of the reference's SKU: 204. Anything else verified is acknowledged: 202."""
    raw = await request.body()
    signed_at = sales.check_signature(request.headers.getlist(SIGNATURE_HEADER), raw)
    receipt = await sales.receive(raw, signed_at)
    if receipt.delivered is None:
        return JSONResponse({"status": "ignored", "reason": receipt.ignored}, status_code=202)
    return Response(status_code=204)
