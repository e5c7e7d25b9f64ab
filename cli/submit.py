"""``submit``: turn a listings file into ``POST /start_job`` or ``POST /batches`` and send it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cli.client import ApiClient
from cli.inputs import Submission


@dataclass(frozen=True)
class ApiRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Submitted:
    kind: str
    """``job`` or ``batch``."""
    id: str
    jobs: int
    existing: bool
    """The API answered 200: the same Idempotency-Key and body were submitted before."""


def submit_request(
    submission: Submission,
    *,
    marketplaces: list[str] | None = None,
    identifier: str | None = None,
    idempotency_key: str | None = None,
) -> ApiRequest:
    """Flags win over the file: ``--marketplaces`` for every job; ``--identifier X`` as is for one
    job, ``X-1``, ``X-2``, … for a batch (the API wants one identifier per job)."""
    jobs = [dict(job) for job in submission.jobs]
    for number, job in enumerate(jobs, start=1):
        if marketplaces:
            job["marketplaces"] = list(marketplaces)
        if identifier:
            job["identifier_from_purchaser"] = (
                f"{identifier}-{number}" if submission.as_batch else identifier
            )
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    if submission.as_batch:
        return ApiRequest("/batches", {"jobs": jobs}, headers)
    return ApiRequest("/start_job", jobs[0], headers)


def send_submission(client: ApiClient, request: ApiRequest) -> Submitted:
    response = client.post(request.path, request.body, request.headers)
    existing = response.status == 200
    if request.path == "/batches":
        batch_id = str(response.body["batch_id"])
        return Submitted("batch", batch_id, len(response.body.get("job_ids", [])), existing)
    return Submitted("job", str(response.body["job_id"]), 1, existing)


def submitted_line(submitted: Submitted, source: str) -> str:
    listings = f"{submitted.jobs} listing{'s' if submitted.jobs != 1 else ''}"
    again = " (already submitted with this Idempotency-Key)" if submitted.existing else ""
    return f"{submitted.kind} {submitted.id}: {listings} from {source}, awaiting payment{again}"
