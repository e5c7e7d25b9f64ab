"""Issue 12 item 5: the request budget's lease arithmetic (``domain.request_budget``), pure.

The same function runs inside ``RequestBudgetWorkflow`` (tests/workflow/test_request_budget.py
drives it through Temporal). Here Hypothesis drives it with arbitrary schedules of asks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.request_budget import Lease, committed_total, grant

T0 = datetime(2026, 1, 1, tzinfo=UTC)
VALID = timedelta(seconds=10)
TINY = timedelta(microseconds=1)


def worst_sum(every_lease: list[Lease]) -> float:
    """The largest committed total over time: it changes only when a lease is granted or
    expires, so it is checked at every grant and just before every expiry."""
    instants = {x.granted_at for x in every_lease} | {x.expires_at - TINY for x in every_lease}
    return max(committed_total(every_lease, at) for at in instants)


class Budget:
    """The workflow's part, without Temporal: the kept leases, and every lease ever granted."""

    def __init__(self) -> None:
        self.kept: list[Lease] = []
        self.granted: list[Lease] = []

    def ask(self, worker: str, at: float, rate: float = 5.0) -> float:
        lease, self.kept = grant(self.kept, worker, rate, T0 + timedelta(seconds=at), VALID)
        self.granted.append(lease)
        return lease.share_per_second


asks = st.lists(
    st.tuples(st.integers(0, 4), st.floats(0, 12, allow_nan=False)), min_size=1, max_size=60
)


@settings(max_examples=300, deadline=None, database=None)
@given(rate=st.sampled_from([0.5, 2.0, 5.0, 10.0, 23.0]), schedule=asks)
def test_shares_live_at_any_instant_never_add_up_to_more_than_the_rate(
    rate: float, schedule: list[tuple[int, float]]
):
    """Whoever asks, whenever: the shares of the leases live at any one instant (a process
    counted at the largest of its live leases) add up to at most the rate."""
    budget, now = Budget(), 0.0
    for worker, pause in schedule:
        now += pause
        budget.ask(f"w{worker}", now, rate)
    assert worst_sum(budget.granted) <= rate + 1e-9


def test_a_new_worker_gets_nothing_until_the_older_ones_larger_lease_expires():
    budget = Budget()
    assert budget.ask("a", 0) == 5.0
    assert budget.ask("b", 1) == 0.0  # a may be sending at 5/s until t=10
    assert budget.ask("a", 3.3) == 2.5  # a's fair share now, but its 5/s lease lives on
    assert budget.ask("b", 5) == 0.0
    assert budget.ask("b", 10.1) == 2.5  # a's 5/s lease is over: the half it gave up is free
    assert worst_sum(budget.granted) <= 5.0


def test_a_dead_workers_share_returns_once_its_lease_expires():
    budget = Budget()
    budget.ask("a", 0)
    budget.ask("b", 1)
    for at in (3.3, 6.6, 9.9):
        assert budget.ask("a", at) == 2.5
    assert budget.ask("b", 10.1) == 2.5  # b's last ask: it dies holding 2.5 until t=20.1
    for at in (13.2, 16.5, 19.8):
        assert budget.ask("a", at) == 2.5
    assert budget.ask("a", 20.2) == 5.0


def test_the_strictest_configured_rate_binds():
    """A process configured with a lower limit lowers everyone's share at their renewal."""
    budget = Budget()
    assert budget.ask("a", 0, rate=10) == 10.0
    assert budget.ask("b", 1, rate=4) == 0.0  # a holds 10 > 4
    assert budget.ask("a", 3.3, rate=10) == 2.0  # min(4 / 2, 4 - 0)
    assert budget.ask("b", 10.5, rate=4) == 2.0
