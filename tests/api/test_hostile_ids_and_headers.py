"""Issue 11: the hostile-input suite for the new kinds: any id on any route, malformed headers,
non-ASCII digits. Routes come from the app's own OpenAPI document, so a new route with an id
is covered as soon as it exists. Every answer is below 500 and, when an error, problem+json;
ids of the other kind or of no kind are 404 and change nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from cli.sign import webhook_request
from tests.api.conftest import ADMIN_TOKEN, Keys
from tests.api.helpers import PAYMENT, check_problem_shape, create_job
from tests.factories import start_job_body

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

HOSTILE_IDS = [
    "0",
    "jöb",
    "٤٥",
    "４５",  # noqa: RUF001 - fullwidth digits, on purpose
    "a\x00b",
    "a\nb",
    " spaced ",
    "..",
    "a/b",
    "%00",
    "x" * 255,
    "x" * 256,
    "batch-",
    "batch-00000000-0000-0000-0000-000000000000-00000",
    "-leading-dash",
    "😀",
]


async def _id_routes(api: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, template) of every route with a job or batch id in its path."""
    schema = (await api.get("/openapi.json")).json()
    found = [
        (method.upper(), template)
        for template, operations in schema["paths"].items()
        for method in operations
        if "{job_id}" in template or "{batch_id}" in template
    ]
    assert len(found) >= 7, found  # status, events, cancel, retry, batch view, pay, cancel
    return found


def _check(response: httpx.Response, where: str) -> None:
    check_problem_shape(
        response.status_code, response.headers.get("content-type", ""), response.content, where
    )


async def _body_for(template: str, subject_id: str, keys: Keys) -> dict[str, Any] | None:
    if template.endswith("/provide_input"):
        return {
            "batch_id": subject_id,
            "data": PAYMENT,
            "signature": keys.sign(subject_id, PAYMENT),
        }
    return None


async def test_any_id_on_any_route_is_404_or_422_and_changes_nothing(
    api: httpx.AsyncClient, keys: Keys
):
    """Every id route, with ids of the other kind (a live batch on job routes, a live job and
    a batch child on batch routes) and ids that cannot be ours: 404 (422 past 255 chars),
    never 5xx; the victims still await payment and were neither paid nor cancelled."""
    job_id = (await create_job(api))["job_id"]
    batch = (await api.post("/batches", json={"jobs": [start_job_body()]})).json()
    batch_id, child_id = batch["batch_id"], batch["job_ids"][0]
    tried = 0
    for method, template in await _id_routes(api):
        other_kind = [batch_id] if "{job_id}" in template else [job_id, child_id]
        for subject in [*other_kind, *HOSTILE_IDS]:
            path = template.replace("{job_id}", "ID").replace("{batch_id}", "ID")
            url = httpx.URL("http://test").copy_with(
                raw_path=path.replace("ID", _quote(subject)).encode()
            )
            body = await _body_for(template, subject, keys)
            response = await api.request(method, url, json=body, headers=ADMIN)
            where = f"{method} {template} with {subject!r}"
            _check(response, where)
            expected = {404} if len(subject) <= 255 else {404, 422}
            if subject == "a/b":
                expected |= {405}  # another path: no route, or no such method there
            assert response.status_code in expected, f"{where}: {response.status_code}"
            tried += 1
    for subject in [batch_id, *HOSTILE_IDS]:
        response = await api.get("/status", params={"job_id": subject})
        _check(response, f"GET /status?job_id={subject!r}")
        assert response.status_code in ({404} if len(subject) <= 255 else {422}), subject
        tried += 1
    for subject in [batch_id, *HOSTILE_IDS[:-2]]:
        headers, raw = webhook_request(subject, PAYMENT, secret=keys.hmac_secrets[0])
        response = await api.post("/webhooks/payments", content=raw, headers=headers)
        _check(response, f"webhook for {subject!r}")
        assert response.status_code in (400, 404), f"webhook {subject!r}: {response.status_code}"
        tried += 1
    print(f"\nhostile ids: {tried} requests")
    assert (await api.get(f"/status/{job_id}")).json()["status"] == "awaiting_payment"
    assert (await api.get(f"/status/{child_id}")).json()["status"] == "awaiting_payment"
    assert (await api.get(f"/batches/{batch_id}")).json()["status"] == "awaiting_payment"
    events = {e["type"] for e in (await api.get(f"/jobs/{job_id}/events")).json()}
    assert not events & {"input.received", "cancel.requested", "retry.requested"}


def _quote(value: str) -> str:
    return quote(value, safe="").replace(".", "%2E")  # no ".." path normalisation


MALFORMED_HEADERS: list[tuple[str, bytes]] = [
    ("idempotency-key", b"\xff\xfe"),
    ("idempotency-key", "clé".encode()),
    ("idempotency-key", b"x" * 300),
    ("idempotency-key", b'""'),
    ("prefer", "wait=٥".encode()),  # noqa: RUF001 - on purpose
    ("prefer", b"wait=\xb2"),
    ("prefer", b"wait=" + b"9" * 5000),
    ("prefer", b"wait=1e400"),
    ("prefer", b"wait=-1"),
    ("authorization", b"Bearer \xff"),
    ("authorization", b"Bearer " + b"x" * 10_000),
    ("authorization", b"Basic Zm9vOmJhcg=="),
]


@pytest.mark.parametrize(("name", "value"), MALFORMED_HEADERS, ids=lambda v: repr(v)[:20])
async def test_malformed_headers_never_get_a_5xx(
    api: httpx.AsyncClient, keys: Keys, name: str, value: bytes
):
    """Every header the gateway parses (Idempotency-Key, Prefer, Authorization), with
    non-ASCII bytes and digits, absurd lengths and wrong forms: 2xx or 4xx problem+json."""
    job_id = (await create_job(api))["job_id"]
    signed = {"job_id": job_id, "data": PAYMENT, "signature": keys.sign(job_id, PAYMENT)}
    requests: list[tuple[str, str, Any]] = [
        ("POST", "/start_job", start_job_body()),
        ("POST", "/batches", {"jobs": [start_job_body()]}),
        ("POST", "/provide_input", signed),
        ("GET", f"/status/{job_id}", None),
        ("GET", "/admin/workers", None),
        ("POST", f"/jobs/{job_id}/retry", None),
    ]
    for method, path, body in requests:
        response = await api.request(method, path, json=body, headers=[(name.encode(), value)])
        _check(response, f"{method} {path} with {name}: {value[:30]!r}")
        if name == "idempotency-key" and path in ("/start_job", "/batches"):
            assert response.status_code == 400, response.text
        if name == "authorization" and path.startswith(("/admin", "/jobs/")):
            assert response.status_code == 403, response.text


async def test_any_sku_on_the_listing_routes_is_404_or_422_and_changes_nothing(
    api: httpx.AsyncClient,
):
    """Issue 13's routes (GET /listings/{sku}, /events, POST /delist): a live job's or batch's
    id, ids that cannot be SKUs (non-ASCII digits, emoji, dots, 51 characters) and a SKU no
    job reached: 404 (422 where FastAPI bounds the path), never 5xx; the job is untouched."""
    job = await create_job(api)
    batch = (await api.post("/batches", json={"jobs": [start_job_body()]})).json()["batch_id"]
    skus = [job["job_id"], batch, "SKU٣", "SKU😀", "SKU.1", "S" * 51, "NOSUCHSKU1", *HOSTILE_IDS]
    for sku in skus:
        path = f"/listings/{quote(sku, safe='')}"
        for method, url in (("GET", path), ("GET", f"{path}/events"), ("POST", f"{path}/delist")):
            response = await api.request(method, url, headers=ADMIN, json={})
            assert response.status_code in (404, 422), (method, url, response.text)
            _check(response, f"{method} {url}")
    view = (await api.get(f"/status/{job['job_id']}")).json()
    assert view["status"] == "awaiting_payment", view
