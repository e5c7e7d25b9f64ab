"""eBay's own OpenAPI documents as the judge of every eBay exchange in a test.

``JudgedTransport`` sits under an ``httpx`` client: each request to one of the simulator's eBay
APIs (``/ebay/sell/inventory/v1``, ``/ebay/sell/metadata/v1``, ``/ebay/commerce/taxonomy/v1``) is
validated with openapi-core against the official document (``specs/``, copies of
``shared/reference``), and so is the answer. A test asserts ``judge.rejected == []``.

Two changes to the documents, both about the documents and not about eBay:

- ``Product.aspects`` is typed ``string`` in the Inventory OAS (1.16.1 and 1.17.2) while its own
  text, its example (``"aspects": {"Brand": ["GoPro"]}``) and the live API use an object of
  string arrays; judged as typed, every listing with an item specific would be "invalid".
- ``servers`` is ``https://api.ebay.com{basePath}``; openapi-core does not match a variable
  that spans path segments, so the default ``basePath`` is written out.

OAuth 2 security is not checked by openapi-core ("Unsupported scheme type"): the judge checks
the ``Authorization: Bearer`` header itself. Answers with a status the document does not list
(401, 429) and every error answer are checked against eBay's error envelope
``{"errors": [Error]}`` (the documents' ``Error`` schema).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import yaml
from jsonschema import Draft4Validator
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPECS_DIR = Path(__file__).resolve().parents[2] / "specs"
EBAY_HOST = "https://api.ebay.com"
SIMULATOR_PREFIX = "/ebay"
DOCUMENTS = {
    "/sell/inventory/v1": "sell_inventory_v1_oas3_1.17.2.yaml",
    "/sell/metadata/v1": "ebay_sell_metadata_v1_oas3.yaml",
    "/commerce/taxonomy/v1": "ebay_commerce_taxonomy_v1_oas3.yaml",
}
"""Base path of each eBay API -> its official document."""

ASPECTS_AS_DOCUMENTED = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


@cache
def ebay_api(base_path: str) -> tuple[OpenAPI, dict[str, Any]]:
    """The openapi-core judge of one eBay API and its raw document (loaded once)."""
    document: dict[str, Any] = yaml.safe_load((SPECS_DIR / DOCUMENTS[base_path]).read_text())
    document["servers"] = [{"url": f"{EBAY_HOST}{base_path}"}]
    product = document["components"]["schemas"].get("Product")
    if product is not None:
        product["properties"]["aspects"] = ASPECTS_AS_DOCUMENTED
    return OpenAPI.from_dict(document), document


def _error_envelope_validator(document: dict[str, Any]) -> Draft4Validator:
    schemas = document["components"]["schemas"]
    schema = {
        "type": "object",
        "required": ["errors"],
        "properties": {"errors": {"type": "array", "minItems": 1, "items": schemas["Error"]}},
        "components": document["components"],
    }
    # The Error schema refers to ErrorParameter by "#/components/schemas/...".
    return Draft4Validator(schema)


@dataclass(frozen=True)
class _Request:
    """An httpx request as openapi-core reads one (its ``Request`` protocol)."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass(frozen=True)
class _Response:
    status_code: int
    headers: Headers
    content_type: str
    data: bytes | None


def ebay_base_path(url: httpx.URL) -> tuple[str, str] | None:
    """(API base path, path within it) of a simulator eBay URL, None for anything else."""
    path = url.path.removeprefix(SIMULATOR_PREFIX) if url.path.startswith("/ebay/") else None
    if path is None:
        return None
    for base in DOCUMENTS:
        if path.startswith(base + "/") or path == base:
            return base, path
    return None


def _as_openapi(request: httpx.Request, path: str) -> _Request:
    query = parse_qs(urlsplit(str(request.url)).query, keep_blank_values=True)
    return _Request(
        host_url=EBAY_HOST,
        path=path,
        method=request.method.lower(),
        body=request.content or None,
        content_type=request.headers.get("content-type", ""),
        parameters=RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        ),
    )


def _describe(error: BaseException) -> str:
    cause = error.__cause__
    detail = f"{error!r}" + (f": {cause}" if cause is not None else "")
    return " ".join(detail.split())[:600]


@dataclass
class EbayJudge:
    """Validates eBay exchanges; ``rejected`` lists every one that broke its document."""

    check_requests: bool = True
    exchanges: int = 0
    rejected: list[str] = field(default_factory=list)
    sent: list[httpx.Request] = field(default_factory=list)

    def check(self, request: httpx.Request, response: httpx.Response) -> None:
        located = ebay_base_path(request.url)
        if located is None:
            return
        base, path = located
        self.exchanges += 1
        self.sent.append(request)
        api, document = ebay_api(base)
        where = f"{request.method} {path} -> {response.status_code}"
        openapi_request = _as_openapi(request, path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Unsupported scheme type" (OAuth 2)
            if self.check_requests:
                if not request.headers.get("authorization", "").startswith("Bearer "):
                    self.rejected.append(f"request {where}: no Authorization: Bearer header")
                try:
                    api.validate_request(openapi_request)
                except Exception as err:
                    self.rejected.append(f"request {where}: {_describe(err)}")
            self._check_response(api, document, openapi_request, response, where)

    def _check_response(
        self,
        api: OpenAPI,
        document: dict[str, Any],
        request: _Request,
        response: httpx.Response,
        where: str,
    ) -> None:
        status = response.status_code
        if status >= 400:
            problem = self._error_body_problem(document, response)
            if problem:
                self.rejected.append(f"response {where}: {problem}")
        listed = self._listed_statuses(document, request)
        if status >= 400 and str(status) not in listed:
            return  # 401, 429: eBay-wide answers no document lists; the envelope was checked
        try:
            api.validate_response(
                request,
                _Response(
                    status_code=status,
                    headers=Headers(dict(response.headers)),
                    content_type=response.headers.get("content-type", ""),
                    data=response.content or None,
                ),
            )
        except Exception as err:
            self.rejected.append(f"response {where}: {_describe(err)}")

    @staticmethod
    def _listed_statuses(document: dict[str, Any], request: _Request) -> set[str]:
        base = next(b for b in DOCUMENTS if request.path.startswith(b))
        relative = request.path.removeprefix(base)
        for template, operations in document["paths"].items():
            pattern = template.split("/")
            parts = relative.split("/")
            if len(pattern) == len(parts) and all(
                p == q or p.startswith("{") for p, q in zip(pattern, parts, strict=True)
            ):
                operation = operations.get(request.method)
                if operation:
                    return set(operation["responses"])
        return set()

    @staticmethod
    def _error_body_problem(document: dict[str, Any], response: httpx.Response) -> str | None:
        try:
            body = json.loads(response.content)
        except ValueError:
            return "error answer is not JSON"
        errors = sorted(_error_envelope_validator(document).iter_errors(body), key=str)
        return f"not eBay's error envelope: {errors[0].message}" if errors else None


Responder = Callable[[httpx.Request], httpx.Response | None]
"""A stand-in for one answer of real eBay: returns a response, or None to let the request
through to the simulator."""


class JudgedTransport(httpx.AsyncBaseTransport):
    """Sends through ``inner`` (a real transport) and hands each exchange to the judge."""

    def __init__(
        self,
        judge: EbayJudge,
        inner: httpx.AsyncBaseTransport | None = None,
        responder: Responder | None = None,
    ) -> None:
        self.judge = judge
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.responder = responder

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        canned = self.responder(request) if self.responder else None
        if canned is not None:
            canned.request = request
            response = canned
        else:
            response = await self.inner.handle_async_request(request)
        await response.aread()
        self.judge.check(request, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
