"""Judge Etsy exchanges with the official Etsy Open API v3 document (OAS 3.0, 2025-02).

Every request an adapter sends to the simulated Etsy and every answer it gets is validated with
``openapi-core`` against ``etsy_openapi_v3_2025-02.json`` (a copy vendored under ``specs/`` or,
until that lands, ``shared/reference/`` beside the repository). Attach it to an
``httpx.AsyncClient`` with ``EtsySpecJudge.attach(client)``; ``judge.rejected`` lists what the
document refused.

Two adjustments, each for a defect outside our code:
- Etsy's document puts ``default: null`` on schemas that are not nullable
  (``shared/reference/real_api_fidelity.md``); those defaults are removed before loading.
- openapi-core casts ``application/x-www-form-urlencoded`` fields to their schema types but not
  the text parts of ``multipart/form-data`` (``rank=1`` is validated as the string ``"1"``),
  although a primitive part is the text form of its value (OAS 3.0.3, "Encoding Object":
  ``text/plain`` by default). The judge declares those parts ``application/json``, whose text
  for an integer or boolean is the same, so they are parsed as Etsy's server parses them. The
  body itself is validated as sent.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_NAME = "etsy_openapi_v3_2025-02.json"
ROOT = Path(__file__).resolve().parents[2]
SPEC_PLACES = (ROOT / "specs", ROOT.parent / "shared" / "reference", Path("/work/shared/reference"))
SERVER = "https://api.etsy.com"
PREFIX = "/v3/application"


def spec_path() -> Path:
    for place in SPEC_PLACES:
        if (place / SPEC_NAME).is_file():
            return place / SPEC_NAME
    raise FileNotFoundError(f"{SPEC_NAME} not found in {', '.join(map(str, SPEC_PLACES))}")


def _strip_null_defaults(node: Any) -> None:
    if isinstance(node, dict):
        if "default" in node and node["default"] is None and not node.get("nullable"):
            del node["default"]
        for value in node.values():
            _strip_null_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _strip_null_defaults(value)


@cache
def etsy_document() -> dict[str, Any]:
    """The Etsy OAS as a dict, ``default: null`` on non-nullable schemas removed."""
    document: dict[str, Any] = json.loads(spec_path().read_text(encoding="utf-8"))
    _strip_null_defaults(document)
    _declare_multipart_encodings(document)
    return document


@cache
def etsy_openapi() -> OpenAPI:
    return OpenAPI.from_dict(etsy_document())


def operation(method: str, path: str) -> dict[str, Any]:
    """The OAS operation object for ``method`` on the document path ``path``."""
    op: dict[str, Any] = etsy_document()["paths"][path][method.lower()]
    return op


def enum_of(schema_name: str, field_name: str) -> list[str]:
    """The enum a component schema gives one of its fields (e.g. ShopListing.who_made)."""
    values: list[str] = etsy_document()["components"]["schemas"][schema_name]["properties"][
        field_name
    ]["enum"]
    return values


@dataclass
class _Request:
    """openapi-core's ``Request`` protocol for an httpx request to the simulated Etsy."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass
class _Response:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes


def _document_path(url: httpx.URL) -> str:
    path = url.path
    if PREFIX not in path:
        raise ValueError(f"not an Etsy Open API v3 path: {path}")
    return PREFIX + path.split(PREFIX, 1)[1]


def _declare_multipart_encodings(document: dict[str, Any]) -> None:
    """Give every integer, number and boolean part of a multipart request body an ``encoding``
    of ``application/json``: its JSON text is the same as its plain text, and openapi-core then
    parses it to the number or boolean the schema asks for (see the module docstring)."""
    for methods in document["paths"].values():
        for op in methods.values():
            if not isinstance(op, dict):
                continue
            media = ((op.get("requestBody") or {}).get("content") or {}).get("multipart/form-data")
            if not media:
                continue
            encoding = media.setdefault("encoding", {})
            for name, prop in (media.get("schema", {}).get("properties") or {}).items():
                if prop.get("type") in ("integer", "number", "boolean") and name not in encoding:
                    encoding[name] = {"contentType": "application/json"}


def openapi_request(request: httpx.Request) -> _Request:
    return _Request(
        host_url=SERVER,
        path=_document_path(request.url),
        method=request.method.lower(),
        body=request.content or None,
        content_type=request.headers.get("content-type", ""),
        parameters=RequestParameters(
            query=ImmutableMultiDict(parse_qs(urlsplit(str(request.url)).query)),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict({}),
        ),
    )


def _documented_statuses(request: httpx.Request) -> set[str]:
    path = _document_path(request.url)
    for template, methods in etsy_document()["paths"].items():
        if _matches(template, path) and request.method.lower() in methods:
            return set(methods[request.method.lower()].get("responses", {}))
    return set()


def _matches(template: str, path: str) -> bool:
    want, have = template.strip("/").split("/"), path.strip("/").split("/")
    return len(want) == len(have) and all(
        w == h or (w.startswith("{") and w.endswith("}")) for w, h in zip(want, have, strict=True)
    )


@dataclass
class EtsySpecJudge:
    """Validates each Etsy exchange of a client; collects what the document rejects."""

    validated: int = 0
    rejected: list[str] = field(default_factory=list)
    exchanges: list[tuple[httpx.Request, httpx.Response]] = field(default_factory=list)

    def attach(self, client: httpx.AsyncClient) -> None:
        hooks = client.event_hooks
        hooks.setdefault("request", []).append(self._on_request)
        hooks.setdefault("response", []).append(self._on_response)
        client.event_hooks = hooks

    async def _on_request(self, request: httpx.Request) -> None:
        if PREFIX in request.url.path:
            await request.aread()  # keep the body as sent, multipart included

    async def _on_response(self, response: httpx.Response) -> None:
        request = response.request
        if PREFIX not in request.url.path:
            return  # not an Etsy call (an image download, another marketplace)
        await response.aread()
        self.exchanges.append((request, response))
        self.check(request, response)

    def check(self, request: httpx.Request, response: httpx.Response) -> None:
        with warnings.catch_warnings():
            # openapi-core cannot check the oauth2 scheme; the api_key one is checked.
            warnings.filterwarnings("ignore", "Unsupported scheme type", UserWarning)
            self._check(request, response)

    def _check(self, request: httpx.Request, response: httpx.Response) -> None:
        api = etsy_openapi()
        self.validated += 1
        where = f"{request.method} {request.url.path}"
        try:
            api.validate_request(openapi_request(request))
        except Exception as err:  # openapi-core raises one class per kind of failure
            self.rejected.append(f"request {where}: {_explain(err)}")
        status = str(response.status_code)
        if status not in _documented_statuses(request):
            # 429 and gateway errors are real Etsy answers the document does not list: their
            # body must still be Etsy's ErrorSchema.
            body = response.json() if response.content else None
            if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
                self.rejected.append(f"response {where} {status}: not an ErrorSchema: {body!r}")
            return
        try:
            api.validate_response(
                openapi_request(request),
                _Response(
                    status_code=response.status_code,
                    content_type=response.headers.get("content-type", ""),
                    headers=Headers(dict(response.headers)),
                    data=response.content,
                ),
            )
        except Exception as err:
            self.rejected.append(f"response {where} {status}: {_explain(err)}")


def _explain(err: Exception) -> str:
    cause = err.__cause__
    details = [str(e).splitlines()[0] for e in getattr(cause, "schema_errors", ())]
    return f"{type(err).__name__}: {err}" + (f" ({'; '.join(details)})" if details else "")
