"""The run counters that observers poll: histogram buckets in Prometheus's shape."""

from __future__ import annotations

import math

from recorder.runstats import Histogram, RunStats


def test_histogram_buckets_are_cumulative_like_prometheus_le() -> None:
    h = Histogram((1.0, 2.0, 5.0))
    for value in (0.5, 1.0, 1.5, 4.0, 9.0):
        h.observe(value)
    h.observe(2.0, n=3)
    assert h.cumulative() == [2, 6, 7], "a value equal to a bound counts in that bound (le)"
    assert h.count == 8
    assert math.isclose(h.total, 0.5 + 1.0 + 1.5 + 4.0 + 9.0 + 6.0)


def test_histogram_quantile_is_the_first_bound_reaching_the_rank() -> None:
    h = Histogram((1.0, 2.0, 5.0))
    assert h.quantile(0.99) is None
    h.observe(0.1, n=98)
    h.observe(1.9, n=1)
    h.observe(3.0, n=1)
    assert h.quantile(0.5) == 1.0
    assert h.quantile(0.99) == 2.0
    assert h.quantile(1.0) == 5.0
    h.observe(60.0, n=10)
    assert h.quantile(0.99) == math.inf, "above the last bound is reported as unbounded"


def test_lag_is_unknown_until_an_update_arrived() -> None:
    stats = RunStats()
    assert stats.lag_ms is None
    stats.last_event_time_ms, stats.last_recv_ms = 1_000, 1_042
    assert stats.lag_ms == 42
