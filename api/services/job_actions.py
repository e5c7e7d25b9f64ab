"""The retry and cancel of one job, as ``POST /jobs/{id}/retry`` and ``/cancel`` and the bulk
operation's ``act_on_job`` (issue 16) all send it: describe (404 unknown or not a job), then
the job workflow's Update, whose validator refuses what the job's status does not allow (409).

Apart from ``JobService`` so that the worker, which runs ``act_on_job``, imports none of the
gateway's start logic (and reads none of its settings)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from api.problems import ProblemError
from api.services.temporal import JOB, ExecutionClosed, Executions
from domain.messages import CancelRequest, RetryRequest
from workflows.job import JobWorkflow

log = logging.getLogger("api.jobs")
ClosedProblem = Callable[[str], Awaitable[ProblemError]]


async def closed_job(job_id: str) -> ProblemError:
    return ProblemError(409, f"job {job_id} has closed")


async def request_cancel(
    executions: Executions, job_id: str, reason: str, closed: ClosedProblem = closed_job
) -> None:
    """404 unknown, 409 once completed or cancelled; else the cancel is taken."""
    await executions.describe(JOB, job_id)
    await _update(
        executions, job_id, JobWorkflow.request_cancel, CancelRequest(reason=reason), closed
    )
    log.info("cancel requested job_id=%s", job_id)


async def request_retry(
    executions: Executions, job_id: str, reason: str, closed: ClosedProblem = closed_job
) -> None:
    """404 unknown, 409 unless failed with retries left; else the retry is taken."""
    await executions.describe(JOB, job_id)
    await _update(
        executions, job_id, JobWorkflow.request_retry, RetryRequest(reason=reason), closed
    )
    log.info("retry requested job_id=%s", job_id)


async def _update(
    executions: Executions, job_id: str, update: Any, arg: Any, closed: ClosedProblem
) -> None:
    try:
        await executions.update(JOB, job_id, update, arg)
    except ExecutionClosed:
        raise await closed(job_id) from None
