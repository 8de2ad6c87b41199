"""``obrec simulate`` and ``obrec record`` as processes: signals, exit codes, exact data."""

from __future__ import annotations

import shutil
import time
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from tests.e2e.conftest import (
    Simulator,
    assert_one_line_error,
    obrec,
    spawn,
    stop,
    wait_for_new_seconds,
)
from tests.helpers import mismatches, truth_from_lines

pytestmark = pytest.mark.e2e


def query_all(db: Path, symbol: str) -> list[dict[str, object]]:
    result = obrec(
        "query", symbol, "--db", str(db), "--from", "0", "--to", "now", "--format", "jsonl"
    )
    assert result.returncode == 0, result.stderr
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def record_and_check(sim: Simulator, db: Path, seconds: float) -> list[dict[str, object]]:
    """Record, stop both with SIGTERM, and return every stored snapshot after checking it."""
    recorder = spawn(
        "record", "--symbols", "BTCUSDT,ETHUSDT", "--db", str(db), *sim.endpoint_args()
    )
    wait_for_new_seconds(recorder, db, ("BTCUSDT", "ETHUSDT"))
    time.sleep(seconds)
    code, _, err = stop(recorder)
    assert code == 0, err
    assert stop(sim.process)[0] == 0
    truth = truth_from_lines(orjson.loads(line) for line in sim.truth.read_bytes().splitlines())
    docs = query_all(db, "BTCUSDT") + query_all(db, "ETHUSDT")
    stored = [(d["symbol"], d["ts"], d["bids"], d["asks"]) for d in docs]
    assert mismatches(stored, truth) == []  # type: ignore[arg-type]
    return docs


def test_record_stops_on_sigterm_and_query_returns_the_true_books(
    simulator: Simulator, tmp_path: Path
) -> None:
    db = tmp_path / "db"
    recorder = spawn(
        "record",
        "--symbols",
        "BTCUSDT",
        "--db",
        str(tmp_path / "other"),
        *simulator.endpoint_args(),
    )
    wait_for_new_seconds(recorder, tmp_path / "other", ("BTCUSDT",))
    # While that recorder runs: a second recorder on its directory fails at once...
    second = obrec(
        "record",
        "--symbols",
        "BTCUSDT",
        "--db",
        str(tmp_path / "other"),
        *simulator.endpoint_args(),
        timeout=20,
    )
    assert_one_line_error(second, 1, "in use")
    # ...while query, export and stats read it concurrently, and prune points to --retain.
    assert len(query_all(tmp_path / "other", "BTCUSDT")) >= 1
    other = str(tmp_path / "other")
    exported = obrec(
        "export", "BTCUSDT", "--db", other, "--from", "0", "-o", str(tmp_path / "a.csv")
    )
    assert exported.returncode == 0, exported.stderr
    assert obrec("stats", "--db", other).returncode == 0
    assert_one_line_error(obrec("prune", "--db", other, "--days", "1"), 1, "--retain 7d")
    assert stop(recorder)[0] == 0

    docs = record_and_check(simulator, db, seconds=5)
    assert len(docs) >= 6
    first = docs[0]
    assert set(first) >= {"symbol", "ts", "event_time", "update_id", "bids", "asks"}
    bids = first["bids"]
    assert isinstance(bids, list)
    assert len(bids) == 20
    price = bids[0][0]
    assert isinstance(price, str)
    assert price == format(Decimal(price).normalize(), "f")  # exact, normalised decimals


def test_record_with_retain_prunes_old_seconds_at_start(
    simulator: Simulator, demo_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "db"
    shutil.copytree(demo_db, db)
    old = {d["ts"] for d in query_all(db, "BTCUSDT")}
    time.sleep(2)
    recorder = spawn(
        "record",
        "--symbols",
        "BTCUSDT",
        "--db",
        str(db),
        "--retain",
        "1s",
        *simulator.endpoint_args(),
    )
    wait_for_new_seconds(
        recorder, db, ("BTCUSDT",), {("BTCUSDT", t) for t in old if isinstance(t, int)}
    )
    code, _, err = stop(recorder)
    assert code == 0, err
    assert "retention: deleted" in err
    kept = {d["ts"] for d in query_all(db, "BTCUSDT")}
    assert kept
    assert not kept & old
    # Retention covers every symbol in the directory, not only the recorded ones (and the old
    # session that asked for ETHUSDT: nothing of it is left).
    gone = obrec("query", "ETHUSDT", "--db", str(db), "--from", "0")
    assert_one_line_error(gone, 2, "never recorded")
