"""Keeping a workflow's search attributes current (issue 16): one upsert when a transition
changed them, none otherwise; behind ``workflow.patched`` so older histories replay."""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from domain.job_search import SEARCH_PATCH, changed


def upsert_changed(wanted: TypedSearchAttributes) -> None:
    """Upsert the keys of ``wanted`` whose value differs from the workflow's current ones (set
    at start by the gateway, or by an earlier upsert), in one command; nothing when none does.

    ``workflow.patched`` is asked only when there is something to write, so a history without
    the marker (recorded before issue 16) replays with no upsert at all.
    """
    updates = changed(workflow.info().typed_search_attributes, wanted)
    if updates and workflow.patched(SEARCH_PATCH):
        workflow.upsert_search_attributes(updates)
