"""The payment webhook's timestamp window at its exact edges (Standard Webhooks: 5 minutes),
on a fixed clock; tests/api/test_webhooks.py checks the route with a margin."""

from __future__ import annotations

import pytest

from api.problems import ProblemError
from api.routes import webhooks

NOW = 1_800_000_000


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks.time, "time", lambda: NOW + 0.999)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_timestamps_within_300_s_pass(skew: int):
    webhooks._check_timestamp(str(NOW + skew), 300)


@pytest.mark.parametrize(("skew", "word"), [(-301, "too old"), (301, "too new")])
def test_one_second_beyond_is_refused(skew: int, word: str):
    with pytest.raises(ProblemError) as refused:
        webhooks._check_timestamp(str(NOW + skew), 300)
    assert refused.value.status == 400 and word in refused.value.detail
