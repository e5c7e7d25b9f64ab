"""The codec server routes for the Temporal UI: admin token, protocol JSON, CORS."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from api.app import create_app
from config.codec import EncryptionCodec
from config.settings import Settings
from tests.api.helpers import assert_problem
from tests.codec.keys import key_entry, new_key

ADMIN_TOKEN = "codec-admin-token-for-tests"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
UI_ORIGIN = "http://127.0.0.1:8233"
OLD_KEY, NEW_KEY = new_key(), new_key()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


PLAIN = {"metadata": {"encoding": _b64(b"json/plain")}, "data": _b64(b'{"sku":"SKU777"}')}


def _settings(keys: str) -> Settings:
    return Settings(admin_token=ADMIN_TOKEN, payload_encryption_keys=keys)


@pytest.fixture
async def codec_api(dev_client: Client) -> AsyncIterator[httpx.AsyncClient]:
    settings = _settings(f"{key_entry('new', NEW_KEY)} {key_entry('old', OLD_KEY)}")
    async with _served(dev_client, settings) as client:
        yield client


@pytest.fixture
async def keyless_api(dev_client: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with _served(dev_client, _settings("")) as client:
        yield client


@asynccontextmanager
async def _served(temporal: Client, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """create_app with its lifespan run, spoken to over ASGITransport."""
    app = create_app(client=temporal, settings=settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.mark.parametrize("route", ["/codec/encode", "/codec/decode"])
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN_TOKEN}]
)
async def test_codec_routes_need_the_admin_token(
    codec_api: httpx.AsyncClient, route: str, headers: dict[str, str]
):
    response = await codec_api.post(route, json={"payloads": [PLAIN]}, headers=headers)
    assert_problem(response, 403)
    assert "payloads" not in response.json()


async def test_encode_then_decode_round_trips_through_the_routes(codec_api: httpx.AsyncClient):
    encoded = await codec_api.post("/codec/encode", json={"payloads": [PLAIN, PLAIN]}, headers=AUTH)
    assert encoded.status_code == 200, encoded.text
    assert encoded.headers["content-type"] == "application/json"
    payloads = encoded.json()["payloads"]
    assert len(payloads) == 2
    for payload in payloads:
        assert payload["metadata"]["encoding"] == _b64(b"binary/encrypted")
        assert payload["metadata"]["encryption-key-id"] == _b64(b"new"), "the first key encrypts"
        assert b"SKU777" not in base64.b64decode(payload["data"])

    decoded = await codec_api.post("/codec/decode", json={"payloads": payloads}, headers=AUTH)
    assert decoded.status_code == 200, decoded.text
    assert decoded.json() == {"payloads": [PLAIN, PLAIN]}


async def test_decode_reads_the_old_key_and_passes_plain_payloads_through(
    codec_api: httpx.AsyncClient,
):
    """What the worker wrote with the old key, and what was never encrypted, both decode."""
    (old,) = await EncryptionCodec([("old", OLD_KEY)]).encode(
        [json_format.ParseDict(PLAIN, Payload())]
    )
    body = {"payloads": [json_format.MessageToDict(old), PLAIN]}
    response = await codec_api.post("/codec/decode", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {"payloads": [PLAIN, PLAIN]}


async def test_decode_with_an_unknown_key_id_is_422_naming_it(codec_api: httpx.AsyncClient):
    (foreign,) = await EncryptionCodec([("elsewhere", new_key())]).encode(
        [json_format.ParseDict(PLAIN, Payload())]
    )
    body = {"payloads": [json_format.MessageToDict(foreign)]}
    problem = assert_problem(await codec_api.post("/codec/decode", json=body, headers=AUTH), 422)
    assert "'elsewhere'" in problem["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"payloads": [{"metadata": {"encoding": 5}}]},
        {"payloads": [{"datum": "AAAA"}]},
        {"payload": []},
        {"payloads": "x"},
    ],
)
async def test_bodies_that_are_not_payloads_json_are_422(codec_api: httpx.AsyncClient, body):
    assert_problem(await codec_api.post("/codec/decode", json=body, headers=AUTH), 422)


async def test_without_keys_encode_is_identity_and_decode_passes_plain_through(
    keyless_api: httpx.AsyncClient,
):
    for route in ("/codec/encode", "/codec/decode"):
        response = await keyless_api.post(route, json={"payloads": [PLAIN]}, headers=AUTH)
        assert response.status_code == 200, response.text
        assert response.json() == {"payloads": [PLAIN]}
    (encrypted,) = await EncryptionCodec([("k1", new_key())]).encode(
        [json_format.ParseDict(PLAIN, Payload())]
    )
    body = {"payloads": [json_format.MessageToDict(encrypted)]}
    problem = assert_problem(await keyless_api.post("/codec/decode", json=body, headers=AUTH), 422)
    assert "PAYLOAD_ENCRYPTION_KEYS is not configured" in problem["detail"]


@pytest.mark.parametrize("route", ["/codec/encode", "/codec/decode"])
async def test_cors_preflight_from_the_ui_origin_needs_no_token(
    codec_api: httpx.AsyncClient, route: str
):
    """What a browser sends before the UI's POST (Content-Type and X-Namespace headers)."""
    response = await codec_api.options(
        route,
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert response.status_code == 204, response.text
    assert response.headers["access-control-allow-origin"] == UI_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type", "x-namespace"} <= allowed
    assert response.headers["vary"] == "Origin"


async def test_cors_preflight_from_another_origin_is_refused(codec_api: httpx.AsyncClient):
    response = await codec_api.options(
        "/codec/decode",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert_problem(response, 403)
    assert "access-control-allow-origin" not in response.headers


async def test_responses_carry_cors_headers_for_the_ui_even_when_403(
    codec_api: httpx.AsyncClient,
):
    headers = {"Origin": "http://localhost:8233", "X-Namespace": "default"}
    ok = await codec_api.post(
        "/codec/decode", json={"payloads": [PLAIN]}, headers={**headers, **AUTH}
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "http://localhost:8233"
    denied = await codec_api.post("/codec/decode", json={"payloads": [PLAIN]}, headers=headers)
    assert_problem(denied, 403)
    assert denied.headers["access-control-allow-origin"] == "http://localhost:8233"
    other = await codec_api.post(
        "/codec/decode",
        json={"payloads": [PLAIN]},
        headers={"Origin": "https://evil.example", **AUTH},
    )
    assert "access-control-allow-origin" not in other.headers


async def test_codec_routes_are_documented_with_examples(codec_api: httpx.AsyncClient):
    schema = (await codec_api.get("/openapi.json")).json()
    for route in ("/codec/encode", "/codec/decode"):
        operation = schema["paths"][route]["post"]
        assert operation["summary"]
        examples = operation["requestBody"]["content"]["application/json"]["examples"]
        assert all(e["value"]["payloads"] for e in examples.values())
        assert "options" not in schema["paths"][route]
