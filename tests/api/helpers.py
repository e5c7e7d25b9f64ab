"""Small helpers for API tests."""

from __future__ import annotations

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


async def create_job(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/start_job", json=start_job_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()
