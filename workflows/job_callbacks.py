"""A job's completion callbacks (issue 16): each settled status POSTed to its callback URL.

``JobWorkflow`` calls :meth:`CompletionCallbacks.announce` where the job becomes completed,
failed or cancelled, and :meth:`CompletionCallbacks.finished` before it returns. Each event's
delivery runs as a task of its own beside the job, so the job's status (view, memo, batch)
moves at once and the delivery state follows in ``JobView.callback``.

Why the workflow, not an activity retry policy, counts the attempts: the job view shows each
attempt (``attempts``, ``last_status``) while the delivery is pending, and a retry policy hides
them until it ends. One attempt is one ``deliver_callback`` activity (no retries of its own; a
worker lost mid-attempt is a failed attempt), then a durable timer with backoff
(``CallbackPolicy.delay_after``) while the retry window lasts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.callbacks import (
        CALLBACK_PATCH,
        DELIVER_CALLBACK_ACTIVITY,
        EVENT_OF_STATUS_EVENT,
        AttemptOutcome,
        CallbackAttempt,
        CallbackDelivery,
        CallbackPolicy,
        CallbackRequest,
        DeliveryState,
        callback_payload,
        webhook_id,
    )
    from domain.job import Job
    from domain.marketplaces import CALLBACK_TASK_QUEUE

ATTEMPT_MARGIN = timedelta(seconds=5)
"""Beyond the HTTP timeout, for the activity to report back before Temporal times it out."""
ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)


class CompletionCallbacks:
    """The deliveries of one job; the state itself is ``Job.callbacks`` (in its view and memo)."""

    def __init__(self, job: Job, save_memo: Callable[[], None]) -> None:
        self._job = job
        self._save_memo = save_memo
        self._announced: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []

    def announce(self) -> None:
        """Start delivering the job's current status if it is a settled one not yet announced
        (safe to call twice for one status). Nothing for a job without a callback URL."""
        policy = self._job.input.callback
        if policy is None:
            return
        status_event = f"job.{self._job.status.value}"
        event = next((e for e in reversed(self._job.events) if e.type == status_event), None)
        if event is None or event.seq in self._announced or event.type not in EVENT_OF_STATUS_EVENT:
            return
        if not workflow.patched(CALLBACK_PATCH):
            return
        self._announced.add(event.seq)
        kind = EVENT_OF_STATUS_EVENT[event.type]
        delivery = CallbackDelivery(
            event=kind,
            webhook_id=webhook_id(self._job.input.job_id, event.seq),
            created_at=event.at,
            updated_at=event.at,
        )
        self._job.callbacks.append(delivery)
        request = CallbackRequest(
            url=policy.url,
            webhook_id=delivery.webhook_id,
            payload=callback_payload(kind, event.at, self._job.view().model_dump(mode="json")),
            timeout=policy.timeout,
        )
        self._save_memo()
        self._tasks.append(asyncio.create_task(self._deliver(delivery, request, policy)))

    async def finished(self) -> None:
        """Wait until every delivery is delivered, stopped or given up (the workflow stays
        open meanwhile, at most the retry window after its last event)."""
        if self._tasks:
            await asyncio.gather(*self._tasks)

    async def _deliver(
        self, delivery: CallbackDelivery, request: CallbackRequest, policy: CallbackPolicy
    ) -> None:
        deadline = delivery.created_at + policy.retry_window
        while True:
            attempt = await self._attempt(request, policy, deadline)
            now = workflow.now()
            delivery.take(attempt, now)
            delay = policy.delay_after(delivery.attempts)
            if delivery.state is DeliveryState.PENDING and now + delay >= deadline:
                delivery.give_up(now)
            if delivery.state is not DeliveryState.PENDING:
                detail = {
                    "event": delivery.event.value,
                    "webhook_id": delivery.webhook_id,
                    "attempts": delivery.attempts,
                    "last_status": delivery.last_status,
                }
                self._job.record(now, f"callback.{delivery.state.value}", detail)
            self._save_memo()
            if delivery.state is not DeliveryState.PENDING:
                return
            await workflow.sleep(delay, summary=f"{delivery.event.value} callback backoff")

    async def _attempt(
        self, request: CallbackRequest, policy: CallbackPolicy, deadline: datetime
    ) -> CallbackAttempt:
        one_attempt = policy.timeout + ATTEMPT_MARGIN
        try:
            result: CallbackAttempt = await workflow.execute_activity(
                DELIVER_CALLBACK_ACTIVITY,
                request,
                result_type=CallbackAttempt,
                task_queue=CALLBACK_TASK_QUEUE,
                start_to_close_timeout=one_attempt,
                # Also bounds the wait for a callbacks worker: none for the whole window is a
                # delivery given up, not a job that never closes.
                schedule_to_close_timeout=max(deadline - workflow.now(), one_attempt),
                retry_policy=ONE_ATTEMPT,
                summary=f"{request.payload['type']} callback",
            )
            return result
        except ActivityError as err:
            cause = err.cause or err
            error = f"{type(cause).__name__}: {cause}"[:200]
            return CallbackAttempt(outcome=AttemptOutcome.RETRY, error=error)
