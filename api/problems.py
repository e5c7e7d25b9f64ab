"""RFC 9457 problem+json responses and every exception handler: each error the gateway returns
has this shape, and no input gets a 5xx that is not about Temporal being unreachable."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from temporalio.service import RPCError, RPCStatusCode

from config.temporal import is_connect_failure
from domain.job_search import unregistered_search_attribute

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM: dict[str, Any] = {"content": {PROBLEM_MEDIA_TYPE: {}}}
"""For a route's ``responses``: an error documented as problem+json."""
log = logging.getLogger("api")


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title
        self.headers = headers
        self.extensions = extensions


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def validation_problem(errors: list[dict[str, Any]]) -> JSONResponse:
    """422 (or 400 for a body that is not JSON) listing every invalid field.

    Only location, message and type are echoed: never the submitted value, which may be large
    or hold a signature.
    """
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(400, "request body is not valid JSON", title="Malformed request")
    cleaned = [
        {
            "loc": _location(tuple(e.get("loc", ()))),
            "msg": str(e.get("msg", "")),
            "type": e.get("type"),
        }
        for e in errors
    ]
    summary = "; ".join(f"{e['loc']}: {e['msg']}" for e in cleaned[:10])
    if len(cleaned) > 10:
        summary += f"; and {len(cleaned) - 10} more"
    return problem_response(
        422, summary or "invalid request", title="Invalid request", errors=cleaned
    )


def idempotency_key_reused() -> ProblemError:
    """422: an Idempotency-Key already used with another request body (the IETF
    Idempotency-Key draft's 422), for every route that takes one."""
    return ProblemError(
        422,
        "this Idempotency-Key was already used with a different request body",
        title="Idempotency-Key is already used",
    )


def unregistered_attribute_problem(exc: RPCError) -> ProblemError | None:
    """502 naming the search attribute Temporal's namespace lacks (a server set up without
    them refuses every job start and every search), else None; logged as the operator's error
    it is."""
    if exc.status != RPCStatusCode.INVALID_ARGUMENT:
        return None
    name = unregistered_search_attribute(exc.message)
    if name is None:
        return None
    log.error("temporal namespace lacks search attribute %s: register them", name)
    return ProblemError(
        502,
        f"Temporal's namespace has no search attribute {name}: jobs can be neither started "
        "nor found until an operator registers the service's search attributes (README "
        "'Finding jobs and listings'; make run and docker-compose register them)",
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status, exc.detail, title=exc.title, headers=exc.headers, **exc.extensions
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(list(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = "route not found"
        return problem_response(exc.status_code, detail, headers=exc.headers)

    @app.exception_handler(RPCError)
    async def _temporal(_: Request, exc: RPCError) -> JSONResponse:
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return problem_response(
                503, "Temporal is unavailable; retry later", headers={"Retry-After": "5"}
            )
        if (unregistered := unregistered_attribute_problem(exc)) is not None:
            return problem_response(unregistered.status, unregistered.detail)
        log.error("temporal error %s", exc.status.name)
        return problem_response(502, f"Temporal answered {exc.status.name}")

    @app.exception_handler(RuntimeError)
    async def _runtime(request: Request, exc: RuntimeError) -> JSONResponse:
        if is_connect_failure(exc):
            return problem_response(
                503, "Temporal is unreachable; retry later", headers={"Retry-After": "5"}
            )
        log.error("unhandled error on %s %s: RuntimeError", request.method, request.url.path)
        return problem_response(500, "internal error; the request was not applied")

    @app.exception_handler(ClientDisconnect)
    async def _disconnected(request: Request, _: ClientDisconnect) -> JSONResponse:
        # Nobody reads this: the client left mid-body, or BodySizeLimit already answered 413
        # and ended the body (routes that read it themselves, like the webhook, get here).
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return problem_response(400, "the request body ended early: the client disconnected")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return problem_response(500, "internal error; the request was not applied")
