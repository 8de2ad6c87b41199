"""1,500 symbols at once: the cold start is paced within the REST budget, one snapshot per book,
with zero 429s and zero 418s (how the streams are split is tests/unit/test_wire.py's)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from recorder.app import Recorder
from recorder.read import Database
from recorder.simulator.faults import FaultPlan
from recorder.simulator.market import Market
from recorder.simulator.server import SimulatorServer, spec_for
from tests.helpers import mismatches, truth_from_lines
from tests.integration.test_record_simulator import recorder_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SYMBOLS = [f"C{i:04d}USDT" for i in range(1500)]
WINDOW_S = 6.0
"""Binance's 6,000 weight per minute, with the minute shortened tenfold for the test."""


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

    async def scenario() -> tuple[Recorder, int, int, int]:
        async with SimulatorServer(market, faults=faults) as server:
            recorder = recorder_for(server, db, **config)
            stop = asyncio.Event()
            async with asyncio.TaskGroup() as group:
                group.create_task(recorder.run(stop))
                await recorder.ready.wait()
                started = time.monotonic()  # a liveness guard; the budget allows ~9 s
                while not all(sync.live for sync in recorder.syncs.values()):
                    assert time.monotonic() - started < 60, "the cold start never finished"
                    await asyncio.sleep(0.1)
                await asyncio.sleep(2.5)  # a couple of seconds become final everywhere
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
