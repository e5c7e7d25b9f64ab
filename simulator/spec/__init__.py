"""The official OpenAPI documents as a judge of marketplace HTTP exchanges.

Used by the tests (every adapter exchange is validated) and by the simulator (fault rules and
the call log name operations by their official operationId)::

    from simulator.spec import judge_exchange
    verdict = judge_exchange(response.request, response)  # None: not a marketplace API
    verdict.operation_id, verdict.errors, verdict.has_spec
"""

from simulator.spec.documents import SOURCES, SPECS_DIR, SpecSource, operation_ids
from simulator.spec.judge import (
    Location,
    Verdict,
    judge_exchange,
    judge_request,
    judge_response,
    locate,
    operation_id,
)

__all__ = [
    "SOURCES",
    "SPECS_DIR",
    "Location",
    "SpecSource",
    "Verdict",
    "judge_exchange",
    "judge_request",
    "judge_response",
    "locate",
    "operation_id",
    "operation_ids",
]
