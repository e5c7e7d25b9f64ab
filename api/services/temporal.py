"""The gateway's Temporal calls, each with its one error mapping: start once per ID, describe an
execution of the right kind, query, Update. Jobs, batches and payments all go through here.

Every rule about an ID lives here: an ID of another kind (a batch ID on a job route) is 404 and
nothing is sent to it; an ID the gateway could not have made is 404 without a call (issue 11).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.exceptions import RequestValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import ProblemError
from config.settings import Settings
from domain.ids import is_plausible_id
from domain.marketplaces import JOB_TASK_QUEUE
from domain.messages import INVALID_INPUT, REFUSED

log = logging.getLogger("api.temporal")


@dataclass(frozen=True)
class Kind:
    """A kind of execution the gateway serves: its name in messages and its workflow type."""

    name: str
    workflow_type: str

    def not_found(self, workflow_id: str) -> ProblemError:
        return ProblemError(404, f"{self.name} {workflow_id} not found")


JOB = Kind("job", "JobWorkflow")
BATCH = Kind("batch", "BatchWorkflow")
LISTING = Kind("listing", "ListingWorkflow")


@dataclass(frozen=True)
class Execution:
    """What ``describe()`` tells without a worker: the memo, and whether the run is open."""

    workflow_id: str
    memo: Mapping[str, Any]
    running: bool


class WorkerSilent(Exception):
    """No worker answered a query in time: the caller falls back to the memo."""


class ExecutionClosed(Exception):
    """The execution closed before an Update reached it."""


class Executions:
    """The one Temporal client of the process, and the rules every call follows."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.query_timeout = timedelta(seconds=settings.status_query_timeout)
        self.update_timeout = timedelta(seconds=settings.update_timeout)

    def handle(self, workflow_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(workflow_id)

    async def start_once(
        self,
        run: Any,
        arg: Any,
        *,
        workflow_id: str,
        memo: Mapping[str, Any],
        summary: str,
        search_attributes: TypedSearchAttributes | None = None,
    ) -> bool:
        """Start ``run`` under ``workflow_id`` unless that ID is in use or retained; True when
        started. FAIL + REJECT_DUPLICATE: Temporal itself keeps one execution per ID, across
        gateway processes and after it closed, for as long as the namespace retains it."""
        try:
            await self.client.start_workflow(
                run,
                arg,
                id=workflow_id,
                task_queue=JOB_TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                memo=dict(memo),
                static_summary=summary,
                search_attributes=search_attributes,
            )
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def describe(self, kind: Kind, workflow_id: str) -> Execution:
        """The execution's memo and state; 404 when unknown or of another kind."""
        if not is_plausible_id(workflow_id):
            raise kind.not_found(workflow_id)
        try:
            description = await self.handle(workflow_id).describe()
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                raise kind.not_found(workflow_id) from None
            raise
        if description.workflow_type != kind.workflow_type:
            raise kind.not_found(workflow_id)
        return Execution(
            workflow_id=workflow_id,
            memo=dict(await description.memo()),
            running=description.status == WorkflowExecutionStatus.RUNNING,
        )

    async def query(self, kind: Kind, workflow_id: str, query: Any) -> Any:
        """Run a query; 404 when unknown or of another kind, ``WorkerSilent`` when no worker
        answered within STATUS_QUERY_TIMEOUT, 503 when Temporal itself is unreachable."""
        if not is_plausible_id(workflow_id):
            raise kind.not_found(workflow_id)
        try:
            return await self.handle(workflow_id).query(query, rpc_timeout=self.query_timeout)
        except WorkflowQueryFailedError:
            # The query is unknown to that workflow (another kind), or it failed in the worker.
            await self.describe(kind, workflow_id)
            raise WorkerSilent from None
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                raise kind.not_found(workflow_id) from None
            if err.status == RPCStatusCode.UNAVAILABLE:
                raise  # the memo lives on the same server: no fallback (problems.py: 503)
            log.warning("%s %s: query failed (%s)", kind.name, workflow_id, err.status.name)
            raise WorkerSilent from None
        except TimeoutError:
            raise WorkerSilent from None

    async def update(self, kind: Kind, workflow_id: str, update: Any, arg: Any) -> Any:
        """Send an Update and wait for its result. Refused by the workflow's validator → 409
        with its reason; the execution closed → ``ExecutionClosed``; no worker accepted it
        within UPDATE_TIMEOUT → 503 (a caller may re-send: the Update is idempotent)."""
        handle = self.handle(workflow_id)
        try:
            return await handle.execute_update(update, arg, rpc_timeout=self.update_timeout)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == REFUSED:
                raise ProblemError(409, cause.message) from None
            if isinstance(cause, ApplicationError) and cause.type == INVALID_INPUT:
                raise RequestValidationError(invalid_input_errors(cause)) from None
            raise
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise ProblemError(
                503,
                f"no worker took the request for {kind.name} {workflow_id} within "
                f"{self.update_timeout.total_seconds():g} s; retry later",
                headers={"Retry-After": "5"},
            ) from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise ExecutionClosed from None
            raise

    async def signal(self, workflow_id: str, signal: Any, arg: Any) -> None:
        await self.handle(workflow_id).signal(signal, arg)


def invalid_input_errors(cause: ApplicationError) -> list[dict[str, Any]]:
    """The 422 errors of an ``InvalidInput`` refusal: one per form field, at
    ``input_data.<field id>`` (workflows/refusals.py ``refuse_input``)."""
    details = cause.details[0] if cause.details else []
    return [
        {"type": "input_form", "loc": ("body", "input_data", e["field"]), "msg": e["message"]}
        for e in details
        if isinstance(e, dict)
    ] or [{"type": "input_form", "loc": ("body", "input_data"), "msg": cause.message}]
