"""Codec server for the Temporal UI: ``POST /codec/encode`` and ``/codec/decode`` (admin).

The Temporal codec server protocol: the body is a ``Payloads`` message in protobuf JSON, so
metadata values and data are base64. The UI calls ``<endpoint>/decode`` from the browser, with
``Content-Type`` and ``X-Namespace`` headers, so both routes answer CORS (preflight included)
for the origins in ``CODEC_CORS_ORIGINS``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from temporalio.api.common.v1 import Payload

from api.deps import Codec, SettingsDep, require_admin
from api.problems import PROBLEM, ProblemError
from config.codec import PayloadDecryptionError, is_encrypted
from config.settings import Settings

router = APIRouter(prefix="/codec", tags=["codec"])
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
ALLOWED_METHODS = "POST, OPTIONS"
PREFLIGHT_MAX_AGE = "600"

PLAIN_PAYLOAD = {
    "metadata": {"encoding": "anNvbi9wbGFpbg=="},
    "data": "eyJza3UiOiJTS1UxMjM0NSJ9",
}
ENCRYPTED_PAYLOAD = {
    "metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA==", "encryption-key-id": "azIwMjY="},
    "data": "J/DgvwTQC7UDwJdUDE9rMMmWrq0wRrQjGj1PjdhztEETTIrsgf6McusAMJPRMNjiriGVMcsYTm7vFgswwti"
    "qweNibq+clVve",
}


class CodecPayload(BaseModel):
    """A ``temporal.api.common.v1.Payload`` in protobuf JSON."""

    # Other Payload fields of newer protocol versions (``externalPayloads``) pass through to
    # the protobuf parser, which rejects names the Payload message does not have.
    model_config = ConfigDict(extra="allow")

    metadata: dict[str, str] = Field(
        default_factory=dict, description="Metadata; each value is base64 (`encoding`, …)."
    )
    data: str = Field(default="", description="The payload bytes, base64.")


class CodecPayloads(BaseModel):
    """A ``temporal.api.common.v1.Payloads`` in protobuf JSON: the codec server's body."""

    model_config = ConfigDict(extra="forbid")

    payloads: list[CodecPayload] = Field(default_factory=list)


def cors_headers(request: Request, settings: Settings) -> dict[str, str]:
    """CORS response headers when the request's ``Origin`` is allowed, else only ``Vary``."""
    origin = request.headers.get("origin")
    if origin is None or origin not in settings.codec_cors_origins:
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        # For the UI's "include cross-origin credentials" option; origins are never a wildcard.
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def require_codec_admin(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[
        str | None, Header(description="`Bearer <ADMIN_TOKEN>`; missing or wrong -> 403.")
    ] = None,
) -> None:
    """``require_admin``, with the CORS headers on its 403 so a browser can read the reason."""
    try:
        require_admin(settings, authorization)
    except ProblemError as err:
        err.headers = {**(err.headers or {}), **cors_headers(request, settings)}
        raise


Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


async def _unchanged(payloads: Sequence[Payload]) -> list[Payload]:
    return list(payloads)


async def _decode_without_keys(payloads: Sequence[Payload]) -> list[Payload]:
    if any(is_encrypted(p) for p in payloads):
        raise PayloadDecryptionError(
            "payload is encrypted but PAYLOAD_ENCRYPTION_KEYS is not configured"
        )
    return list(payloads)


def _to_protobuf(body: CodecPayloads) -> list[Payload]:
    payloads: list[Payload] = []
    for index, item in enumerate(body.payloads):
        try:
            payloads.append(json_format.ParseDict(item.model_dump(), Payload()))
        except (json_format.Error, ValueError):
            # The parser's message can quote the value: never echo payload content.
            raise ProblemError(
                422,
                f"payloads[{index}] is not a Payload in protobuf JSON "
                "(metadata values and data in base64)",
                title="Invalid request",
            ) from None
    return payloads


async def _apply(transform: Transform, body: CodecPayloads, cors: dict[str, str]) -> JSONResponse:
    try:
        result = await transform(_to_protobuf(body))
    except PayloadDecryptionError as err:
        raise ProblemError(422, str(err), title="Cannot decrypt", headers=cors) from None
    except ProblemError as err:
        err.headers = {**(err.headers or {}), **cors}
        raise
    return JSONResponse({"payloads": [json_format.MessageToDict(p) for p in result]}, headers=cors)


RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Missing or wrong admin token.", **PROBLEM},
    422: {
        "description": "Not Payloads in protobuf JSON, or a payload cannot be decrypted.",
        **PROBLEM,
    },
}
BODY_DESCRIPTION = (
    "`temporal.api.common.v1.Payloads` in protobuf JSON: metadata values and data are base64."
)


@router.post(
    "/encode",
    response_model=CodecPayloads,
    responses=RESPONSES,
    dependencies=[Depends(require_codec_admin)],
    summary="Codec server: encrypt payloads with the first of PAYLOAD_ENCRYPTION_KEYS.",
    description="Without keys configured, the payloads come back unchanged.",
)
async def encode_payloads(
    request: Request,
    settings: SettingsDep,
    codec: Codec,
    body: Annotated[
        CodecPayloads,
        Body(
            description=BODY_DESCRIPTION,
            openapi_examples={
                "plain": {
                    "summary": "A json/plain payload",
                    "value": {"payloads": [PLAIN_PAYLOAD]},
                }
            },
        ),
    ],
) -> JSONResponse:
    transform = codec.encode if codec else _unchanged
    return await _apply(transform, body, cors_headers(request, settings))


@router.post(
    "/decode",
    response_model=CodecPayloads,
    responses=RESPONSES,
    dependencies=[Depends(require_codec_admin)],
    summary="Codec server: decrypt binary/encrypted payloads (the Temporal UI calls this).",
    description=(
        "Payloads without the `binary/encrypted` encoding come back unchanged. An encrypted "
        "payload whose key id is not configured is 422."
    ),
)
async def decode_payloads(
    request: Request,
    settings: SettingsDep,
    codec: Codec,
    body: Annotated[
        CodecPayloads,
        Body(
            description=BODY_DESCRIPTION,
            openapi_examples={
                "encrypted": {
                    "summary": "A payload encrypted with key id k2026",
                    "value": {"payloads": [ENCRYPTED_PAYLOAD]},
                },
                "plain": {
                    "summary": "A payload that is not encrypted (returned unchanged)",
                    "value": {"payloads": [PLAIN_PAYLOAD]},
                },
            },
        ),
    ],
) -> JSONResponse:
    transform = codec.decode if codec else _decode_without_keys
    return await _apply(transform, body, cors_headers(request, settings))


@router.options("/encode", include_in_schema=False)
@router.options("/decode", include_in_schema=False)
async def codec_preflight(request: Request, settings: SettingsDep) -> Response:
    """CORS preflight: browsers send it without credentials, so it needs no admin token."""
    origin = request.headers.get("origin")
    if origin is None:
        return Response(status_code=204, headers={"Allow": ALLOWED_METHODS})
    if origin not in settings.codec_cors_origins:
        raise ProblemError(
            403, f"origin {origin!r} is not in CODEC_CORS_ORIGINS", headers={"Vary": "Origin"}
        )
    return Response(
        status_code=204,
        headers={
            **cors_headers(request, settings),
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        },
    )
