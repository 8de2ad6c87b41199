"""The widest numbers Binance sends, recorded exactly (issue 10): the real recorder against the
simulator on 127.0.0.1, with a symbol whose quantities have 17 to 19 significant digits (lots of
1e-8 up to the int64-of-1e-8 maximum, more than a double holds) beside an ordinary one."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from recorder.app import Recorder
from recorder.simulator.market import LONG_QTY_DIGITS, Market
from recorder.simulator.server import SimulatorServer, spec_for
from tests.helpers import Levels, mismatches, truth_from_lines
from tests.integration.test_record_simulator import recorder_for, stored_books, until

pytestmark = pytest.mark.integration

LONG, PLAIN = "PEPEUSDT", "BTCUSDT"
SECONDS = 18
"""Seconds each symbol stores before the run stops: issue 10 asks for >= 99 % of them."""
Truth = dict[tuple[str, int], tuple[Levels, Levels]]


def record(market: Market, db: Path) -> Recorder:
    """Record until each symbol has stored SECONDS seconds, the ordinary one first."""

    def stored(recorder: Recorder, symbol: str) -> bool:
        return bool(recorder.stats) and recorder.stats[symbol].snapshots >= SECONDS

    async def scenario() -> Recorder:
        async with SimulatorServer(market) as server:
            recorder = recorder_for(server, db, grace_ms=300)
            stop = asyncio.Event()
            async with asyncio.TaskGroup() as group:
                group.create_task(recorder.run(stop))
                await until(lambda: stored(recorder, PLAIN), f"{PLAIN}'s {SECONDS} seconds")
                # A book that cannot hold the long quantities never stores one of its seconds.
                wide = f"{LONG}'s {SECONDS} seconds of 17-19-digit quantities"
                await until(lambda: stored(recorder, LONG), wide)
                stop.set()
            return recorder

    return asyncio.run(scenario())


def assert_recorded_exactly(db: Path, symbol: str, truth: Truth) -> None:
    """>= 99 % of ``symbol``'s seconds from its first stored one to its last are stored, and
    every one equals the truth."""
    stored = stored_books(db, [symbol])
    seconds = [ts for _, ts, _, _ in stored]
    assert len(seconds) >= SECONDS, f"{symbol}: {len(seconds)} seconds stored"
    span = seconds[-1] - seconds[0] + 1
    assert len(seconds) >= 0.99 * span, f"{symbol}: {len(seconds)} of {span} seconds stored"
    assert mismatches(stored, truth) == []


def test_quantities_of_17_to_19_digits_are_recorded_exactly_every_second(tmp_path: Path) -> None:
    db = tmp_path / "db"
    market = Market(
        [spec_for(PLAIN, activity=0.5), spec_for(LONG, long_quantities=True)],
        seed=10,
        truth_depth=20,
    )
    recorder = record(market, db)

    truth = truth_from_lines(market.truth_lines())
    assert_recorded_exactly(db, PLAIN, truth)
    assert_recorded_exactly(db, LONG, truth)
    assert set(recorder.totals.gaps_by_reason) <= {"startup"}, "no bad_level, no resync"
    # What was stored really is that wide: not rounded, not shortened, not a narrower stand-in.
    digits = {
        len(Decimal(qty).normalize().as_tuple().digits)
        for _, _, bids, asks in stored_books(db, [LONG])
        for _, qty in [*bids, *asks]
    }
    assert digits == set(range(LONG_QTY_DIGITS[0], LONG_QTY_DIGITS[1] + 1))
