"""A workflow that breaks the determinism rule, for the sandbox test (its own module: the
sandbox imports the module a workflow is defined in)."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow


@workflow.defn
class ReadsTheClock:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()  # not workflow.now(): non-deterministic
