"""Crash safety: SIGKILL the recorder at random moments; the directory must always be sound."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import orjson
import pytest

from recorder.read import Database
from tests.e2e.conftest import Simulator, spawn, stop
from tests.helpers import mismatches, truth_from_lines

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KILLS = 20


def test_sigkill_at_random_moments_never_corrupts_the_directory(
    simulator: Simulator, tmp_path: Path
) -> None:
    db = tmp_path / "db"
    rng = random.Random(20261124)
    seen: set[int] = set()
    for kill in range(KILLS):
        recorder = spawn(
            "record", "--symbols", "BTCUSDT,ETHUSDT", "--db", str(db), *simulator.endpoint_args()
        )
        time.sleep(rng.uniform(0.3, 3.0))  # sometimes before the first sync, often mid-write
        recorder.send_signal(signal.SIGKILL)
        recorder.communicate(timeout=10)
        if not db.exists():
            continue  # killed before the directory was created
        with Database.open(db) as database:  # opens, and every value decodes
            stored = {s.ts_s for sym in database.symbols() for s in database.snapshots(sym)}
        assert seen <= stored, f"kill {kill}: seconds stored before are gone"
        seen = stored
    assert len(seen) >= 10, "restarted recorders carry on in the same directory"

    assert stop(simulator.process)[0] == 0
    truth = truth_from_lines(
        orjson.loads(line) for line in simulator.truth.read_bytes().splitlines()
    )
    with Database.open(db) as database:
        stored_books = [
            (s.symbol, s.ts_s, s.bids, s.asks)
            for symbol in database.symbols()
            for s in database.snapshots(symbol)
        ]
    assert mismatches(stored_books, truth) == []
