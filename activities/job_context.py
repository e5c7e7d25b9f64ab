"""Which job an activity works for, for its log lines (config/logging_setup.py ``job_id``).

The listing entity (workflow ID ``listing-<sku>``) runs the marketplace activities for its
jobs, so the Temporal context no longer names the job: the activity's input does
(``PublishRequest.job_id``, ``WithdrawRequest.job_id``). Each activity runs in its own task, so
the value set here never leaks into another activity's lines.
"""

from __future__ import annotations

from typing import Any

from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from config.logging_setup import current_job_id

NOT_A_JOB = frozenset({"admin", "sold-out", "sales"})
"""``job_id`` values that name no job (a delist by an admin, a sold-out listing ended)."""


class JobContextInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _JobContext(next)


class _JobContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        for arg in input.args:
            job_id = getattr(arg, "job_id", None)
            if isinstance(job_id, str) and job_id not in NOT_A_JOB:
                current_job_id.set(job_id)
                break
        return await super().execute_activity(input)
