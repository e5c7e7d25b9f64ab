"""Keeping a workflow's search attributes current (issue 16): one upsert when a transition
changed them, none otherwise."""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.common import TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from domain.job_search import changed


def upsert_changed(wanted: TypedSearchAttributes, guard: Callable[[], bool] = lambda: True) -> None:
    """Upsert the keys of ``wanted`` whose value differs from the workflow's current ones (set
    at start by the gateway, or by an earlier upsert), in one command; nothing when none does.

    ``guard`` (the job's ``workflow.patched(JOB_V2)``, ``workflows/patches.py``) is asked only
    when there is something to write, so a job history recorded before the upserts replays
    with none at all.
    """
    updates = changed(workflow.info().typed_search_attributes, wanted)
    if updates and guard():
        workflow.upsert_search_attributes(updates)
