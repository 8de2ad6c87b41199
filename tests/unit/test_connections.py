"""Binance's connection-attempt limit: at most 300 per 5 minutes, kept with a margin."""

from __future__ import annotations

import pytest

from recorder.binance.connections import AttemptBudget


def test_attempts_within_the_share_need_no_wait() -> None:
    budget = AttemptBudget(limit=10, window_s=100.0, share=0.5)
    for t in range(5):
        assert budget.delay(float(t)) == 0.0
        budget.record(float(t))
    assert budget.delay(5.0) == pytest.approx(95.0)  # the attempt at t=0 must age out first


def test_old_attempts_age_out_of_the_window() -> None:
    budget = AttemptBudget(limit=2, window_s=10.0, share=1.0)
    budget.record(0.0)
    budget.record(1.0)
    assert budget.delay(5.0) == pytest.approx(5.0)
    assert budget.delay(10.0) == 0.0
    budget.record(10.0)
    assert budget.delay(10.5) == pytest.approx(0.5)


def test_default_keeps_a_fifth_of_binances_300_for_other_programs() -> None:
    budget = AttemptBudget()
    for i in range(240):
        assert budget.delay(i * 0.1) == 0.0
        budget.record(i * 0.1)
    assert budget.delay(24.0) > 0
