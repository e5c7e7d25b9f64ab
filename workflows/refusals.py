"""How a workflow refuses an Update: one error type the gateway turns into 409 with its reason."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.messages import INVALID_INPUT, REFUSED


def refuse(refusal: str | None) -> None:
    """Raise in an Update's validator (or handler) when ``refusal`` says why the state does not
    allow it: the Update is rejected, nothing is recorded in history."""
    if refusal is not None:
        raise ApplicationError(refusal, type=REFUSED, non_retryable=True)


def refuse_input(errors: list[tuple[str, str]]) -> None:
    """Raise in an Update's validator when submitted form values do not fit: ``errors`` as
    (field id, message); the gateway answers 422 naming each field. Nothing is recorded."""
    if errors:
        details = [{"field": field, "message": message} for field, message in errors]
        text = "; ".join(f"{field}: {message}" for field, message in errors)
        raise ApplicationError(text, details, type=INVALID_INPUT, non_retryable=True)
