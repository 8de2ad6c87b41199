"""1,500 symbols at once: the cold start is paced within the REST budget, one snapshot per book,
with zero 429s and zero 418s (how the streams are split is tests/unit/test_wire.py's)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from recorder.app import Recorder
from recorder.read import Database
from recorder.simulator.faults import FaultPlan
from recorder.simulator.market import Market
from recorder.simulator.server import SimulatorServer, spec_for
from tests.helpers import mismatches, truth_from_lines
from tests.integration.test_record_simulator import recorder_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SYMBOLS = [f"C{i:04d}USDT" for i in range(1500)]
WINDOW_S = 6.0
"""Binance's 6,000 weight per minute, with the minute shortened tenfold for the test."""
STALL_S = 60.0


def test_a_cold_start_of_1500_symbols_syncs_every_book_within_the_budget(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db"
    market = Market(
        [spec_for(s, activity=0.2, levels_per_side=150) for s in SYMBOLS], seed=3, truth_depth=5
    )
    faults = FaultPlan(weight_limit=6000, weight_window_s=WINDOW_S, ban_s=60.0)
    config = {
        "depth": 5,
        "snapshot_limit": 100,  # weight 5: 7,500 for every book
        "weight_per_minute": 48_000,  # 80 % of the shortened window's 60,000 per minute
        "exchange_weight_limit": 6000,
        "exchange_weight_window_s": WINDOW_S,
    }

    async def until_all(what: str, done: Callable[[], int]) -> None:
        """Wait until ``done()`` reaches every symbol. The budget paces the cold start at about
        160 books a second (~9 s in all), but a loaded machine may take far longer: only a
        stall, no book progressing for STALL_S, is a failure."""
        best, progressed = 0, time.monotonic()
        while (count := done()) < len(SYMBOLS):
            if count > best:
                best, progressed = count, time.monotonic()
            stalled_s = time.monotonic() - progressed
            assert stalled_s < STALL_S, f"{what} stalled at {best} of {len(SYMBOLS)} books"
            await asyncio.sleep(0.1)

    async def scenario() -> tuple[Recorder, int, int, int]:
        async with SimulatorServer(market, faults=faults) as server:
            recorder = recorder_for(server, db, **config)
            stop = asyncio.Event()
            async with asyncio.TaskGroup() as group:
                group.create_task(recorder.run(stop))
                await recorder.ready.wait()
                await until_all(
                    "the cold start", lambda: sum(s.live for s in recorder.syncs.values())
                )
                await until_all(
                    "storing",
                    lambda: sum(s.last_stored_s is not None for s in recorder.stats.values()),
                )
                stop.set()
            return recorder, server.rate_limited, server.banned, server.depth_weight

    recorder, rate_limited, banned, weight_charged = asyncio.run(scenario())
    assert (rate_limited, banned) == (0, 0), "no 429 and no 418 during the cold start"
    assert recorder.totals.rest_weight == weight_charged  # what the exchange counted
    assert recorder.totals.rest_requests == len(SYMBOLS), "one snapshot per book, none wasted"
    with Database.open(db) as database:
        stored = [
            (s.symbol, s.ts_s, s.bids, s.asks)
            for symbol in database.symbols()
            for s in database.snapshots(symbol)
        ]
        assert set(database.symbols()) == set(SYMBOLS), "every book stored seconds"
    assert mismatches(stored, truth_from_lines(market.truth_lines())) == []
