"""The gateway's three rules about workflow executions, shared by jobs and batches: start once
per ID ever, read the memo (404 when unknown), and require ``awaiting_payment`` (409)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import ProblemError
from domain.marketplaces import JOB_TASK_QUEUE
from domain.status import JobStatus

CLOSED = "closed"
"""Status reported for an execution that ended before its workflow wrote one to the memo."""


async def start_once(
    client: Client,
    run: Any,
    arg: Any,
    *,
    workflow_id: str,
    memo: Mapping[str, Any],
    summary: str,
) -> bool:
    """Start ``run`` under ``workflow_id`` unless that ID was ever used; True when started.

    FAIL + REJECT_DUPLICATE: Temporal itself guarantees one execution per ID, across gateway
    processes and after the first one closed, so a repeated request never starts a second.
    """
    try:
        await client.start_workflow(
            run,
            arg,
            id=workflow_id,
            task_queue=JOB_TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo=dict(memo),
            static_summary=summary,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def read_memo(handle: WorkflowHandle[Any, Any], not_found: ProblemError) -> dict[str, Any]:
    """The execution's memo (no worker needed); ``not_found`` when the ID is unknown."""
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise not_found from None
        raise
    memo = dict(await description.memo())
    if description.status != WorkflowExecutionStatus.RUNNING:
        memo.setdefault("status", CLOSED)
    return memo


def require_awaiting_payment(kind: str, subject_id: str, memo: Mapping[str, Any]) -> None:
    """409 unless the memo says ``awaiting_payment`` (a fresh execution has no status yet)."""
    status = memo.get("status", JobStatus.AWAITING_PAYMENT.value)
    if status != JobStatus.AWAITING_PAYMENT.value:
        raise ProblemError(409, f"{kind} {subject_id} is {status}, not awaiting_payment")


def require_same_request(memo: Mapping[str, Any], request_fingerprint: str) -> None:
    """A reused Idempotency-Key must come with the same body (IETF draft: else 422)."""
    if memo.get("request_fingerprint") != request_fingerprint:
        raise ProblemError(
            422,
            "this Idempotency-Key was already used with a different request body",
            title="Idempotency-Key is already used",
        )


async def signal_open(kind: str, handle: WorkflowHandle[Any, Any], signal: Any, arg: Any) -> None:
    """Signal an execution that must still be open. One that closed after its memo was read
    (Temporal answers NOT_FOUND) is a 409, not a 502."""
    try:
        await handle.signal(signal, arg)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise ProblemError(409, f"{kind} {handle.id} is closed") from None
        raise
