"""Outcomes in, the next batch and the run's counters out (recorder/outcomes.py)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from recorder.book.snapshot import Sample
from recorder.book.sync import Gap, GapReason, Invalidate, Outcome, RequestSnapshot, Synced
from recorder.outcomes import Outcomes
from recorder.runstats import RunStats, RunTotals
from recorder.storage.layout import gap_entry, symbol_end


def _snap(ts_s: int) -> Sample:
    """Bid 100.5 for 1, ask 101 for 2 (in the book's counts of 1e-8)."""
    return Sample(
        "BTCUSDT",
        ts_s,
        ts_s * 1000 + 5,
        ts_s,
        ts_s * 1000 + 9,
        [10050000000],
        [10**8],
        [10**10 + 10**8],
        [2 * 10**8],
    )


@pytest.fixture
def requests() -> list[RequestSnapshot]:
    return []


@pytest.fixture
def outcomes(requests: list[RequestSnapshot]) -> Outcomes:
    return Outcomes({"BTCUSDT": RunStats()}, RunTotals(), requests.append)


def test_snapshots_are_queued_and_counted(outcomes: Outcomes) -> None:
    outcomes.handle([_snap(10), _snap(11), Synced("BTCUSDT", 7)])
    stats = outcomes.stats["BTCUSDT"]
    assert (stats.snapshots, stats.last_stored_s) == (2, 11)
    assert list(outcomes.pending.snapshot_seconds()) == [10, 11]


def test_invalidate_drops_queued_seconds_and_uncounts_them(outcomes: Outcomes) -> None:
    outcomes.handle([_snap(10), _snap(11), _snap(12), Invalidate("BTCUSDT", 11)])
    stats = outcomes.stats["BTCUSDT"]
    assert (stats.snapshots, stats.last_stored_s) == (1, 10)
    assert list(outcomes.pending.snapshot_seconds()) == [10]
    assert outcomes.pending.delete_ranges[0][1] == symbol_end("BTCUSDT")


def test_gaps_become_meta_records_and_counters(outcomes: Outcomes) -> None:
    outcomes.handle([Gap("BTCUSDT", 5, 7, GapReason.DISCONNECT)])
    assert outcomes.pending.meta_puts == [gap_entry("BTCUSDT", 5, 7, "disconnect")]
    assert outcomes.stats["BTCUSDT"].gap_seconds == 3
    assert outcomes.totals.gaps_by_reason["disconnect"] == 1


def test_requests_go_to_the_snapshot_workers(
    outcomes: Outcomes, requests: list[RequestSnapshot]
) -> None:
    outcomes.handle([RequestSnapshot("BTCUSDT", 1)])
    assert requests == [RequestSnapshot("BTCUSDT", 1)]
    assert not outcomes.pending


def test_an_unknown_outcome_is_refused_not_dropped(outcomes: Outcomes) -> None:
    with pytest.raises(AssertionError):
        outcomes.handle([cast(Outcome, cast(Any, object()))])


def test_take_starts_a_new_batch_and_written_counts_it(outcomes: Outcomes) -> None:
    outcomes.handle([_snap(10), _snap(11)])
    pending = outcomes.take()
    assert pending.snapshots == 2
    assert not outcomes.pending
    outcomes.written(pending, took_s=0.01, now_s=13.5)
    totals = outcomes.totals
    assert (totals.snapshots_written, totals.last_write_s) == (2, 13.5)
    assert totals.write_seconds.count == 1
    assert totals.snapshot_delay_seconds.count == 2
    assert totals.snapshot_delay_seconds.total == pytest.approx((13.5 - 11) + (13.5 - 12))
