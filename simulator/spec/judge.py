"""Judge one marketplace HTTP exchange against the official OpenAPI document of its API.

``judge_exchange(request, response)`` finds the document by the URL (the simulator's
``/ebay/...``, ``/etsy/...`` prefixes or the real hosts), the operation by method and path, and
returns a ``Verdict``: the operationId and readable errors for what the document rejects.
Vinted publishes no document: its exchanges are judged "no spec", never rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from jsonschema.exceptions import ValidationError as SchemaError
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (
    ParameterValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import HeaderValidationError
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import Headers, ImmutableMultiDict

from domain.marketplaces import Marketplace
from simulator.spec.documents import SOURCES, Document, load

SIMULATOR_PREFIXES: dict[str, Marketplace] = {f"/{m.value}": m for m in Marketplace}
"""The simulator serves each marketplace's real paths under ``/<marketplace>`` (CONTRACT.md)."""

REAL_HOSTS: dict[str, Marketplace] = {
    "api.ebay.com": Marketplace.EBAY,
    "apiz.ebay.com": Marketplace.EBAY,
    "api.sandbox.ebay.com": Marketplace.EBAY,
    "apiz.sandbox.ebay.com": Marketplace.EBAY,
    "api.etsy.com": Marketplace.ETSY,
    "openapi.etsy.com": Marketplace.ETSY,
    "pro.svc.vinted.com": Marketplace.VINTED,
    "pro-public-sandbox.svc.vinted.com": Marketplace.VINTED,
}
"""Production and sandbox hosts (reference/marketplaces.md)."""

_MAX_MESSAGE = 240


@dataclass(frozen=True)
class Location:
    """Where a URL points: its marketplace, the document (None: no spec) and the real URL."""

    marketplace: Marketplace
    document: Document | None
    url: httpx.URL

    @property
    def path(self) -> str:
        return self.url.path


@dataclass(frozen=True)
class Verdict:
    """What the document says about one exchange. ``document`` None: no spec to judge by."""

    marketplace: Marketplace
    method: str
    path: str
    document: str | None
    operation_id: str | None
    errors: tuple[str, ...] = ()

    @property
    def has_spec(self) -> bool:
        return self.document is not None

    @property
    def rejected(self) -> bool:
        return bool(self.errors)

    def describe(self) -> str:
        """One line per error under a head naming the operation, for test failures."""
        operation = self.operation_id or "(no operation)"
        head = f"{self.marketplace.value} {operation} {self.method} {self.path}"
        if not self.has_spec:
            return f"{head}: no spec"
        if not self.errors:
            return f"{head}: valid ({self.document})"
        lines = [f"{head}: rejected by {self.document}:"]
        return "\n".join([*lines, *(f"  - {error}" for error in self.errors)])


def locate(url: httpx.URL | str) -> Location | None:
    """The marketplace API a URL belongs to, or None when it is no marketplace's API."""
    url = httpx.URL(url)
    path = url.path
    marketplace = REAL_HOSTS.get(url.host)
    if marketplace is None:
        prefix = "/" + path.split("/", 2)[1] if path.startswith("/") else ""
        marketplace = SIMULATOR_PREFIXES.get(prefix)
        if marketplace is None:
            return None
        path = path[len(prefix) :]
    for source in SOURCES:
        if source.marketplace is marketplace and _under(path, source.base_path):
            real = httpx.URL(source.origin).copy_with(path=path, query=url.query or None)
            return Location(marketplace, load(source), real)
    return Location(marketplace, None, url.copy_with(path=path))


def _under(path: str, base_path: str) -> bool:
    return path == base_path or path.startswith(base_path + "/")


def operation_id(method: str, url: httpx.URL | str) -> str | None:
    """The official operationId of ``method url``; None without a spec or a matching path."""
    location = locate(url)
    if location is None or location.document is None:
        return None
    return _find_operation(location.document, method, location)


def _find_operation(document: Document, method: str, location: Location) -> str | None:
    finder = APICallPathFinder(document.openapi.spec)
    try:
        found = finder.find(method.lower(), str(location.url.copy_with(query=None)))
    except PathError:
        return None
    value = (found.operation / "operationId").read_str(None)
    return str(value) if value is not None else None


def judge_request(request: httpx.Request) -> Verdict | None:
    """Method, path, query, headers and body of ``request``; None: not a marketplace API."""
    return judge_exchange(request, None)


def judge_response(response: httpx.Response) -> Verdict | None:
    """The answer to ``response.request`` (status, headers, body); request errors excluded."""
    return _judge(response.request, response, with_request=False)


def judge_exchange(request: httpx.Request, response: httpx.Response | None) -> Verdict | None:
    """The request, and the response when there is one (a timeout has none)."""
    return _judge(request, response, with_request=True)


def _judge(
    request: httpx.Request, response: httpx.Response | None, *, with_request: bool
) -> Verdict | None:
    location = locate(request.url)
    if location is None:
        return None
    document = location.document
    verdict = Verdict(location.marketplace, request.method, location.path, None, None)
    if document is None:
        return verdict
    operation = _find_operation(document, request.method, location)
    openapi_request = _OpenAPIRequest(request, location)
    errors: list[str] = []
    if with_request:
        for error in document.openapi.iter_request_errors(openapi_request):
            errors.extend(_messages(error, "request"))
    if response is not None and operation is not None:
        answer = _OpenAPIResponse(response)
        for error in document.openapi.iter_response_errors(openapi_request, answer):
            if isinstance(error, ResponseNotFound):
                # OAS 3.0: responses need not list every status (429, 503 ...): nothing to check.
                continue
            errors.extend(_messages(error, f"response {response.status_code}"))
    return Verdict(
        location.marketplace,
        request.method,
        location.path,
        document.source.title,
        operation,
        tuple(errors),
    )


class _OpenAPIRequest:
    """An ``httpx.Request`` as openapi-core's ``Request`` protocol, at its real URL."""

    def __init__(self, request: httpx.Request, location: Location) -> None:
        self._request = request
        self.host_url = f"{location.url.scheme}://{location.url.netloc.decode('ascii')}"
        self.path = location.path
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(location.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
        )

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return _content(self._request) or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", "")).lower()


class _OpenAPIResponse:
    """An ``httpx.Response`` as openapi-core's ``Response`` protocol."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code = response.status_code
        self.headers = Headers(list(response.headers.items()))

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("content-type", "")).lower()

    @property
    def data(self) -> bytes | None:
        return _content(self._response) or None


def _content(message: httpx.Request | httpx.Response) -> bytes:
    try:
        return message.content
    except (httpx.RequestNotRead, httpx.ResponseNotRead):
        return message.read()


def _messages(error: Exception, where: str) -> list[str]:
    """Readable lines for one openapi-core error: each schema error with its JSON path."""
    label = _label(error, where)
    invalid = _cause(error, InvalidSchemaValue)
    if invalid is not None and invalid.schema_errors:
        return [f"{label}{_schema_error(e)}" for e in invalid.schema_errors]
    if isinstance(error, SecurityValidationError):
        return [_clip(f"{where} security: {error.__cause__ or error}")]
    cause = error.__cause__
    detail = str(cause) if cause is not None and str(cause) not in str(error) else ""
    text = f"{where}: {error}" + (f" ({detail})" if detail else "")
    return [_clip(text)]


def _label(error: Exception, where: str) -> str:
    if isinstance(error, ParameterValidationError):
        return f"{where} {error.location} parameter {error.name!r}"
    if isinstance(error, HeaderValidationError):
        return f"{where} header {error.name!r}"
    return f"{where} body"


def _schema_error(error: SchemaError) -> str:
    at = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    schema: Any = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "anyOf" and "x-rule" in schema:
        return _clip(f"{at}: {schema['x-rule']} (the document's text)")
    if error.validator == "maxLength" and isinstance(error.instance, str):
        limit = f"at most {error.validator_value}"
        if "x-max-length-from-text" in schema:
            limit += " (Max Length in the document's text)"
        return f"{at}: {len(error.instance)} characters, {limit}"
    return _clip(f"{at}: {error.message}")


def _cause(error: BaseException, kind: type[InvalidSchemaValue]) -> InvalidSchemaValue | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__
    return None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
