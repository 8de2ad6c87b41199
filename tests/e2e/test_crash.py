"""Crash safety: SIGKILL the recorder at random moments; the directory must always be sound."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import orjson
import pytest

from recorder.read import Database
from tests.e2e.conftest import Simulator, spawn, stop, stored_seconds, wait_for_new_seconds
from tests.helpers import mismatches, truth_from_lines

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]
KILLS = 20
SYMBOLS = ("BTCUSDT", "ETHUSDT")


def test_sigkill_at_random_moments_never_corrupts_the_directory(
    simulator: Simulator, tmp_path: Path
) -> None:
    """Most kills come once the recorder has stored a new second, at a random moment of its
    writing after that; every fourth comes at a random moment of start-up, synced or not."""
    db = tmp_path / "db"
    rng = random.Random(20261124)
    seen: set[tuple[str, int]] = set()
    synced_kills = 0
    for kill in range(KILLS):
        recorder = spawn(
            "record", "--symbols", ",".join(SYMBOLS), "--db", str(db), *simulator.endpoint_args()
        )
        if kill % 4 == 3:
            time.sleep(rng.uniform(0.0, 2.0))  # during start-up: before, during or after a sync
        else:
            wait_for_new_seconds(recorder, db, SYMBOLS, seen)
            synced_kills += 1
            time.sleep(rng.uniform(0.0, 1.5))  # mid-write, at any point of a second
        recorder.send_signal(signal.SIGKILL)
        recorder.communicate(timeout=10)
        stored = stored_seconds(db)
        assert seen <= stored, f"kill {kill}: seconds stored before are gone"
        seen = stored
    assert len(seen) >= synced_kills, "restarted recorders carry on in the same directory"

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
