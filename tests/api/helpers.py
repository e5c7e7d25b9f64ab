"""Small helpers for API tests."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.factories import start_job_body

PAYMENT = {"payment_id": "pay_123", "amount": "45.00", "currency": "EUR"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["status"] == status
    return body


def check_problem_shape(status: int, content_type: str, body: bytes, where: str) -> None:
    """Any answer: below 500; when an error, problem+json with a non-empty string ``detail``
    and ``status`` equal to the HTTP status. ``where`` names the request in failures."""
    where = f"{where}: {body[:300]!r}"
    assert status < 500, where
    if status >= 400:
        assert content_type.startswith("application/problem+json"), where
        problem = json.loads(body)
        assert isinstance(problem, dict), where
        assert isinstance(problem.get("detail"), str) and problem["detail"], where
        assert problem.get("status") == status, where


async def create_job(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/start_job", json=start_job_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()
