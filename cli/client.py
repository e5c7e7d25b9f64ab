"""A small synchronous HTTP client for the gateway: JSON in, JSON out, problems as ApiError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from cli.errors import ApiError, ApiUnreachableError

TIMEOUT = httpx.Timeout(60.0, connect=5.0)
"""Generous for a 10 000-listing batch start; a dead address still fails within 5 s."""


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: dict[str, Any]


class ApiClient:
    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=TIMEOUT, transport=transport)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def get(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return self._send("GET", path, params=params, headers=headers).body

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> ApiResponse:
        return self._send("POST", path, json=body, headers=headers)

    def _send(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise ApiUnreachableError(
                f"cannot connect to the API at {self.base_url} (is it running? "
                "set --api or MARKETPLACE_JOBS_API)"
            ) from None
        except httpx.TimeoutException:
            raise ApiUnreachableError(
                f"the API at {self.base_url} did not answer {method} {path} in time"
            ) from None
        except httpx.HTTPError as err:
            raise ApiUnreachableError(f"{method} {self.base_url}{path}: {err}") from None
        if response.status_code >= 400:
            raise problem_of(response)
        try:
            body = response.json()
        except ValueError:
            raise ApiError(
                response.status_code, f"{method} {path}: the answer is not JSON"
            ) from None
        return ApiResponse(
            response.status_code, body if isinstance(body, dict) else {"items": body}
        )


def problem_of(response: httpx.Response) -> ApiError:
    """An ``ApiError`` from a problem+json answer, or from whatever else came back."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        errors = body.get("errors")
        return ApiError(
            response.status_code,
            body["detail"],
            [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else None,
        )
    text = response.text.strip().splitlines()
    return ApiError(response.status_code, text[0][:200] if text else response.reason_phrase)
