"""Retention: duration parsing, prune plans and applying them to a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recorder.errors import UsageError
from recorder.read.retention import apply_prune, parse_duration, plan_prune
from recorder.storage.layout import (
    MAX_TS_S,
    GapRecord,
    PendingWrites,
    second_of,
)
from recorder.storage.store import Store
from tests.helpers import encoded

CUTOFF = 106
BTC_SECONDS = [*range(100, 105), *range(108, 112), *range(115, 120)]
ETH_SECONDS = list(range(100, 110))
# BTCUSDT: one gap wholly before the cut-off, one straddling it, one after it.
BTC_GAPS = [
    GapRecord("BTCUSDT", 95, 99, "startup"),
    GapRecord("BTCUSDT", 105, 107, "sequence_gap"),
    GapRecord("BTCUSDT", 112, 114, "disconnect"),
]
ETH_GAPS = [GapRecord("ETHUSDT", 95, 99, "startup")]


# -- parse_duration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7d", 7 * 86_400),
        ("12h", 12 * 3600),
        ("30m", 30 * 60),
        ("45s", 45),
        ("1d", 86_400),
        (" 2h ", 7200),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text, option="--retain") == seconds


@pytest.mark.parametrize("text", ["0d", "7x", "", "d", "-1d", "1.5d", "7", "7 d", "7D", "0s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(text, option="--retain")
    message = str(info.value)
    assert message.startswith("--retain ")
    assert repr(text) in message
    assert "7d" in message  # an example of what works


# -- the store ----------------------------------------------------------------------------------


def _put_snapshots(store: Store, symbol: str, seconds: list[int]) -> None:
    pending = PendingWrites()
    for s in seconds:
        value = encoded(s * 1000, s, s * 1000 + 1, [("100.5", "1")], [("101", "2")])
        pending.put_snapshot(symbol, s, value)
    store.write(pending)


def _put_gaps(store: Store, gaps: list[GapRecord]) -> None:
    pending = PendingWrites()
    for gap in gaps:
        pending.record_gap(gap)
    store.write(pending)


def _seconds(store: Store, symbol: str) -> list[int]:
    return [second_of(bytes(key)) for key, _ in store.scan(symbol, 0, MAX_TS_S)]


def _sessions(store: Store) -> list[int]:
    return [session.start_s for session in store.sessions()]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open_writer(tmp_path / "db") as opened:
        _put_snapshots(opened, "BTCUSDT", BTC_SECONDS)
        _put_snapshots(opened, "ETHUSDT", ETH_SECONDS)
        _put_gaps(opened, BTC_GAPS + ETH_GAPS)
        opened.put_session(40, {"start": 40, "end": 60})  # ended before the cut-off
        opened.put_session(70, {"start": 70, "end": None})  # never ended cleanly
        opened.put_session(90, {"start": 90, "end": CUTOFF})  # ended at the cut-off
        opened.put_session(100, {"start": 100, "end": 200})
        yield opened


# -- plan_prune ---------------------------------------------------------------------------------


def test_plan_counts_snapshots_before_the_cutoff(store: Store) -> None:
    plan = plan_prune(store, CUTOFF)
    assert plan.cutoff_s == CUTOFF
    assert plan.snapshots == {"BTCUSDT": 5, "ETHUSDT": 6}  # 100..104; 100..105
    assert plan.total == 11


def test_plan_for_one_symbol(store: Store) -> None:
    plan = plan_prune(store, CUTOFF, ["ETHUSDT"])
    assert plan.snapshots == {"ETHUSDT": 6}
    assert plan.gap_deletes == [GapRecord("ETHUSDT", 95, 99, "startup")]
    assert plan.gap_puts == []
    assert plan.session_deletes == []  # sessions span every symbol: kept for a partial prune


def test_plan_gap_records(store: Store) -> None:
    plan = plan_prune(store, CUTOFF, ["BTCUSDT"])
    assert plan.gap_deletes == BTC_GAPS[:2]
    (trimmed,) = plan.gap_puts
    assert trimmed == GapRecord("BTCUSDT", CUTOFF, 107, "sequence_gap")
    assert BTC_GAPS[2] not in plan.gap_deletes


def test_plan_deletes_ended_sessions_only_when_pruning_every_symbol(store: Store) -> None:
    plan = plan_prune(store, CUTOFF)
    assert plan.session_deletes == [40]
    assert sorted(plan.gap_deletes, key=repr) == sorted([*BTC_GAPS[:2], *ETH_GAPS], key=repr)


def test_plan_changes_nothing(store: Store) -> None:
    plan_prune(store, CUTOFF)
    assert _seconds(store, "BTCUSDT") == BTC_SECONDS
    assert store.gaps() == BTC_GAPS + ETH_GAPS
    assert _sessions(store) == [40, 70, 90, 100]


def test_plan_before_everything_is_empty(store: Store) -> None:
    plan = plan_prune(store, 50)
    assert plan.snapshots == {"BTCUSDT": 0, "ETHUSDT": 0}
    assert plan.total == 0
    assert plan.gap_deletes == []
    assert plan.session_deletes == []
    assert plan.gap_puts == []


# -- apply_prune --------------------------------------------------------------------------------


def test_apply_prune_every_symbol(store: Store) -> None:
    store.flush()
    reclaimed = apply_prune(store, plan_prune(store, CUTOFF))
    assert reclaimed >= 0
    assert _seconds(store, "BTCUSDT") == [s for s in BTC_SECONDS if s >= CUTOFF]
    assert _seconds(store, "ETHUSDT") == [106, 107, 108, 109]
    assert store.count("BTCUSDT", 0, CUTOFF - 1) == 0
    assert store.gaps() == [
        GapRecord("BTCUSDT", CUTOFF, 107, "sequence_gap"),
        GapRecord("BTCUSDT", 112, 114, "disconnect"),
    ]
    assert _sessions(store) == [70, 90, 100]


def test_apply_prune_one_symbol_leaves_the_others(store: Store) -> None:
    reclaimed = apply_prune(store, plan_prune(store, CUTOFF, ["BTCUSDT"]))
    assert reclaimed >= 0
    assert _seconds(store, "BTCUSDT") == [108, 109, 110, 111, 115, 116, 117, 118, 119]
    assert _seconds(store, "ETHUSDT") == ETH_SECONDS
    assert store.gaps() == [
        GapRecord("BTCUSDT", CUTOFF, 107, "sequence_gap"),
        GapRecord("BTCUSDT", 112, 114, "disconnect"),
        *ETH_GAPS,
    ]
    assert _sessions(store) == [40, 70, 90, 100]


def test_apply_prune_is_seen_by_a_new_reader(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with Store.open_writer(path) as writer:
        _put_snapshots(writer, "BTCUSDT", list(range(1000, 1200)))
        writer.flush()
        apply_prune(writer, plan_prune(writer, 1150))
    with Store.open_reader(path) as reader:
        assert _seconds(reader, "BTCUSDT") == list(range(1150, 1200))


def test_apply_prune_twice_is_harmless(store: Store) -> None:
    apply_prune(store, plan_prune(store, CUTOFF))
    again = plan_prune(store, CUTOFF)
    assert again.total == 0
    assert again.gap_deletes == []
    assert again.session_deletes == []
    assert apply_prune(store, again) >= 0
    assert _seconds(store, "ETHUSDT") == [106, 107, 108, 109]


def test_prune_every_symbol_drops_old_gaps_of_symbols_without_snapshots(tmp_path: Path) -> None:
    """A prune that removes a symbol's last snapshot but trims a straddling gap leaves that
    symbol with a gap record and no snapshots; a later prune of every symbol must still drop
    the gap once it lies wholly before the cut-off ("gap records that end before the cut-off
    go too")."""
    with Store.open_writer(tmp_path / "db") as writer:
        _put_snapshots(writer, "BTCUSDT", list(range(100, 300)))
        _put_snapshots(writer, "XRPUSDT", list(range(100, 105)))  # then no longer recorded
        _put_gaps(writer, [GapRecord("XRPUSDT", 105, 160, "shutdown")])
        apply_prune(writer, plan_prune(writer, 150))
        assert writer.symbols() == ["BTCUSDT"]
        assert writer.gaps() == [GapRecord("XRPUSDT", 150, 160, "shutdown")]

        plan = plan_prune(writer, 250)
        assert GapRecord("XRPUSDT", 150, 160, "shutdown") in plan.gap_deletes
        apply_prune(writer, plan)
        assert writer.gaps() == []


# -- what is not shipped to a lake ---------------------------------------------------------------


def test_unshipped_seconds_lower_their_symbols_cutoff(store: Store) -> None:
    """BTCUSDT is shipped up to 101 only: it keeps 101 on, gaps included; a mark past the
    cut-off holds nothing back (ETHUSDT)."""
    plan = plan_prune(store, CUTOFF, keep_from={"BTCUSDT": 101, "ETHUSDT": 500})
    assert plan.held == {"BTCUSDT": 101}
    assert plan.snapshots == {"BTCUSDT": 1, "ETHUSDT": 6}
    apply_prune(store, plan)
    assert _seconds(store, "BTCUSDT") == [s for s in BTC_SECONDS if s >= 101]
    assert _seconds(store, "ETHUSDT") == [106, 107, 108, 109]
    assert GapRecord("BTCUSDT", 105, 107, "sequence_gap") in store.gaps()


def test_prune_reads_the_marks_and_unshipped_overrides_them(tmp_path: Path) -> None:
    from recorder.read.retention import prune
    from recorder.storage.shipmarks import write_marks

    path = tmp_path / "db"
    with Store.open_writer(path) as opened:
        _put_snapshots(opened, "BTCUSDT", BTC_SECONDS)
    write_marks(path, "s3://lake/a", {"BTCUSDT": 108})
    write_marks(path, "s3://lake/b", {"BTCUSDT": 103})  # the slower lake decides
    assert prune(path, CUTOFF, dry_run=True).plan.snapshots == {"BTCUSDT": 3}
    assert prune(path, CUTOFF, dry_run=True, unshipped=True).plan.snapshots == {"BTCUSDT": 5}
