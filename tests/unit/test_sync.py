"""Every rule of ``recorder.book.sync`` (named as in its docstring), then a property test."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.binance.market import Continuity, Market, spec
from recorder.binance.wire import DepthSnapshot, DepthUpdate
from recorder.book.snapshot import Sample
from recorder.book.sync import (
    EventWindow,
    Gap,
    GapReason,
    Invalidate,
    Outcome,
    RequestSnapshot,
    SymbolSync,
    Synced,
    SyncState,
)
from tests.helpers import decimal_levels, raw_levels

SYMBOL = "BTCUSDT"
Levels = Iterable[tuple[str, str]]
T = TypeVar("T")


def levels(sample: Sample) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A stored second's (bids, asks) as exact decimals."""
    return (
        decimal_levels(sample.bid_prices, sample.bid_qtys),
        decimal_levels(sample.ask_prices, sample.ask_qtys),
    )


def book_top(sync: SymbolSync, depth: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The machine's book, best ``depth`` levels a side, as exact decimals."""
    bid_prices, bid_qtys, ask_prices, ask_qtys = sync.book.top(depth)
    return decimal_levels(bid_prices, bid_qtys), decimal_levels(ask_prices, ask_qtys)


def ev(first: int, last: int, time_ms: int, bids: Levels = (), asks: Levels = ()) -> DepthUpdate:
    return DepthUpdate(
        SYMBOL, time_ms, first, last, raw_levels(bids), raw_levels(asks), time_ms + 5
    )


def snap(
    last_id: int, bids: Levels = (("10", "1"),), asks: Levels = (("20", "1"),)
) -> DepthSnapshot:
    return DepthSnapshot(last_id, raw_levels(bids), raw_levels(asks))


def of_type(outcomes: list[Outcome], kind: type[T]) -> list[T]:
    return [o for o in outcomes if isinstance(o, kind)]


def live_machine(last_id: int = 100, time_ms: int = 1_000_000_100) -> SymbolSync:
    """A machine that went live on a snapshot at ``last_id`` bridged by an event at ``time_ms``."""
    sync = SymbolSync(SYMBOL, depth=5)
    sync.on_event(ev(last_id, last_id + 1, time_ms))
    sync.on_snapshot(snap(last_id))
    assert sync.state is SyncState.LIVE
    return sync


# -- sync rules ---------------------------------------------------------------------------------


def queued() -> SymbolSync:
    sync = SymbolSync(SYMBOL, depth=5)
    sync.on_event(ev(10, 12, 1_000))
    return sync


def fetching() -> SymbolSync:
    sync = queued()
    sync.on_request_sent()
    return sync


def bridging() -> SymbolSync:
    sync = queued()
    sync.on_snapshot(snap(30))  # newer than every event kept: waits for one that bridges it
    return sync


@pytest.mark.parametrize(
    ("start", "step", "state", "outcomes"),
    [
        (
            lambda: SymbolSync(SYMBOL, depth=5),
            lambda s: s.on_event(ev(1, 2, 1_000)),
            "QUEUED",
            [RequestSnapshot(SYMBOL, 1)],
        ),
        (queued, lambda s: s.on_request_sent(), "FETCHING", None),
        (queued, lambda s: s.on_snapshot_failed(), "QUEUED", [RequestSnapshot(SYMBOL, 2)]),
        (fetching, lambda s: s.on_snapshot_failed(), "QUEUED", [RequestSnapshot(SYMBOL, 2)]),
        (fetching, lambda s: s.on_snapshot(snap(30)), "BRIDGING", []),
        (fetching, lambda s: s.on_disconnect(), "FETCHING", []),
        (queued, lambda s: s.on_disconnect(), "QUEUED", []),
        (bridging, lambda s: s.on_disconnect(), "WAITING", []),
        (bridging, lambda s: s.on_event(ev(31, 33, 1_100)), "LIVE", None),
        (bridging, lambda s: s.on_request_sent(), "BRIDGING", None),
        (bridging, lambda s: s.on_snapshot_failed(), "BRIDGING", []),
        (live_machine, lambda s: s.on_disconnect(), "WAITING", None),
        (live_machine, lambda s: s.on_snapshot(snap(500)), "LIVE", []),
    ],
)
def test_state_table(
    start: Callable[[], SymbolSync],
    step: Callable[[SymbolSync], list[Outcome] | None],
    state: str,
    outcomes: list[Outcome] | None,
) -> None:
    """Each row of the module docstring's table (``None``: the outcomes are other tests')."""
    sync = start()
    out = step(sync)
    assert sync.state is SyncState[state]
    if outcomes is not None:
        assert out == outcomes


def test_s1_first_event_asks_for_one_snapshot() -> None:
    sync = SymbolSync(SYMBOL, depth=5)
    assert sync.on_event(ev(10, 12, 1_000)) == [RequestSnapshot(SYMBOL, 1)]
    assert sync.on_event(ev(13, 14, 1_100)) == []
    assert sync.state is SyncState.QUEUED


def test_s2_drops_buffered_events_the_snapshot_already_covers() -> None:
    sync = SymbolSync(SYMBOL, depth=5)
    sync.on_event(ev(1, 10, 1_000, bids=[("11", "9")]))
    sync.on_event(ev(11, 20, 1_100, bids=[("12", "1")]))
    out = sync.on_snapshot(snap(15))
    assert of_type(out, Synced) == [Synced(SYMBOL, 20)]
    assert sync.update_id == 20
    bids, _ = book_top(sync, 5)
    assert bids == [("12", "1"), ("10", "1")]  # the dropped event's 11 was never applied


def test_s2_snapshot_older_than_the_stream_is_fetched_again() -> None:
    sync = SymbolSync(SYMBOL, depth=5)
    sync.on_event(ev(50, 60, 1_000))
    assert sync.on_snapshot(snap(40)) == [RequestSnapshot(SYMBOL, 1)]
    assert sync.state is SyncState.QUEUED
    assert of_type(sync.on_snapshot(snap(55)), Synced) == [Synced(SYMBOL, 60)]


def test_s3_snapshot_newer_than_every_buffered_event_waits_for_the_bridge() -> None:
    sync = SymbolSync(SYMBOL, depth=5)
    sync.on_event(ev(1, 10, 1_000))
    assert sync.on_snapshot(snap(30)) == []
    assert sync.on_event(ev(11, 29, 1_100)) == []  # u <= lastUpdateId: dropped
    assert sync.state is SyncState.BRIDGING
    assert of_type(sync.on_event(ev(30, 35, 1_200)), Synced) == [Synced(SYMBOL, 35)]


# S3, sooner: a buffered event that ends exactly at the snapshot makes the book live at once.
# (event arrives before / after the snapshot, then what the next event does)
SOONER = [
    # snapshot 30 answers first; the event ending at 30 arrives later
    ("snapshot first", [(1, 10, 1_000)], 30, [(11, 30, 1_100)], 30),
    # the event ending at 30 was buffered before the snapshot came
    ("event first", [(1, 10, 1_000), (11, 30, 1_100)], 30, [], 30),
    # one event only: it is both the first seen and the one the snapshot ends at
    ("single event", [(21, 30, 1_100)], 30, [], 30),
]


@pytest.mark.parametrize(
    ("before", "last_id", "after", "live_at"),
    [case[1:] for case in SOONER],
    ids=[case[0] for case in SOONER],
)
def test_s3_an_event_ending_at_the_snapshot_makes_the_book_live_at_once(
    before: list[tuple[int, int, int]],
    last_id: int,
    after: list[tuple[int, int, int]],
    live_at: int,
) -> None:
    sync = SymbolSync(SYMBOL, depth=5)
    for u_first, u_last, time_ms in before:
        sync.on_event(ev(u_first, u_last, time_ms))
    out = sync.on_snapshot(snap(last_id, bids=[("10", "7")]))
    for u_first, u_last, time_ms in after:
        out += sync.on_event(ev(u_first, u_last, time_ms))
    assert of_type(out, Synced) == [Synced(SYMBOL, live_at)]
    assert sync.live
    assert sync.update_id == last_id
    assert book_top(sync, 5)[0] == [("10", "7")], "the snapshot's book, as it is"
    # Second 1 (the event's, at 1_100 ms) is known from now on: the watermark finalises it.
    (stored,) = of_type(sync.on_watermark(2_000), Sample)
    assert (stored.ts_s, stored.update_id, stored.event_time_ms) == (1, last_id, 1_100)
    assert levels(stored)[0] == [("10", "7")]


@pytest.mark.parametrize(
    ("next_first", "live"), [(31, True), (32, False), (25, False)], ids=["U=31", "gap", "overlap"]
)
def test_s3_the_event_after_the_one_ending_at_the_snapshot_must_continue_it(
    next_first: int, live: bool
) -> None:
    sync = SymbolSync(SYMBOL, depth=5)
    sync.on_event(ev(21, 30, 1_100))
    sync.on_snapshot(snap(30))
    out = sync.on_event(ev(next_first, 40, 5_200))
    assert sync.live is live
    if not live:  # S4: a sequence gap, from the second of the last applied event on
        assert of_type(out, RequestSnapshot) == [RequestSnapshot(SYMBOL, 1)]
        out = sync.on_snapshot(snap(40))
        assert of_type(out, Gap) == [Gap(SYMBOL, 1, 4, GapReason.SEQUENCE_GAP)]
    else:
        assert [s.ts_s for s in of_type(out, Sample)] == [1, 2, 3, 4]


def test_s3_bridge_bounds_are_inclusive() -> None:
    low = SymbolSync(SYMBOL, depth=5)
    low.on_event(ev(101, 110, 1_000))  # U == lastUpdateId + 1
    low.on_snapshot(snap(100))
    high = SymbolSync(SYMBOL, depth=5)
    high.on_event(ev(90, 101, 1_000))  # u == lastUpdateId + 1
    high.on_snapshot(snap(100))
    assert low.state is SyncState.LIVE
    assert high.state is SyncState.LIVE


def test_s4_continuous_events_apply() -> None:
    sync = live_machine(100)
    sync.on_event(ev(102, 105, 1_000_000_200, asks=[("19", "2")]))
    assert sync.update_id == 105
    assert book_top(sync, 1)[1] == [("19", "2")]


def test_s4_old_duplicates_are_ignored() -> None:
    sync = live_machine(100)
    sync.on_event(ev(102, 105, 1_000_000_200, asks=[("19", "2")]))
    assert sync.on_event(ev(102, 105, 1_000_000_200, asks=[("19", "7")])) == []
    assert sync.ignored_events == 1
    assert book_top(sync, 1)[1] == [("19", "2")]


def test_s4_sequence_gap_loses_the_book_and_asks_again() -> None:
    sync = live_machine(100)
    out = sync.on_event(ev(103, 105, 1_000_000_200))
    assert out == [RequestSnapshot(SYMBOL, 1)]
    assert sync.state is SyncState.QUEUED
    assert sync.resyncs == 1


def test_s5_crossed_book_is_lost_instead_of_stored() -> None:
    sync = live_machine(100)
    sync.on_event(ev(102, 102, 1_000_000_200, bids=[("25", "1")]))
    out = sync.on_event(ev(103, 103, 1_000_003_000))  # ends the crossed book's second
    assert out == [RequestSnapshot(SYMBOL, 1)]  # nothing of that second was stored
    assert sync.state is SyncState.QUEUED
    out = sync.on_snapshot(snap(102))  # bridged by the buffered event 103
    assert of_type(out, Gap) == [Gap(SYMBOL, 1_000_000, 1_000_002, GapReason.CROSSED_BOOK)]


def test_s6_bad_levels_again_and_again_resync_at_the_retry_pace_until_a_second_is_stored() -> None:
    sync = live_machine(100)  # live from second 1_000_000
    u, t = 101, 1_000_000_100
    attempts = []
    for _ in range(3):
        # A level the book cannot hold, in the second the book went live in: none is stored.
        out = sync.on_event(ev(u + 1, u + 1, t + 100, bids=[("11", "-1")]))  # lost (S5)
        out += sync.on_event(ev(u + 2, u + 2, t + 1_000))
        assert of_type(out, Sample) == []
        attempts += [r.attempt for r in of_type(out, RequestSnapshot)]
        sync.on_snapshot(snap(u + 2))  # the buffered event ends at it: live again, a second on
        assert sync.live
        u, t = u + 2, t + 1_000
    assert attempts == [1, 2, 3]  # failed calls in a row: the snapshot workers back off

    sync.on_event(ev(u + 1, u + 1, t + 100))
    assert of_type(sync.on_event(ev(u + 2, u + 2, t + 1_000)), Sample) != []
    out = sync.on_event(ev(u + 3, u + 3, t + 1_100, bids=[("11", "-1")]))
    assert [r.attempt for r in of_type(out, RequestSnapshot)] == [1]  # a stored second reset it


def test_s5_crossed_book_is_lost_when_the_watermark_ends_its_second() -> None:
    sync = live_machine(100)
    sync.on_event(ev(102, 102, 1_000_000_200, asks=[("5", "1")]))
    assert of_type(sync.on_watermark(1_000_001_000), Sample) == []
    assert sync.state is SyncState.WAITING


def test_s5_level_the_book_cannot_hold_is_lost() -> None:
    sync = live_machine(100)
    sync.on_event(ev(102, 102, 1_000_000_200, bids=[("11", "-1")]))
    sync.on_event(ev(103, 103, 1_000_003_000))
    assert sync.state is SyncState.QUEUED
    assert of_type(sync.on_snapshot(snap(102)), Gap)[0].reason is GapReason.BAD_LEVEL


def test_s6_lost_book_buffers_while_the_snapshot_is_fetched() -> None:
    sync = live_machine(100)
    sync.on_event(ev(103, 105, 1_000_000_200))  # gap: buffered
    sync.on_event(ev(106, 108, 1_000_000_300, bids=[("11", "4")]))
    out = sync.on_snapshot(snap(104))
    assert of_type(out, Synced) == [Synced(SYMBOL, 105)]
    assert sync.update_id == 108
    assert ("11", "4") in book_top(sync, 5)[0]


# -- futures continuity (docs/markets.md, "Sync") ---------------------------------------------


def fev(first: int, last: int, prev: int, time_ms: int, bids: Levels = ()) -> DepthUpdate:
    """A futures event: ``pu`` is ``prev``; ``T`` a few ms before ``E``."""
    event = ev(first, last, time_ms, bids)
    event.prev_last_update_id = prev
    event.transaction_time_ms = time_ms - 2
    return event


def futures_machine() -> SymbolSync:
    return SymbolSync(SYMBOL, depth=5, continuity=Continuity.CHAINED)


# (buffered events as (U, u, pu), snapshot lastUpdateId, then live events as (U, u, pu)),
# and what must follow: the update id the machine is live at, or None for "syncing again".
FUTURES_CASES = {
    "drops u < lastUpdateId, bridges with U <= lastUpdateId <= u": (
        [(90, 99, 80), (104, 110, 99)],
        105,
        [],
        110,
    ),
    "the event whose u is lastUpdateId bridges (u == lastUpdateId is kept)": (
        [(90, 100, 80), (107, 112, 100)],
        100,
        [],
        112,
    ),
    "U == lastUpdateId bridges": ([(100, 104, 95)], 100, [], 104),
    "first remaining U > lastUpdateId: snapshot too old": ([(106, 110, 99)], 100, [], None),
    "ids that skip with a valid pu chain stay live": (
        [(95, 101, 90)],
        100,
        [(109, 115, 101), (131, 140, 115), (141, 141, 140)],
        141,
    ),
    "a broken pu resyncs even when U == previous u + 1": (
        [(95, 101, 90)],
        100,
        [(102, 105, 99)],
        None,
    ),
    "a pu that skips back resyncs": ([(95, 101, 90)], 100, [(120, 125, 110)], None),
    "an old duplicate (u <= previous u) is ignored": (
        [(95, 101, 90)],
        100,
        [(109, 115, 101), (109, 115, 101), (118, 119, 115)],
        119,
    ),
    "buffered events after the bridge are chained by pu too": (
        [(95, 101, 90), (108, 109, 101), (111, 113, 109)],
        100,
        [],
        113,
    ),
    "a broken pu inside the buffer resyncs": (
        [(95, 101, 90), (108, 109, 101), (111, 113, 110)],
        100,
        [],
        None,
    ),
}


@pytest.mark.parametrize(
    ("buffered", "last_id", "live", "live_at"), FUTURES_CASES.values(), ids=FUTURES_CASES.keys()
)
def test_futures_sync_rules(
    buffered: list[tuple[int, int, int]],
    last_id: int,
    live: list[tuple[int, int, int]],
    live_at: int | None,
) -> None:
    sync = futures_machine()
    time_ms = 1_000_000_000
    for first, last, prev in buffered:
        time_ms += 100
        sync.on_event(fev(first, last, prev, time_ms))
    sync.on_snapshot(snap(last_id))
    for first, last, prev in live:
        time_ms += 100
        sync.on_event(fev(first, last, prev, time_ms))
    if live_at is None:
        assert not sync.live
    else:
        assert sync.state is SyncState.LIVE
        assert sync.update_id == live_at


def test_spot_rule_is_never_applied_to_futures_ids_that_skip() -> None:
    """The same stream stays live with the futures rule and resyncs with the spot one."""
    stream = [fev(95, 101, 90, 1_000), fev(109, 115, 101, 1_100), fev(131, 140, 115, 1_200)]
    futures, spot = futures_machine(), SymbolSync(SYMBOL, depth=5)
    for machine in (futures, spot):
        machine.on_event(stream[0])
        machine.on_snapshot(snap(100))
        for event in stream[1:]:
            machine.on_event(event)
    assert futures.state is SyncState.LIVE
    assert futures.resyncs == 0
    assert not spot.live
    assert spot.resyncs == 1


def test_futures_broken_pu_loses_the_book_and_records_a_sequence_gap() -> None:
    sync = futures_machine()
    sync.on_event(fev(95, 101, 90, 1_000_000_100))
    sync.on_snapshot(snap(100))
    sync.on_event(fev(109, 115, 101, 1_000_000_200))
    out = sync.on_event(fev(120, 125, 117, 1_000_002_300))  # the event with u 117 was lost
    assert out == [RequestSnapshot(SYMBOL, 1)]
    out = sync.on_snapshot(snap(123))  # the buffered event spans it: live from its second
    assert of_type(out, Gap) == [Gap(SYMBOL, 1_000_000, 1_000_001, GapReason.SEQUENCE_GAP)]
    sync.on_event(fev(126, 130, 125, 1_000_003_100))
    assert sync.state is SyncState.LIVE
    assert sync.update_id == 130


def _feed(sync: SymbolSync, count: int, first_id: int = 1) -> None:
    for k in range(count):
        sync.on_event(ev(first_id + k, first_id + k, 1_000 + 100 * k))


def test_s1_until_the_request_is_sent_only_the_newest_events_are_kept() -> None:
    """A symbol waiting its turn in a mass resync holds a few events, not minutes of them;
    a snapshot older than what was kept is refused (S2) and the next wait keeps twice as many."""
    window = EventWindow(events=4)
    sync = SymbolSync(SYMBOL, depth=5, window=window)
    _feed(sync, 10)  # ids 1..10; only 7..10 are kept
    sync.on_request_sent()
    assert sync.on_snapshot(snap(5)) == [RequestSnapshot(SYMBOL, 1)], "6 is gone: too old"
    assert window.events == 8, "every symbol sharing the window keeps more from now on"
    _feed(sync, 10, first_id=11)  # 8 are kept now: 13..20
    sync.on_request_sent()
    assert of_type(sync.on_snapshot(snap(12)), Synced) == [Synced(SYMBOL, 13)]


def test_many_symbols_refused_under_one_window_widen_it_once() -> None:
    window = EventWindow(events=4)
    syncs = [SymbolSync(SYMBOL, depth=5, window=window) for _ in range(3)]
    for sync in syncs:
        _feed(sync, 10)
        sync.on_request_sent()
    for sync in syncs:
        assert sync.on_snapshot(snap(5)) == [RequestSnapshot(SYMBOL, 1)]
    assert window.events == 8, "three refusals of one round double it once"


def test_s1_once_the_request_is_sent_every_event_is_kept() -> None:
    sync = SymbolSync(SYMBOL, depth=5, window=EventWindow(events=4))
    sync.on_event(ev(1, 1, 1_000))
    sync.on_request_sent()
    _feed(sync, 30, first_id=2)
    assert of_type(sync.on_snapshot(snap(1)), Synced) == [Synced(SYMBOL, 1)]
    assert sync.update_id == 31


def test_failed_snapshot_is_requested_again_with_a_higher_attempt() -> None:
    sync = SymbolSync(SYMBOL, depth=5)
    sync.on_event(ev(1, 2, 1_000))
    assert sync.on_snapshot_failed() == [RequestSnapshot(SYMBOL, 2)]


# -- snapshot rules -----------------------------------------------------------------------------


def test_t1_event_of_a_later_second_finalises_the_earlier_ones() -> None:
    sync = live_machine(100, time_ms=1_000_000_100)  # second 1_000_000
    sync.on_event(ev(102, 102, 1_000_000_900, bids=[("11", "1")]))
    out = sync.on_event(ev(103, 103, 1_000_003_050, bids=[("12", "1")]))
    snaps = of_type(out, Sample)
    assert [s.ts_s for s in snaps] == [1_000_000, 1_000_001, 1_000_002]
    for s in snaps:
        assert levels(s)[0] == [("11", "1"), ("10", "1")]  # before the event of second 1_000_003
        assert (s.update_id, s.event_time_ms) == (102, 1_000_000_900)


def test_t2_watermark_finalises_quiet_seconds_only_once_they_ended() -> None:
    sync = live_machine(100, time_ms=1_000_000_100)
    assert sync.on_watermark(1_000_000_999) == []
    out = sync.on_watermark(1_000_002_000)
    assert [s.ts_s for s in of_type(out, Sample)] == [1_000_000, 1_000_001]
    assert sync.on_watermark(1_000_002_500) == []


def test_t3_late_event_invalidates_watermarked_seconds_and_they_are_stored_again() -> None:
    sync = live_machine(100, time_ms=1_000_000_100)
    sync.on_watermark(1_000_003_000)  # finalises 1_000_000 .. 1_000_002
    out = sync.on_event(ev(102, 102, 1_000_001_500, bids=[("11", "1")]))
    assert out == [Invalidate(SYMBOL, 1_000_001)]
    out = sync.on_event(ev(103, 103, 1_000_003_100))
    snaps = of_type(out, Sample)
    assert [s.ts_s for s in snaps] == [1_000_001, 1_000_002]
    assert all(levels(s)[0][0] == ("11", "1") for s in snaps)


def test_t4_gap_revealed_in_the_next_second_makes_the_previous_second_unknown() -> None:
    sync = live_machine(100, time_ms=1_000_000_100)
    sync.on_event(ev(102, 102, 1_000_001_900))
    out = sync.on_event(ev(104, 104, 1_000_002_100))  # 103 is missing: it may belong to ..001
    assert of_type(out, Sample) == []  # 1_000_001 is not stored
    out = sync.on_snapshot(snap(104))
    # The snapshot is the book right after event 104 (S3, sooner): known from its second on.
    assert of_type(out, Gap) == [Gap(SYMBOL, 1_000_001, 1_000_001, GapReason.SEQUENCE_GAP)]
    out = sync.on_event(ev(105, 105, 1_000_004_200))
    assert [s.ts_s for s in of_type(out, Sample)] == [1_000_002, 1_000_003]


def test_t4_a_snapshot_past_the_event_that_revealed_the_gap_waits_for_the_bridge() -> None:
    sync = live_machine(100, time_ms=1_000_000_100)
    sync.on_event(ev(102, 102, 1_000_001_900))
    sync.on_event(ev(104, 104, 1_000_002_100))  # 103 is missing
    assert sync.on_snapshot(snap(106)) == []  # 105..106 are on their way, or lost
    out = sync.on_event(ev(106, 107, 1_000_004_200))  # straddles 106: no earlier book known
    assert of_type(out, Gap) == [Gap(SYMBOL, 1_000_001, 1_000_003, GapReason.SEQUENCE_GAP)]


def test_t4_gap_invalidates_seconds_the_watermark_finalised_after_the_last_event() -> None:
    sync = live_machine(100, time_ms=1_000_000_100)
    sync.on_watermark(1_000_003_000)
    out = sync.on_event(ev(105, 105, 1_000_003_200))
    assert out[0] == Invalidate(SYMBOL, 1_000_000)


def test_t5_shutdown_stores_nothing_in_progress_and_closes_an_open_gap() -> None:
    live = live_machine(100, time_ms=1_000_000_100)
    assert live.on_shutdown(1_000_000_800) == []
    syncing = SymbolSync(SYMBOL, depth=5)
    syncing.on_event(ev(1, 2, 1_000_000_100))
    assert syncing.on_shutdown(1_000_005_500) == [
        Gap(SYMBOL, 1_000_000, 1_000_004, GapReason.STARTUP)
    ]


def test_startup_gap_ends_at_the_second_that_is_known() -> None:
    sync = SymbolSync(SYMBOL, depth=5)
    sync.on_event(ev(1, 2, 1_000_000_100))
    sync.on_event(ev(3, 4, 1_000_002_100))
    out = sync.on_snapshot(snap(3))
    assert of_type(out, Gap) == [Gap(SYMBOL, 1_000_000, 1_000_001, GapReason.STARTUP)]


def test_disconnect_loses_the_book_and_forgets_the_buffer() -> None:
    sync = live_machine(100, time_ms=1_000_000_100)
    sync.on_disconnect()
    assert sync.state is SyncState.WAITING
    sync.on_event(ev(200, 201, 1_000_005_000))
    out = sync.on_snapshot(snap(199))
    assert of_type(out, Gap) == [Gap(SYMBOL, 1_000_000, 1_000_004, GapReason.DISCONNECT)]


# -- property: no perturbation of the stream ever yields a wrong book or a wrong snapshot --------


@dataclass
class TrueStream:
    events: list[DepthUpdate]
    states: list[tuple[dict[str, str], dict[str, str]]]  # index i+1: book after events[i]

    def book_after(self, update_id: int) -> tuple[dict[str, str], dict[str, str]]:
        for event, state in zip(reversed(self.events), reversed(self.states[1:]), strict=True):
            if event.last_update_id == update_id:
                return state
        return self.states[0]

    def top_at_end_of(self, ts_s: int, depth: int) -> tuple[list[tuple[str, str]], ...]:
        state = self.states[0]
        for event, after in zip(self.events, self.states[1:], strict=True):
            if event.event_time_ms >= (ts_s + 1) * 1000:
                break
            state = after
        return ordered(*state, depth)


def ordered(
    bids: dict[str, str], asks: dict[str, str], depth: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    return (
        sorted(bids.items(), key=lambda kv: -int(kv[0]))[:depth],
        sorted(asks.items(), key=lambda kv: int(kv[0]))[:depth],
    )


@st.composite
def true_streams(draw: st.DrawFn, market: Market = Market.SPOT) -> TrueStream:
    """A true stream of ``market``: on futures, ids skip between events (``U`` is the previous
    ``u`` plus 1 to 6) and ``pu`` chains them, as Binance's futures streams do."""
    chained = spec(market).continuity is Continuity.CHAINED
    bids = {str(p): "1" for p in range(1, 6)}
    asks = {str(p): "1" for p in range(11, 16)}
    states = [(dict(bids), dict(asks))]
    events = []
    update_id, time_ms = 100, 1_000_000_000
    for _ in range(draw(st.integers(min_value=3, max_value=40))):
        time_ms += draw(st.integers(min_value=1, max_value=1_400))
        changes = draw(
            st.lists(
                st.tuples(st.booleans(), st.integers(0, 4), st.sampled_from(["0", "1", "2", "3"])),
                min_size=1,
                max_size=4,
            )
        )
        ev_bids: list[tuple[str, str]] = []
        ev_asks: list[tuple[str, str]] = []
        for is_bid, offset, qty in changes:
            price = str(1 + offset * 2) if is_bid else str(11 + offset * 2)
            side, out = (bids, ev_bids) if is_bid else (asks, ev_asks)
            out.append((price, qty))
            if qty == "0":
                side.pop(price, None)
            else:
                side[price] = qty
        previous = update_id
        first = update_id + 1 + (draw(st.integers(min_value=0, max_value=5)) if chained else 0)
        update_id = first + len(changes) - 1
        event = DepthUpdate(
            SYMBOL, time_ms, first, update_id, raw_levels(ev_bids), raw_levels(ev_asks)
        )
        if chained:
            event.prev_last_update_id = previous
            event.transaction_time_ms = time_ms - 3
        event.recv_time_ms = time_ms
        events.append(event)
        states.append((dict(bids), dict(asks)))
    return TrueStream(events, states)


class Harness:
    """Drives a machine with a perturbed copy of a true stream and keeps what it would store."""

    def __init__(self, stream: TrueStream, depth: int = 3, market: Market = Market.SPOT) -> None:
        self.stream = stream
        self.depth = depth
        # Keep few events before a request is sent, so that trimming and S2's retries happen.
        self.sync = SymbolSync(
            SYMBOL, depth=depth, window=EventWindow(events=3), continuity=spec(market).continuity
        )
        self.stored: dict[int, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
        self.gaps: list[Gap] = []
        self.requested = False
        self.sent = False
        self.newest = -1  # index of the newest event delivered so far
        self.first_seen_s: int | None = None  # no second before this can be accounted for

    def perform(self, outcomes: list[Outcome]) -> None:
        for o in outcomes:
            if isinstance(o, Sample):
                self.stored[o.ts_s] = levels(o)
            elif isinstance(o, Invalidate):
                for ts in [t for t in self.stored if t >= o.from_s]:
                    del self.stored[ts]
            elif isinstance(o, Gap):
                self.gaps.append(o)
            elif isinstance(o, RequestSnapshot):
                self.requested, self.sent = True, False

    def deliver(self, index: int) -> None:
        event = self.stream.events[index]
        self.newest = max(self.newest, index)
        event_s = event.event_time_ms // 1000
        self.first_seen_s = min(event_s, self.first_seen_s or event_s)
        self.perform(self.sync.on_event(event))
        if self.sync.state is SyncState.LIVE:  # a live book is always the true book
            bids, asks = self.stream.book_after(self.sync.update_id)
            size = max(len(bids), len(asks))
            assert book_top(self.sync, size) == ordered(bids, asks, size)

    def send_request(self) -> None:
        self.sent = True
        self.sync.on_request_sent()

    def answer_snapshot(self, age: int) -> None:
        """A REST snapshot ``age`` events older than the newest delivered (negative: newer)."""
        self.requested = self.sent = False
        index = min(max(self.newest - age, -1), len(self.stream.events) - 1)
        bids, asks = self.stream.states[index + 1]
        last_id = self.stream.events[index].last_update_id if index >= 0 else 100
        snapshot = DepthSnapshot(last_id, raw_levels(bids.items()), raw_levels(asks.items()))
        self.perform(self.sync.on_snapshot(snapshot))

    def check(self) -> None:
        for ts_s, book in self.stored.items():
            assert book == self.stream.top_at_end_of(ts_s, self.depth), f"wrong snapshot at {ts_s}"
        in_gaps = [ts for gap in self.gaps for ts in range(gap.from_s, gap.to_s + 1)]
        assert len(in_gaps) == len(set(in_gaps)), f"overlapping gaps {self.gaps}"
        assert not set(in_gaps) & set(self.stored), f"stored inside a gap {self.gaps}"
        # Every second from the first one seen is accounted for, up to the last one decided.
        assert self.first_seen_s is not None
        decided = set(in_gaps) | set(self.stored)
        last = max(decided, default=self.first_seen_s - 1)
        assert decided == set(range(self.first_seen_s, last + 1))


@pytest.mark.parametrize("market", list(Market))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_perturbed_streams_never_store_a_wrong_snapshot(
    market: Market, data: st.DataObject
) -> None:
    stream = data.draw(true_streams(market))
    run = Harness(stream, market=market)
    i, last = 0, len(stream.events) - 1
    while i < last:  # the last event is always delivered, in order, at the end
        action = data.draw(st.sampled_from(["deliver", "deliver", "drop", "dup", "swap"]))
        if action == "swap" and i + 1 < last:
            run.deliver(i + 1)
            run.deliver(i)
            i += 1
        elif action != "drop":
            run.deliver(i)
            if action == "dup":
                run.deliver(i)
        i += 1
        if run.requested and not run.sent and data.draw(st.booleans()):
            run.send_request()
        if run.sent and data.draw(st.booleans()):
            run.answer_snapshot(age=data.draw(st.integers(min_value=-2, max_value=4)))
        if run.newest >= 0 and data.draw(st.booleans()):
            # Watermarks may run ahead of what was delivered, as a quiet second's would.
            ahead = data.draw(st.integers(min_value=-1_500, max_value=2_500))
            run.perform(run.sync.on_watermark(stream.events[run.newest].event_time_ms + ahead))
    run.deliver(last)
    run.perform(run.sync.on_shutdown(stream.events[last].event_time_ms + 3_000))
    run.check()
