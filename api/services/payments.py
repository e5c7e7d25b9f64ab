"""Taking a payment confirmation, the same way for a job, a batch and a payment webhook.

The check of the status and the taking of the input are one atomic step in the workflow (the
``submit_input`` Update and its validator): of several different valid inputs exactly one is
taken and every other one is 409; a re-send of the very input taken is answered as the first
was (CONTRACT.md, ``POST /provide_input``; issue 11, cases 5 and 6).
"""

from __future__ import annotations

import logging
from typing import Any

from api.problems import ProblemError
from api.services.temporal import BATCH, Execution, ExecutionClosed, Executions, Kind
from domain.memo import BatchMemo, JobMemo
from domain.messages import InputReceipt, SignedInput
from domain.signatures import SignatureVerifier, signed_content

log = logging.getLogger("api.payments")


class Payments:
    def __init__(self, executions: Executions, verifier: SignatureVerifier) -> None:
        self.executions = executions
        self.verifier = verifier

    def check_signature(self, kind: Kind, subject_id: str, data: Any, signature: str) -> None:
        """403 unless ``signature`` signs ``subject_id + "." + JCS(data)`` with a configured
        key; 422 when ``data`` cannot be canonicalised (RFC 8785)."""
        try:
            content = signed_content(subject_id, data)
        except ValueError as err:
            raise ProblemError(422, f"data: {err}") from None
        if not self.verifier.verify(content, signature):
            log.info("input rejected %s_id=%s: no valid signature", kind.name, subject_id)
            raise ProblemError(403, f"no valid signature for this {kind.name}_id and data")

    def check_webhook_signature(self, content: bytes, signature: str) -> None:
        """403 unless the Standard Webhooks content is signed with a configured key."""
        if not self.verifier.verify(content, signature):
            raise ProblemError(403, "no valid webhook signature")

    async def pay(
        self, kind: Kind, execution: Execution, update: Any, signed_input: SignedInput
    ) -> InputReceipt:
        """Hand ``signed_input`` to the execution: taken, a duplicate of the input taken, or
        409 (refused by the workflow: not awaiting payment, another input taken, closed)."""
        if _already_took(kind, execution.memo, signed_input):
            return InputReceipt(duplicate=True)
        workflow_id = execution.workflow_id
        try:
            receipt: InputReceipt = await self.executions.update(
                kind, workflow_id, update, signed_input
            )
        except ExecutionClosed:
            # Closed between the describe and the Update: read what it took, once more.
            closed = await self.executions.describe(kind, workflow_id)
            if _already_took(kind, closed.memo, signed_input):
                return InputReceipt(duplicate=True)
            status = _memo(kind, closed.memo).status or "closed"
            raise ProblemError(
                409, f"{kind.name} {workflow_id} is {status}, not awaiting_payment"
            ) from None
        log.info(
            "input %s %s_id=%s source=%s",
            "re-sent" if receipt.duplicate else "accepted",
            kind.name,
            workflow_id,
            signed_input.source,
        )
        return receipt


def _memo(kind: Kind, memo: Any) -> JobMemo | BatchMemo:
    return BatchMemo.model_validate(memo) if kind is BATCH else JobMemo.model_validate(memo)


def _already_took(kind: Kind, memo: Any, signed_input: SignedInput) -> bool:
    """The memo says this very input (or webhook delivery) was taken already."""
    job = _memo(kind, memo)
    if isinstance(job, BatchMemo):
        return job.input_fingerprint == signed_input.fingerprint()
    if signed_input.webhook_id is not None:
        return job.input_webhook_id == signed_input.webhook_id
    return job.input_fingerprint is not None and job.input_fingerprint == signed_input.fingerprint()
