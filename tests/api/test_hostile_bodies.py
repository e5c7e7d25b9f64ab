"""Issue 6, item 6 (hostile input): every POST route of the real gateway (uvicorn, real dev
server) against oversized, deeply nested, non-UTF-8 and otherwise hostile bodies.

Routes come from the served ``/openapi.json``, not from a list here: a new POST route is
covered as soon as it exists (and fails the test until it has a valid body to mutate in
``base_bodies()``). Every answer must be below 500; every error ``application/problem+json``
with a non-empty ``detail`` and ``status`` equal to the HTTP status. Bodies that can carry a
valid signature (``/provide_input``, batch ``provide_input``, the webhook) are signed after
mutation, so the hostile value gets past the signature check into the code behind it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import select
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from temporalio.worker import Worker

from api.app import create_app
from config.settings import Settings
from domain.canonical import MAX_JSON_DEPTH, json_depth
from domain.marketplaces import JOB_TASK_QUEUE
from domain.signatures import sign_hmac, webhook_signed_content
from domain.vinted_webhook import ITEM_SOLD, SIGNATURE_HEADER, webhook_signature
from tests.api.conftest import ADMIN_TOKEN, Keys
from tests.api.helpers import PAYMENT, assert_problem, check_problem_shape
from tests.factories import start_job_body
from tests.temporal_binaries import start_dev_env
from workflows.batch import BatchWorkflow
from workflows.job import JobWorkflow

SIGNATURE = "__SIGNATURE__"
"""Placeholder replaced, after mutation, by a valid signature of the body's subject and data."""

ROUTES_AT_LEAST = {
    "/start_job",
    "/provide_input",
    "/webhooks/payments",
    "/webhooks/vinted",
    "/batches",
    "/batches/{batch_id}/provide_input",
    "/batches/{batch_id}/cancel",
    "/jobs/{job_id}/cancel",
    "/jobs/{job_id}/retry",
    "/codec/encode",
    "/codec/decode",
}
DEEP = 100_000


def base_bodies(job_id: str, batch_id: str) -> dict[str, Any]:
    """A valid body per route template, the starting point of the mutations."""
    payload = {"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "eyJza3UiOiJTS1UxIn0="}
    return {
        "/start_job": start_job_body(),
        # Issue 16: a bulk retry whose filter matches no job (a SKU no job has).
        "/jobs/bulk": {"action": "retry", "filter": {"sku": "NOSUCHSKU16"}, "reason": "hostile"},
        "/provide_input": {"job_id": job_id, "data": dict(PAYMENT), "signature": SIGNATURE},
        "/webhooks/payments": {
            "type": "payment.confirmed",
            "timestamp": "2026-11-21T10:00:00Z",
            "data": {"job_id": job_id, "payment_id": "pay_123"},
        },
        "/webhooks/vinted": {
            "webhook_id": "5f0c2e8a-51f0-4e9d-b55f-1f4f1f9a1002",
            "event_type": ITEM_SOLD,
            "event_data": {
                "item_id": "0b8f6c1e-7d2a-4f7e-9a51-2c3d4e5f6a7b",
                "item_reference": "NOLISTING1-3f9a1c2b4d5e",
                "order_id": 9100000001,
            },
        },
        "/batches": {"jobs": [start_job_body()]},
        "/batches/{batch_id}/provide_input": {
            "batch_id": batch_id,
            "data": dict(PAYMENT),
            "signature": SIGNATURE,
        },
        "/jobs/{job_id}/cancel": {"reason": "hostile input test"},
        "/jobs/{job_id}/retry": {"reason": "hostile input test"},
        "/listings/{sku}/delist": {"marketplaces": ["etsy"], "reason": "hostile input test"},
        "/codec/encode": {"payloads": [payload]},
        "/codec/decode": {"payloads": [payload]},
    }


# Bodies that are not JSON at all, whatever the route: 400 (or 422 where the route reads
# no JSON body).
NOT_JSON: dict[str, bytes] = {
    "unclosed [ x 100 000": b"[" * DEEP,
    'unclosed {"a": x 100 000': b'{"a":' * DEEP,
    "balanced [] x 100 000": b"[" * DEEP + b"]" * DEEP,
    'balanced {"a": x 100 000': b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "BOM and invalid bytes": b"\xff\xfe\xfd\xfc{}",
    "invalid UTF-8 in a string": b'{"a": "\xff\xfe"}',
    "overlong UTF-8": b'{"a": "\xc0\xaf"}',
    "UTF-8-encoded surrogate": b'{"a": "\xed\xa0\x80"}',
    "truncated UTF-8": b'{"a": "\xe2\x82"}',
    "Latin-1": '{"a": "caf\u00e9"}'.encode("latin-1"),
    "NUL bytes": b"\x00" * 64,
    "raw NUL in a string": b'{"a": "x\x00y"}',
    "10**5000": b"1" + b"0" * 5000,
    "trailing garbage": b'{"a": 1} x',
    "truncated": b'{"a": ',
    "single quotes": b"{'a': 1}",
}
# JSON texts that parse (Python's json) but are no valid body anywhere.
ODD_JSON: dict[str, bytes] = {
    "null": b"null",
    "number": b"0",
    "1e400": b"1e400",
    "NaN": b"NaN",
    "-Infinity": b"-Infinity",
    "string": b'"x"',
    "lone surrogate": b'"\\ud800"',
    "array": b"[]",
    "empty object": b"{}",
    "duplicate keys": b'{"a": 1, "a": 2}',
    "surrogate key": b'{"\\ud800": 1}',
    "NUL key": b'{"\\u0000": 1}',
}
# Replacements for one value of a valid body: raw JSON text, or None for invalid JSON bytes.
IN_A_STRING: dict[str, bytes] = {
    "NUL escaped": b'"a\\u0000b"',
    "raw NUL": b'"a\x00b"',
    "lone high surrogate": b'"\\ud800"',
    "lone low surrogate": b'"x\\udfff"',
    "reversed surrogate pair": b'"\\udc00\\ud800"',
    "invalid UTF-8": b'"\xff\xfe"',
    "overlong UTF-8": b'"\xc0\xaf"',
    "UTF-8-encoded surrogate": b'"\xed\xa0\x80"',
    "bidi and zero-width": '"\u202e\u200b\ufeff"'.encode(),
    "100 000 characters": b'"' + b"x" * 100_000 + b'"',
}
ANY_VALUE: dict[str, bytes] = {
    "1e400": b"1e400",
    "-1e400": b"-1e400",
    "1e-400": b"1e-400",
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "10**5000": b"1" + b"0" * 5000,
    "10**4000": b"1" + b"0" * 4000,
    "2**53 + 1": b"9007199254740993",
    "-0": b"-0",
    "null": b"null",
    "true": b"true",
    "empty object": b"{}",
    "empty array": b"[]",
    "[] nested 300 deep": b"[" * 300 + b"]" * 300,
    '{"a": nested 300 deep': b'{"a":' * 300 + b"1" + b"}" * 300,
    "[] nested 100 000 deep": b"[" * DEEP + b"]" * DEEP,
}
WRONG_CONTENT_TYPES = [
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/xml",
    "application/json; charset=utf-16",
]


@dataclass
class Route:
    template: str
    path: str
    base: Any  # a valid body; None when the route takes none
    signs_raw_body: bool  # Standard Webhooks: the signature covers the raw bytes
    signs_vinted: bool = False  # Vinted's webhook signature, over the raw bytes too
    body_required: bool = False


@dataclass
class Tally:
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


# --- the routes, discovered from the schema ----------------------------------------------


@pytest.fixture(scope="module")
def client(served_api: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served_api, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def routes(client: httpx.Client) -> list[Route]:
    def start_job() -> str:
        response = client.post("/start_job", json=start_job_body())
        assert response.status_code == 201, response.text
        return str(response.json()["job_id"])

    def create_batch() -> str:
        response = client.post("/batches", json={"jobs": [start_job_body()]})
        assert response.status_code in (201, 202), response.text
        return str(response.json()["batch_id"])

    job_id, victim_job = start_job(), start_job()
    batch_id, victim_batch = create_batch(), create_batch()
    bodies = base_bodies(job_id, batch_id)
    schema = client.get("/openapi.json").json()
    found: list[Route] = []
    for template, operations in schema["paths"].items():
        post = operations.get("post")
        if post is None:
            continue
        # Admin actions get their own job and batch, so the other routes keep theirs.
        action = template.endswith(("/cancel", "/retry"))
        path = (
            template.replace("{job_id}", victim_job)
            .replace("{batch_id}", victim_batch if action else batch_id)
            .replace("{sku}", "NOLISTING1")
        )
        assert "{" not in path, f"{template}: fill its path parameters here"
        if "requestBody" in post:
            assert template in bodies, f"{template}: add a valid body to base_bodies()"
        header_names = {
            p["name"].lower() for p in post.get("parameters", []) if p["in"] == "header"
        }
        found.append(
            Route(
                template,
                path,
                bodies.get(template),
                signs_raw_body="webhook-signature" in header_names,
                signs_vinted=SIGNATURE_HEADER.lower() in header_names,
                body_required=bool(post.get("requestBody", {}).get("required")),
            )
        )
    assert ROUTES_AT_LEAST <= {route.template for route in found}
    required = {route.template for route in found if route.body_required}
    assert {"/start_job", "/provide_input", "/webhooks/payments", "/batches"} <= required
    return found


# --- sending -------------------------------------------------------------------------------


def sign_body(raw: bytes, keys: Keys) -> bytes:
    """Replace the signature placeholder with a valid signature of the body's subject and data
    when the body parses (Python's json, as the gateway does), else with a well-formed wrong
    one."""
    placeholder = json.dumps(SIGNATURE).encode()
    if placeholder not in raw:
        return raw
    signature = "v1," + base64.b64encode(b"\x00" * 32).decode()
    try:
        body = json.loads(raw)
        subject = body.get("job_id") or body.get("batch_id")
        signature = keys.sign(subject, body["data"])
    except Exception:  # any body we cannot sign gets the wrong signature
        pass
    return raw.replace(placeholder, json.dumps(signature).encode())


def headers_for(route: Route, raw: bytes, keys: Keys, content_type: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if route.signs_vinted:  # the served gateway's key: the simulator's default
        key = Settings().vinted_webhook_signing_key.get_secret_value()
        headers[SIGNATURE_HEADER] = webhook_signature(key, raw, time.time())
    if route.signs_raw_body:
        webhook_id, timestamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
        content = webhook_signed_content(webhook_id, timestamp, raw)
        headers |= {
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign_hmac(content, keys.hmac_key(0)),
        }
    return headers


async def send(
    client: httpx.AsyncClient,
    route: Route,
    raw: bytes,
    keys: Keys,
    tally: Tally,
    *,
    content_type: str | None = "application/json",
    what: str,
) -> httpx.Response:
    """POST one body; a response that is 5xx or a malformed error is recorded in ``tally``
    (all of them are reported at the end, not only the first)."""
    raw = sign_body(raw, keys)
    response = await client.post(
        route.path, content=raw, headers=headers_for(route, raw, keys, content_type)
    )
    tally.add(response.status_code)
    where = f"POST {route.template} [{what}, {content_type}] -> {response.status_code}"
    try:
        check_problem_shape(
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
            where,
        )
    except (AssertionError, ValueError) as failure:
        tally.failures.append(str(failure).splitlines()[0])
    return response


# --- mutations of a valid body -------------------------------------------------------------


def _positions(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _positions(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _positions(item, (*path, index))
    else:
        yield path, value


def _with(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _with(value[path[0]], path[1:], new)
    return copy


def mutations(base: Any) -> Iterator[tuple[str, bytes]]:
    """Every leaf of ``base`` replaced by each hostile value (strings: also the in-string
    ones); every object given a duplicate of its first key."""
    marker = "\u0001HOSTILE\u0001"
    marker_json = json.dumps(marker).encode()
    for path, value in _positions(base):
        if value == SIGNATURE:
            continue
        where = ".".join(map(str, path))
        template = json.dumps(_with(base, path, marker)).encode()
        replacements = dict(ANY_VALUE)
        if isinstance(value, str):
            replacements |= IN_A_STRING
        for name, raw in replacements.items():
            yield f"{where} = {name}", template.replace(marker_json, raw)
    for path, value in [((), base), *_containers(base)]:
        if isinstance(value, dict) and value:
            first = next(iter(value))
            duplicated = {**value, first: marker}
            text = json.dumps(_with(base, path, duplicated)).encode()
            # {"k": <original>, ...} followed by a second "k" later in the same object
            repeat = json.dumps(first).encode() + b": " + json.dumps(value[first]).encode()
            yield (
                f"{'.'.join(map(str, path)) or 'body'}: duplicate key {first!r}",
                text.replace(marker_json, json.dumps("other").encode() + b", " + repeat),
            )


def _containers(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, item in items:
        if isinstance(item, dict | list):
            yield (*path, key), item
            yield from _containers(item, (*path, key))


# --- raw HTTP, for framing the client library will not produce -----------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_exchange(base_url: str, head: bytes, body: Iterable[bytes]) -> RawResponse:
    """Send ``head`` then the body pieces, stopping as soon as the server answers (it may
    answer and close before the body is complete), and read one response."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(head)
        try:
            for piece in body:
                if select.select([sock], [], [], 0)[0]:
                    break
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed without a response: {received!r}"
            received += chunk
        head_bytes, _, rest = received.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return RawResponse(int(lines[0].split()[1]), headers, rest[:length])


def request_head(route: Route, extra: list[str]) -> bytes:
    lines = [
        f"POST {route.path} HTTP/1.1",
        "Host: hostile.test",
        "Content-Type: application/json",
        f"Authorization: Bearer {ADMIN_TOKEN}",
        *extra,
    ]
    if route.signs_vinted:  # a well-formed header, so the body is read (then 403)
        lines.append(f"{SIGNATURE_HEADER}: t={int(time.time())},v1={'0' * 64}")
    if route.signs_raw_body:  # well-formed headers, so the body is read (then 403)
        lines += [
            f"webhook-id: msg_{uuid.uuid4().hex}",
            f"webhook-timestamp: {int(time.time())}",
            "webhook-signature: v1," + base64.b64encode(b"\x00" * 32).decode(),
        ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(total: int, piece: int = 65536, filler: bytes = b" ") -> Iterator[bytes]:
    """``total`` bytes in HTTP/1.1 chunked encoding (no Content-Length)."""
    sent = 0
    while sent < total:
        size = min(piece, total - sent)
        yield b"%x\r\n" % size + filler * size + b"\r\n"
        sent += size
    yield b"0\r\n\r\n"


def check_raw(response: RawResponse, where: str) -> None:
    check_problem_shape(
        response.status, response.headers.get("content-type", ""), response.body, where
    )


# --- the tests -----------------------------------------------------------------------------


async def test_hostile_bodies_on_every_post_route(
    served_api_with_worker: str, routes: list[Route], keys: Keys, session_worker: None
) -> None:
    """Issue 6: not JSON (deep nesting, invalid or non-UTF-8 bytes, NUL, 10**5000) -> 400/422;
    odd JSON, wrong or missing Content-Type, an empty body, and a valid body with one value
    replaced by NUL, lone surrogates, invalid UTF-8, 1e400, NaN, 10**5000, 300 or 100 000
    levels of nesting, or a duplicated key -> never 5xx, errors problem+json. A worker runs,
    so what gets through is carried out (cancelled, paid, published) like in production."""
    tally = Tally()
    async with httpx.AsyncClient(base_url=served_api_with_worker, timeout=60) as client:
        for route in routes:
            expects_json = route.base is not None
            for name, raw in NOT_JSON.items():
                response = await send(client, route, raw, keys, tally, what=name)
                if expects_json and response.status_code not in (400, 422):
                    tally.failures.append(f"{route.template} [{name}]: {response.status_code}")
            for name, raw in ODD_JSON.items():
                await send(client, route, raw, keys, tally, what=name)
            response = await send(client, route, b"", keys, tally, what="empty body")
            if route.body_required and response.status_code not in (400, 422):
                tally.failures.append(f"{route.template} [empty body]: {response.status_code}")
            if route.base is None:
                continue
            valid = sign_body(json.dumps(route.base).encode(), keys)
            for content_type in WRONG_CONTENT_TYPES:
                await send(
                    client, route, valid, keys, tally, content_type=content_type, what="valid"
                )
                await send(client, route, b"", keys, tally, content_type=content_type, what="empty")
            utf16 = json.dumps(route.base).encode("utf-16")
            await send(client, route, utf16, keys, tally, what="valid body in UTF-16")
            for name, raw in mutations(route.base):
                await send(client, route, raw, keys, tally, what=name)
    print(
        f"\nhostile bodies: {tally.total} requests over {len(routes)} POST routes, "
        f"statuses {dict(sorted(tally.statuses.items()))}, 5xx: "
        f"{sum(n for s, n in tally.statuses.items() if s >= 500)}"
    )
    assert not tally.failures, f"{len(tally.failures)} failures:\n" + "\n".join(tally.failures[:40])


def test_bodies_over_the_limit_are_413_on_every_post_route(
    served_api: str, routes: list[Route], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 6: past each route's limit (learnt from the 413 itself: 1 MiB, the codec and batch
    routes more) -> 413 problem+json, whether Content-Length announces it (nothing read) or a
    chunked body without Content-Length streams it; a body of exactly the limit is let in.
    Regression: the webhook, which reads its raw body itself, got the body cut short by the
    limit as an unhandled ClientDisconnect, logged as an error with a traceback (a 500 the
    client never saw, since the 413 had been sent)."""
    caplog.set_level(logging.INFO)
    tried = 0
    for route in routes:
        announce = raw_exchange(
            served_api, request_head(route, ["Content-Length: 10000000000000"]), []
        )
        check_raw(announce, f"{route.template}: Content-Length 10**13")
        assert announce.status == 413, route.template
        limit = int(re.search(r"larger than (\d+) bytes", json.loads(announce.body)["detail"])[1])
        assert limit >= 1_048_576

        over = raw_exchange(served_api, request_head(route, [f"Content-Length: {limit + 1}"]), [])
        check_raw(over, f"{route.template}: Content-Length limit + 1")
        assert over.status == 413, route.template

        streamed = raw_exchange(
            served_api, request_head(route, ["Transfer-Encoding: chunked"]), chunked(limit + 1)
        )
        check_raw(streamed, f"{route.template}: chunked limit + 1")
        if route.base is not None:  # a route without a body never reads it: nothing to limit
            assert streamed.status == 413, route.template

        exact = raw_exchange(
            served_api,
            request_head(route, [f"Content-Length: {limit}"]),
            [b"{}", b" " * (limit - 2)],
        )
        check_raw(exact, f"{route.template}: exactly the limit")
        assert exact.status != 413, route.template
        tried += 4
    print(f"\nbody limits: {tried} requests over {len(routes)} POST routes")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def test_lying_framing_never_gets_a_body_past_the_limit(
    served_api: str, routes: list[Route], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 6: a Content-Length smaller than what follows, or both Content-Length and
    chunked (request smuggling), never gets more than Content-Length bytes to the app: the
    HTTP server (uvicorn) rejects the rest as a malformed request with 400 and closes. That
    400 is uvicorn's own ``text/plain`` (written before any app code runs); when the app
    answers the declared part first, its answer is problem+json."""
    server_rejections = 0
    for route in routes:
        cases: list[tuple[str, list[str], Callable[[], Iterable[bytes]]]] = [
            (
                "Content-Length 16, then 2 MiB",
                ["Content-Length: 16"],
                lambda: [b"{}" + b" " * (2 * 1_048_576)],
            ),
            (
                "Content-Length 16 and chunked",
                ["Content-Length: 16", "Transfer-Encoding: chunked"],
                lambda: chunked(2 * 1_048_576),
            ),
            ("Content-Length -1", ["Content-Length: -1"], lambda: [b"{}"]),
            ("Content-Length not a number", ["Content-Length: 1e3"], lambda: [b"{}"]),
        ]
        for name, extra, body in cases:
            response = raw_exchange(served_api, request_head(route, extra), body())
            where = f"{route.template}: {name} -> {response.status}"
            assert 400 <= response.status < 500, where
            if response.headers.get("content-type", "").startswith("text/plain"):
                assert response.status == 400 and response.headers.get("connection") == "close"
                server_rejections += 1
            else:
                check_raw(response, where)
    print(f"\nlying framing: {4 * len(routes)} requests, {server_rejections} rejected by uvicorn")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# --- regressions found by the sweep --------------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    """A JSON object nested ``depth`` levels deep (``json_depth`` of it is ``depth``)."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_deeply_nested_payment_data_is_refused_before_it_reaches_temporal(
    client: httpx.Client, keys: Keys
) -> None:
    """Issue 6, regression: a validly signed payment whose ``data`` nested 300 levels passed
    validation and the signature check, then Temporal's payload converter refused it
    (``PydanticSerializationError``: 500). Data deeper than MAX_JSON_DEPTH is now 422 on both
    provide_input routes and 400 on the webhook; MAX_JSON_DEPTH levels are still accepted."""
    job_id = client.post("/start_job", json=start_job_body()).json()["job_id"]
    batch = client.post("/batches", json={"jobs": [start_job_body()]})
    batch_id = batch.json()["batch_id"]
    for depth in (MAX_JSON_DEPTH + 1, 300):
        data = {"payment_id": "pay_123", "receipt": nested(depth - 1)}
        assert json_depth(data) == depth
        job = {"job_id": job_id, "data": data, "signature": keys.sign(job_id, data)}
        problem = assert_problem(client.post("/provide_input", json=job), 422)
        assert f"deeper than {MAX_JSON_DEPTH}" in problem["detail"]
        signed = {"batch_id": batch_id, "data": data, "signature": keys.sign(batch_id, data)}
        response = client.post(f"/batches/{batch_id}/provide_input", json=signed)
        assert f"deeper than {MAX_JSON_DEPTH}" in assert_problem(response, 422)["detail"]
        event = {"type": "payment.confirmed", "data": {"job_id": job_id, "x": nested(depth - 2)}}
        raw = json.dumps(event).encode()
        route = Route("/webhooks/payments", "/webhooks/payments", event, signs_raw_body=True)
        response = client.post(route.path, content=raw, headers=headers_for(route, raw, keys, None))
        assert f"deeper than {MAX_JSON_DEPTH}" in assert_problem(response, 400)["detail"]


async def test_payment_data_nested_max_depth_is_taken(api: httpx.AsyncClient, keys: Keys) -> None:
    """The other side of the depth limit: MAX_JSON_DEPTH levels reach the workflow (a worker
    runs here) and the job takes them."""
    job_id = (await api.post("/start_job", json=start_job_body())).json()["job_id"]
    data = {"payment_id": "pay_123", "receipt": nested(MAX_JSON_DEPTH - 1)}
    job = {"job_id": job_id, "data": data, "signature": keys.sign(job_id, data)}
    response = await api.post("/provide_input", json=job, headers={"Prefer": "wait=0"})
    assert response.status_code == 202, response.text


async def test_a_batch_can_be_viewed_and_paid_before_a_worker_ran_it(keys: Keys) -> None:
    """Issue 6, regression: until a worker ran a batch's first task its memo had no ``size``,
    so ``GET /batches/{id}`` and a valid ``provide_input`` (which answers the view) failed
    with ``KeyError`` (500). The size is in the memo from the start now. Own dev server.

    Issue 11: the payment is an Update, which a worker must accept: with none polling it is
    503 with Retry-After (never 5xx of ours), and the same input re-sent once a worker runs
    is taken (202)."""
    env = await start_dev_env()
    settings = Settings(
        signing_secrets=" ".join(keys.hmac_secrets), status_query_timeout=0.3, update_timeout=1
    )
    app = create_app(client=env.client, settings=settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as api:
                created = await api.post("/batches", json={"jobs": [start_job_body()] * 2})
                assert created.status_code == 201, created.text
                batch_id = created.json()["batch_id"]
                view = await api.get(f"/batches/{batch_id}")
                assert view.status_code == 200, view.text
                assert view.json()["stale"] is True and len(view.json()["job_ids"]) == 2
                signed = {
                    "batch_id": batch_id,
                    "data": dict(PAYMENT),
                    "signature": keys.sign(batch_id, dict(PAYMENT)),
                }
                unserved = await api.post(f"/batches/{batch_id}/provide_input", json=signed)
                assert_problem(unserved, 503)
                assert unserved.headers["retry-after"] == "5"
                worker = Worker(
                    env.client,
                    task_queue=JOB_TASK_QUEUE,
                    workflows=[JobWorkflow, BatchWorkflow],
                )
                async with worker:
                    paid = await api.post(f"/batches/{batch_id}/provide_input", json=signed)
                    assert paid.status_code == 202, paid.text
                    assert len(paid.json()["job_ids"]) == 2
                    assert paid.json()["status"] == "running"
    finally:
        await env.shutdown()
