"""Health and watchdog rules, and the summary they read: pure functions of a Summary and a time."""

from __future__ import annotations

import math
from dataclasses import replace

from recorder.observe.health import MAX_WRITE_AGE_S, check_health, watchdog_may_pet
from recorder.observe.summary import Summary, format_delay, status_text, summarize
from recorder.runstats import SymbolState
from tests.helpers import FakeRecorder

LIVE, SYNCING, RESYNCING = SymbolState.LIVE, SymbolState.SYNCING, SymbolState.RESYNCING
NOW = 1_000_000.0


def summary(**changes: object) -> Summary:
    healthy = Summary(
        ready=True,
        started_s=NOW - 100,
        symbols=3,
        not_live={},
        snapshots_written=300,
        last_write_s=NOW - 0.5,
        gaps=3,
        gap_seconds=4,
        resyncs=0,
        p99_delay_s=1.25,
    )
    return replace(healthy, **changes)  # type: ignore[arg-type]


def test_every_symbol_live_and_a_recent_write_is_healthy() -> None:
    health = check_health(summary(), NOW)
    assert health.ok
    assert health.body["status"] == "ok"
    assert health.body["reasons"] == []
    assert health.body["live"] == 3
    assert health.body["seconds_since_last_write"] == 0.5


def test_not_ready_is_starting() -> None:
    health = check_health(summary(ready=False, started_s=0.0, last_write_s=None), NOW)
    assert not health.ok
    assert health.body["status"] == "starting"


def test_a_symbol_not_live_is_unhealthy_and_named() -> None:
    health = check_health(summary(not_live={"ETHUSDT": RESYNCING}), NOW)
    assert not health.ok
    assert health.body["status"] == "unhealthy"
    assert health.body["not_live"] == {"ETHUSDT": "resyncing"}
    assert health.body["live"] == 2
    assert health.body["reasons"] == ["1 of 3 symbol(s) not live: ETHUSDT"]


def test_many_symbols_not_live_are_named_up_to_ten() -> None:
    not_live = {f"S{i:02d}USDT": SYNCING for i in range(15)}
    health = check_health(summary(symbols=1500, not_live=not_live), NOW)
    reasons = health.body["reasons"]
    assert isinstance(reasons, list)
    (reason,) = reasons
    assert reason.startswith("15 of 1500 symbol(s) not live: S00USDT, S01USDT")
    assert reason.endswith("S09USDT and 5 more")
    assert len(health.body["not_live"]) == 15  # type: ignore[arg-type]


def test_no_recent_write_is_unhealthy_even_when_all_are_live() -> None:
    stale = summary(last_write_s=NOW - MAX_WRITE_AGE_S - 2)
    health = check_health(stale, NOW)
    assert not health.ok
    assert health.body["reasons"] == ["no snapshot written for 12 s"]
    assert check_health(stale, NOW, max_write_age_s=60).ok


def test_live_symbols_without_any_snapshot_written_are_not_healthy_yet() -> None:
    health = check_health(summary(last_write_s=None, started_s=NOW - 2), NOW)
    assert not health.ok
    assert health.body["reasons"] == ["no snapshot written yet"]
    assert health.body["seconds_since_last_write"] is None


def test_both_reasons_are_given_together() -> None:
    health = check_health(summary(not_live={"A": SYNCING}, last_write_s=NOW - 60), NOW)
    assert len(health.body["reasons"]) == 2  # type: ignore[arg-type]


def test_watchdog_is_petted_while_snapshots_keep_being_written() -> None:
    assert watchdog_may_pet(summary(), NOW)
    assert watchdog_may_pet(summary(not_live={"A": RESYNCING}, last_write_s=NOW - 60), NOW)
    assert not watchdog_may_pet(summary(last_write_s=NOW - 301), NOW)
    assert watchdog_may_pet(summary(last_write_s=NOW - 301), NOW, stall_s=600)
    assert watchdog_may_pet(summary(last_write_s=None, started_s=NOW - 10), NOW)
    assert not watchdog_may_pet(summary(last_write_s=None, started_s=NOW - 400), NOW)
    assert not watchdog_may_pet(summary(ready=False), NOW)


def test_summarize_reads_states_gaps_resyncs_and_the_delay_quantile() -> None:
    fake = FakeRecorder({"BTCUSDT": LIVE, "ETHUSDT": RESYNCING, "SOLUSDT": SYNCING})
    fake.ready.set()
    fake.syncs["ETHUSDT"].resyncs = 2
    fake.totals.gaps_by_reason.update({"startup": 3, "sequence_gap": 1})
    fake.totals.gap_seconds_by_reason.update({"startup": 3, "sequence_gap": 7})
    fake.totals.snapshot_delay_seconds.observe(0.6, n=99)
    fake.totals.snapshot_delay_seconds.observe(2.2)
    got = summarize(fake)
    assert got.ready
    assert (got.symbols, got.live) == (3, 1)
    assert got.not_live == {"ETHUSDT": RESYNCING, "SOLUSDT": SYNCING}
    assert (got.gaps, got.gap_seconds, got.resyncs) == (4, 10, 2)
    assert got.p99_delay_s == 0.75
    assert status_text(got) == (
        "1/3 live, 0 snapshots written, 4 gaps (10 s), 2 resyncs, p99 snapshot delay 0.75 s"
    )


def test_delays_read_for_people() -> None:
    assert format_delay(None) == "-"
    assert format_delay(1.5) == "1.5 s"
    assert format_delay(math.inf) == ">30 s"
