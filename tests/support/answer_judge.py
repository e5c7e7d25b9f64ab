"""Judge the simulator's own answers by the official documents, in the simulator's tests.

The session's spec judge (``tests/support/spec_judge.py``) is paused there, because those
tests send what the real API must refuse. Their answers still have to be what the document
says eBay answers: ``AnswerJudge`` is an ``httpx`` response hook that judges each one (and,
with ``requests=True``, each request too) with ``simulator.spec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from simulator.spec import judge_exchange, judge_response


@dataclass
class AnswerJudge:
    requests: bool = False
    judged: int = 0
    rejected: list[str] = field(default_factory=list)

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        verdict = (
            judge_exchange(response.request, response)
            if self.requests
            else judge_response(response)
        )
        if verdict is None or not verdict.has_spec:
            return
        self.judged += 1
        if verdict.rejected:
            self.rejected.append(verdict.describe())
