"""schemathesis over the OpenAPI schema: generated requests never get a 5xx, and every error
is problem+json with a detail. A real uvicorn server (``served_api``) on the session's dev
server.

The schemathesis pytest plugin does not run on pytest 9, so its Hypothesis strategies
(``operation.as_strategy``) are driven directly, by ``exercise_schema``: a small budget in
``make test``, a large one, with schema-violating (negative) data too, in
``make test-reliability``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import pytest
import schemathesis
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis.errors import Unsatisfiable

from tests.api.conftest import ADMIN_TOKEN
from tests.api.helpers import check_problem_shape

MAX_EXAMPLES = 25
RELIABILITY_EXAMPLES = 300
POSITIVE = schemathesis.GenerationMode.POSITIVE
NEGATIVE = schemathesis.GenerationMode.NEGATIVE


def _check(case: schemathesis.Case, statuses: Counter[int]) -> None:
    response = case.call(timeout=30)
    statuses[response.status_code] += 1
    check_problem_shape(
        response.status_code,
        response.headers.get("content-type", [""])[0],
        response.content,
        f"{case.method} {case.formatted_path} -> {response.status_code}",
    )


def exercise_schema(
    base_url: str,
    *,
    max_examples: int,
    modes: Sequence[schemathesis.GenerationMode] = (POSITIVE,),
    headers: dict[str, str] | None = None,
) -> tuple[Counter[int], int]:
    """Every operation of the served schema, ``max_examples`` generated requests each, in
    each generation mode; every response checked by ``_check``. Returns the count of each
    status and the number of operations. In NEGATIVE mode, operations with nothing that can
    violate the schema (no parameters, no body) are left out."""
    api_schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12, [op.label for op in operations]
    statuses: Counter[int] = Counter()
    for mode in modes:
        for operation in operations:

            @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
            @settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                # Unsatisfiable (nothing to negate) would print a "reproduce with @seed" line.
                verbosity=Verbosity.quiet if mode is NEGATIVE else Verbosity.normal,
            )
            def exercise(case: schemathesis.Case) -> None:
                _check(case, statuses)

            try:
                exercise()
            except Unsatisfiable:
                assert mode is NEGATIVE, operation.label  # nothing to negate: GET /health
    return statuses, len(operations)


def _summary(statuses: Counter[int]) -> str:
    return f"statuses {dict(sorted(statuses.items()))}, 5xx: " + str(
        sum(n for status, n in statuses.items() if status >= 500)
    )


def test_no_5xx_and_every_error_is_problem_json(served_api: str) -> None:
    """Issue 4: schemathesis over the OpenAPI schema with a bounded number of examples per
    operation."""
    statuses, operations = exercise_schema(served_api, max_examples=MAX_EXAMPLES)
    total = sum(statuses.values())
    # The run must have exercised the API, both accepted and rejected requests.
    assert total >= 5 * operations, total
    assert any(s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)
    print(f"\nschemathesis: {total} requests over {operations} operations, {_summary(statuses)}")


@pytest.mark.reliability
@pytest.mark.timeout(900)
def test_large_budget_with_schema_violating_data(served_api: str) -> None:
    """Issue 6, item 6: the same checks with a much larger budget, in both generation modes
    (NEGATIVE: bodies, parameters and headers that violate the schema), with the admin token,
    so the admin and codec routes are exercised past their 403. About 3 minutes here."""
    started = time.monotonic()
    statuses, operations = exercise_schema(
        served_api,
        max_examples=RELIABILITY_EXAMPLES,
        modes=(POSITIVE, NEGATIVE),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    total = sum(statuses.values())
    assert total >= 100 * operations, total
    assert any(s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)
    print(
        f"\nschemathesis (large budget, positive + negative): {total} requests over "
        f"{operations} operations in {time.monotonic() - started:.0f} s, {_summary(statuses)}"
    )
