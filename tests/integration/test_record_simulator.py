"""The real recorder (aiohttp, RocksDB) against the simulated exchange on 127.0.0.1, in-process."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from recorder.app import Recorder
from recorder.binance.connections import RECONNECT_JITTER_S
from recorder.config import RecordConfig
from recorder.errors import StorageError, UnknownSymbolError
from recorder.read import Database
from recorder.simulator.faults import FaultPlan
from recorder.simulator.market import Market
from recorder.simulator.server import SimulatorServer, spec_for
from recorder.storage.layout import PendingWrites
from recorder.storage.store import Store
from tests.helpers import Levels, mismatches, truth_from_lines

pytestmark = pytest.mark.integration


def recorder_for(server: SimulatorServer, db: Path, **config: object) -> Recorder:
    """A recorder of every symbol of a running simulator."""
    return Recorder(
        RecordConfig(
            tuple(server.market.symbols),
            db,
            rest_url=server.rest_url,
            ws_url=server.ws_url,
            **config,  # type: ignore[arg-type]
        )
    )


PATIENCE_S = 60.0
"""How long a condition may take on a loaded machine before a test gives up (a sync takes
about a second on an idle one)."""


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition``, however slow the machine, up to PATIENCE_S."""
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {PATIENCE_S:.0f} s"
        await asyncio.sleep(0.05)


def all_stored(recorder: Recorder) -> Callable[[], bool]:
    """Every symbol of ``recorder`` has stored a second (its start-up is over)."""
    return lambda: (
        bool(recorder.stats) and all(s.last_stored_s is not None for s in recorder.stats.values())
    )


async def record_from(
    server: SimulatorServer, db: Path, seconds: float, **config: object
) -> Recorder:
    """Record every symbol of a running simulator until each has stored a second, then
    ``seconds`` more, then stop cleanly: counts of stored seconds do not depend on how long a
    loaded machine takes to start."""
    recorder = recorder_for(server, db, **config)
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(recorder.run(stop))
        await until(all_stored(recorder), "every symbol storing")
        await asyncio.sleep(seconds)
        stop.set()
    return recorder


async def record_from_simulator(
    db: Path, market: Market, seconds: float, faults: FaultPlan | None = None, **config: object
) -> Recorder:
    async with SimulatorServer(market, faults=faults) as server:
        return await record_from(server, db, seconds, **config)


def stored_books(db: Path, symbols: list[str]) -> list[tuple[str, int, Levels, Levels]]:
    with Database.open(db) as database:
        return [
            (s.symbol, s.ts_s, s.bids, s.asks)
            for symbol in symbols
            for s in database.snapshots(symbol)
        ]


def test_every_stored_second_equals_the_simulators_truth(tmp_path: Path) -> None:
    db = tmp_path / "db"
    market = Market(
        [spec_for("BTCUSDT"), spec_for("ETHUSDT", activity=0.1)], seed=7, truth_depth=20
    )

    async def scenario() -> tuple[Recorder, int]:
        async with SimulatorServer(market) as server:
            return await record_from(server, db, 8, grace_ms=300), server.depth_weight

    recorder, weight_charged = asyncio.run(scenario())

    stored = stored_books(db, ["BTCUSDT", "ETHUSDT"])
    assert mismatches(stored, truth_from_lines(market.truth_lines())) == []
    by_symbol = {s: sorted(ts for sym, ts, _, _ in stored if sym == s) for s in market.symbols}
    busy = by_symbol["BTCUSDT"]
    assert len(busy) >= 5
    assert busy == list(range(busy[0], busy[-1] + 1)), "a healthy stream leaves no hole"
    # The quiet symbol's seconds are finalised by the watermark too, not only by its rare events.
    quiet = by_symbol["ETHUSDT"]
    assert len(quiet) >= 4
    assert quiet == list(range(quiet[0], quiet[-1] + 1))
    assert recorder.stats["BTCUSDT"].snapshots == len(busy)
    # The counters observers poll (panel, metrics, health) describe this run.
    totals = recorder.totals
    assert totals.snapshots_written == len(stored)
    assert totals.snapshot_delay_seconds.count == len(stored)
    assert totals.write_seconds.count >= 1
    assert totals.rest_requests >= 2
    assert totals.rest_weight == weight_charged  # what the exchange counted
    assert recorder.stats["BTCUSDT"].events > recorder.stats["ETHUSDT"].events > 0
    assert recorder.syncs["BTCUSDT"].changes > recorder.stats["BTCUSDT"].events
    assert set(totals.gaps_by_reason) <= {"startup"}, "a healthy run has start-up gaps only"
    with Database.open(db) as database:
        (session,) = database.sessions()
    assert session["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert session["depth"] == 20
    assert session["end"] is not None, "a clean stop records when the session ended"
    assert session["start"] <= busy[0] <= busy[-1] <= session["end"]


def test_dropped_events_resync_that_symbol_only_and_stay_exact(tmp_path: Path) -> None:
    db = tmp_path / "db"
    market = Market([spec_for("BTCUSDT"), spec_for("SOLUSDT")], seed=3, truth_depth=20)
    recorder = asyncio.run(
        record_from_simulator(db, market, seconds=6, faults=FaultPlan(drop_rate=0.05))
    )

    stored = stored_books(db, ["BTCUSDT", "SOLUSDT"])
    assert mismatches(stored, truth_from_lines(market.truth_lines())) == []
    # With 5 % of ~160 events dropped, no resync at all has a chance of about 3 in 10,000.
    assert sum(sync.resyncs for sync in recorder.syncs.values()) >= 1
    with Store.open_reader(db) as store:
        gaps = store.gaps()
    for symbol in market.symbols:
        seconds = {ts for sym, ts, _, _ in stored if sym == symbol}
        # A drop every ~2 s per symbol costs about a second each (rule T4): some survive.
        assert len(seconds) >= 2
        # Every second from the first stored one on is stored or inside a recorded gap.
        in_gaps = {t for g in gaps if g.symbol == symbol for t in range(g.from_s, g.to_s + 1)}
        assert not seconds & in_gaps
        assert set(range(min(seconds), max(seconds) + 1)) <= seconds | in_gaps


def test_unknown_symbol_fails_before_anything_is_created(tmp_path: Path) -> None:
    db = tmp_path / "never-created"
    market = Market([spec_for("BTCUSDT")], seed=1)

    async def scenario() -> None:
        async with SimulatorServer(market) as server:
            config = RecordConfig(
                ("BTCUSDT", "NOPEUSDT"), db, rest_url=server.rest_url, ws_url=server.ws_url
            )
            await Recorder(config).run(asyncio.Event())

    with pytest.raises(UnknownSymbolError, match="NOPEUSDT"):
        asyncio.run(scenario())
    assert not db.exists()


def test_malformed_frames_and_dropped_connections_never_store_a_wrong_second(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db"
    market = Market([spec_for("BTCUSDT"), spec_for("ETHUSDT")], seed=5, truth_depth=20)
    faults = FaultPlan(malformed_rate=0.05, abort_after_s=2.5)
    recorder = asyncio.run(record_from_simulator(db, market, seconds=8, faults=faults))

    stored = stored_books(db, ["BTCUSDT", "ETHUSDT"])
    assert mismatches(stored, truth_from_lines(market.truth_lines())) == []
    assert recorder.totals.malformed_frames >= 1, "garbage frames are counted, never applied"
    assert recorder.totals.reconnects >= 2, "the server dropped connections"
    with Database.open(db) as database:
        gaps = database.gaps()
    for symbol in market.symbols:
        seconds = {ts for sym, ts, _, _ in stored if sym == symbol}
        assert max(seconds) - min(seconds) >= 5, "it reconnects and records on"
        # A resync within the second of the drop leaves no gap; any other second across the
        # drops is in exactly one recorded gap.
        in_gaps = [t for g in gaps if g.symbol == symbol for t in range(g.from_s, g.to_s + 1)]
        assert len(in_gaps) == len(set(in_gaps))
        assert not seconds & set(in_gaps)
        assert set(range(min(seconds), max(seconds) + 1)) <= seconds | set(in_gaps)
        assert {g.reason for g in gaps if g.symbol == symbol} <= {"startup", "disconnect"}


def test_close_frames_at_connection_age_are_reconnected(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "db"
    market = Market([spec_for("BTCUSDT")], seed=9, truth_depth=20)
    with caplog.at_level(logging.WARNING, logger="obrec"):
        recorder = asyncio.run(
            record_from_simulator(db, market, seconds=6, faults=FaultPlan(close_after_s=2.0))
        )
    stored = stored_books(db, ["BTCUSDT"])
    assert mismatches(stored, truth_from_lines(market.truth_lines())) == []
    assert recorder.syncs["BTCUSDT"].resyncs >= 2
    assert len(stored) >= 3
    # Each connection delivered before it was closed: every reconnect is at once (jitter only).
    waits = [
        float(m[1])
        for r in caplog.records
        if (m := re.search(r"closed by the server; reconnecting in ([\d.]+) s", r.getMessage()))
    ]
    assert len(waits) >= 2
    assert max(waits) <= RECONNECT_JITTER_S


@pytest.mark.parametrize(
    ("faults", "config"),
    [
        pytest.param(FaultPlan(close_after_s=6.0), {"rollover_after_s": 2.0}, id="age-limit"),
        pytest.param(
            FaultPlan(shutdown_after_s=2.0, shutdown_grace_s=3.0), {}, id="serverShutdown"
        ),
    ],
)
def test_connections_roll_over_make_before_break_without_losing_a_second(
    tmp_path: Path, faults: FaultPlan, config: dict[str, float]
) -> None:
    """The server closes every connection a few seconds after it opened (Binance: 24 h), either
    silently at an age the recorder anticipates, or after announcing serverShutdown. Each is
    replaced make-before-break: nothing is lost and nobody resyncs."""
    db = tmp_path / "db"
    market = Market([spec_for("BTCUSDT"), spec_for("ETHUSDT")], seed=11, truth_depth=20)

    async def scenario() -> tuple[Recorder, int, int]:
        async with SimulatorServer(market, faults=faults) as server:
            recorder = await record_from(server, db, 10, **config)
            return recorder, server.shutdowns_sent, server.connections_closed

    recorder, shutdowns_sent, closed_by_server = asyncio.run(scenario())
    stored = stored_books(db, ["BTCUSDT", "ETHUSDT"])
    assert mismatches(stored, truth_from_lines(market.truth_lines())) == []
    assert recorder.totals.rollovers >= 3
    assert recorder.totals.reconnects == 0, "no connection was ever lost"
    assert closed_by_server == 0, "every connection was replaced before the server closed it"
    if faults.shutdown_after_s is not None:
        assert shutdowns_sent >= 3
    assert all(sync.resyncs == 0 for sync in recorder.syncs.values())
    assert set(recorder.totals.gaps_by_reason) <= {"startup"}
    busy = sorted(ts for symbol, ts, _, _ in stored if symbol == "BTCUSDT")
    assert busy == list(range(busy[0], busy[-1] + 1)), "every second across the rollovers"
    assert busy[-1] - busy[0] >= 7
    assert sum(sync.ignored_events for sync in recorder.syncs.values()) > 0, (
        "the overlap delivered events twice and the duplicates were dropped"
    )


def test_a_429_pauses_every_rest_call_so_the_ip_is_never_banned(tmp_path: Path) -> None:
    """300 weight per 5 s is six depth snapshots: drops force more, so the simulator answers
    429; calling on inside its Retry-After would earn a 418 ban."""
    db = tmp_path / "db"
    market = Market(
        [spec_for(s) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")], seed=2, truth_depth=20
    )
    faults = FaultPlan(drop_rate=0.05, weight_limit=300, weight_window_s=5.0, ban_s=30.0)

    async def scenario() -> tuple[Recorder, int, int]:
        async with SimulatorServer(market, faults=faults) as server:
            recorder = await record_from(server, db, seconds=12)
            return recorder, server.rate_limited, server.banned

    recorder, rate_limited, banned = asyncio.run(scenario())
    assert rate_limited >= 1, "the test must actually hit the limit"
    assert banned == 0, "no REST call inside a Retry-After window"
    stored = stored_books(db, list(market.symbols))
    assert mismatches(stored, truth_from_lines(market.truth_lines())) == []
    assert all(sync.resyncs >= 1 for sync in recorder.syncs.values())


def test_weight_spent_by_other_clients_on_the_ip_is_waited_for_not_run_into(
    tmp_path: Path,
) -> None:
    """Another client spends 4,000 of each 6,000-weight window (shortened to 6 s). Our own pace
    alone (1,000/s) would run into 429s; the exchange's count in X-MBX-USED-WEIGHT-1M makes the
    recorder wait for the next window instead."""
    db = tmp_path / "db"
    symbols = [f"S{i:02d}USDT" for i in range(40)]
    market = Market([spec_for(s, levels_per_side=1000) for s in symbols], seed=4)
    window_s = 6.0
    faults = FaultPlan(weight_limit=6000, weight_window_s=window_s, ban_s=30.0)

    async def spend_4000(session: aiohttp.ClientSession, url: str) -> None:
        async def depth() -> None:
            async with session.get(f"{url}/api/v3/depth?symbol=S00USDT&limit=1000") as answer:
                await answer.read()

        await asyncio.gather(*(depth() for _ in range(80)))

    async def other_client(session: aiohttp.ClientSession, url: str) -> None:
        while True:  # just after each window turns
            await asyncio.sleep(window_s - time.time() % window_s + 0.05)
            await spend_4000(session, url)

    async def scenario() -> tuple[Recorder, int]:
        async with SimulatorServer(market, faults=faults) as server:
            recorder = recorder_for(
                server,
                db,
                weight_per_minute=60_000,
                exchange_weight_limit=6000,
                exchange_weight_window_s=window_s,
            )
            stop = asyncio.Event()
            async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
                await asyncio.sleep(window_s - time.time() % window_s + 0.05)
                await spend_4000(session, server.rest_url)
                tenant = group.create_task(other_client(session, server.rest_url))
                group.create_task(recorder.run(stop))
                await asyncio.sleep(3 * window_s)
                await until(lambda: all(s.live for s in recorder.syncs.values()), "every book")
                tenant.cancel()
                stop.set()
            return recorder, server.rate_limited

    recorder, rate_limited = asyncio.run(scenario())
    assert rate_limited == 0, "nobody on the IP got a 429"
    assert recorder.totals.exchange_used_weight_1m is not None
    assert recorder.totals.weight_waits >= 1, "the exchange's count made it wait"
    assert recorder.totals.rest_weight >= 40 * 50
    assert all(sync.live for sync in recorder.syncs.values()), "every book synced, later"


def test_a_failing_disk_stops_the_recorder_with_a_storage_error_and_a_sound_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "db"
    real_write = Store.write
    calls = 0

    def write_until_full(store: Store, pending: PendingWrites) -> None:
        nonlocal calls
        calls += 1
        if calls > 6:  # the session record, then about one batch per second
            raise StorageError(f"RocksDB error at {store.path}: IO error: No space left on device")
        real_write(store, pending)

    monkeypatch.setattr(Store, "write", write_until_full)
    market = Market([spec_for("BTCUSDT")], seed=4, truth_depth=20)
    # An hour: only stopping at the failure ends the run within the test's timeout.
    with pytest.RaisesGroup(pytest.RaisesExc(StorageError, match="No space left")):
        asyncio.run(record_from_simulator(db, market, seconds=3600))
    monkeypatch.setattr(Store, "write", real_write)
    stored = stored_books(db, ["BTCUSDT"])  # opens, and every value decodes
    assert stored
    assert mismatches(stored, truth_from_lines(market.truth_lines())) == []


def test_all_usdt_records_every_trading_usdt_symbol_and_nothing_else(tmp_path: Path) -> None:
    db = tmp_path / "db"
    market = Market([spec_for(s) for s in ("BTCUSDT", "ETHBTC", "SOLUSDT")], seed=6, truth_depth=20)

    async def scenario() -> Recorder:
        async with SimulatorServer(market) as server:
            recorder = Recorder(
                RecordConfig(
                    (), db, rest_url=server.rest_url, ws_url=server.ws_url, all_quote="USDT"
                )
            )
            stop = asyncio.Event()
            async with asyncio.TaskGroup() as group:
                group.create_task(recorder.run(stop))
                await until(all_stored(recorder), "every symbol storing")
                stop.set()
            return recorder

    recorder = asyncio.run(scenario())
    assert recorder.symbols == ("BTCUSDT", "SOLUSDT")
    with Database.open(db) as database:
        assert database.symbols() == ["BTCUSDT", "SOLUSDT"]
