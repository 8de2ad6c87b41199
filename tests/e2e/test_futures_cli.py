"""``--market usdm|coinm`` as processes: record against ``obrec simulate --market``, every read
command on a futures database, one database per market, and every bad input in one line."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from tests.e2e.conftest import (
    assert_one_line_error,
    obrec,
    spawn,
    start_simulator,
    stop,
    wait_for_new_seconds,
)
from tests.helpers import mismatches, truth_from_lines

pytestmark = pytest.mark.e2e
SYMBOLS = {"usdm": "BTCUSDT,ETHUSDT", "coinm": "BTCUSD_PERP,ETHUSD_PERP"}


def demo(market: str, db: Path) -> None:
    result = obrec("demo", "--market", market, "--seconds", "4", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "Latest stored snapshot" in result.stdout


@pytest.fixture(scope="module")
def usdm_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A USD-M database filled by ``obrec demo --market usdm`` (offline)."""
    db = tmp_path_factory.mktemp("usdm") / "db"
    demo("usdm", db)
    return db


def jsonl(db: Path, symbol: str) -> list[dict[str, object]]:
    result = obrec("query", symbol, "--db", str(db), "--from", "0", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def test_a_futures_database_reads_back_through_every_read_command(
    usdm_db: Path, tmp_path: Path
) -> None:
    docs = jsonl(usdm_db, "BTCUSDT")
    assert docs
    assert set(docs[0]) == {"symbol", "ts", "event_time", "update_id", "recv_time", "bids", "asks"}
    assert docs[0]["event_time"] < (docs[0]["ts"] + 1) * 1000  # type: ignore[operator]

    stats = obrec("stats", "--db", str(usdm_db), "--format", "json")
    assert stats.returncode == 0, stats.stderr
    assert orjson.loads(stats.stdout)["market"] == "usdm"
    table = obrec("stats", "--db", str(usdm_db))
    assert ": usdm, format 1" in " ".join(table.stdout.split())

    csv = tmp_path / "btc.csv"
    args = ("--db", str(usdm_db), "--from", "0", "--to", "now")
    assert obrec("export", "BTCUSDT", *args, "-o", str(csv)).returncode == 0
    assert csv.read_text().splitlines()[1].startswith("binance-futures,BTCUSDT,")
    parquet = tmp_path / "btc.parquet"
    result = obrec("export", "BTCUSDT", *args, "--format", "parquet", "-o", str(parquet))
    assert result.returncode == 0, result.stderr
    assert obrec("plot", "BTCUSDT", *args, "-o", str(tmp_path / "btc.png")).returncode == 0
    assert (tmp_path / "btc.png").stat().st_size > 1000

    backup = tmp_path / "backup"
    assert obrec("backup", "--db", str(usdm_db), str(backup)).returncode == 0
    assert jsonl(backup, "BTCUSDT") == docs
    pruned = obrec("prune", "--db", str(backup), "--before", "now")
    assert pruned.returncode == 0, pruned.stderr
    assert obrec("stats", "--db", str(backup), "--format", "json").returncode == 0
    assert (
        orjson.loads(obrec("stats", "--db", str(backup), "--format", "json").stdout)["market"]
        == "usdm"
    ), "a pruned futures database stays a futures database"


def test_spot_and_futures_databases_refuse_each_other(
    usdm_db: Path, demo_db: Path, tmp_path: Path
) -> None:
    endpoints = ("--rest-url", "http://127.0.0.1:9", "--ws-url", "ws://127.0.0.1:9")
    for db, market, stored in ((demo_db, "usdm", "spot"), (usdm_db, "spot", "usdm")):
        before = jsonl(db, "BTCUSDT")
        result = obrec(
            "record", "--market", market, "--symbols", "BTCUSDT", "--db", str(db), *endpoints
        )
        assert_one_line_error(
            result, 2, f"holds the {stored} market", f"cannot record {market}", f"--market {stored}"
        )
        assert jsonl(db, "BTCUSDT") == before


def test_bad_market_inputs_are_one_line_and_create_nothing(tmp_path: Path) -> None:
    sim = start_simulator(tmp_path, "--market", "coinm")
    db = tmp_path / "db"
    try:
        record = ("record", "--market", "coinm", "--db", str(db), *sim.endpoint_args())
        spot_symbol = obrec(*record, "--symbols", "BTCUSDT")
        assert_one_line_error(spot_symbol, 2, "non-trading coinm symbol(s): BTCUSDT")
        delivered = obrec(*record, "--symbols", "BTCUSD_240329")
        assert_one_line_error(delivered, 2, "BTCUSD_240329", "e.g. BTCUSD_PERP")
        all_usdt = obrec(*record, "--all-usdt")
        assert_one_line_error(all_usdt, 2, "--all-usdt is for spot and usdm")
        unknown = obrec("record", "--market", "perp", "--symbols", "BTCUSDT", "--db", str(db))
        assert_one_line_error(unknown, 2, "--market 'perp' is not one of spot, usdm, coinm")
        too_deep = obrec(*record, "--symbols", "BTCUSD_PERP", "--snapshot-limit", "5000")
        assert_one_line_error(too_deep, 2, "--snapshot-limit 5000", "on coinm")
    finally:
        stop(sim.process)
    assert not db.exists()


@pytest.mark.slow
def test_sixty_seconds_of_each_market_store_99_percent_of_seconds_after_first_sync(
    tmp_path: Path,
) -> None:
    """Spot, USD-M and COIN-M at once (one minute of the suite, not three), each recorder
    against its own ``simulate --market``, counted from each one's first stored seconds."""
    markets = {"spot": "BTCUSDT,ETHUSDT", **SYMBOLS}
    sims, recorders = {}, {}
    for market, symbols in markets.items():
        (tmp_path / market).mkdir()
        sims[market] = start_simulator(tmp_path / market, "--market", market, "--symbols", symbols)
    try:
        for market, sim in sims.items():
            recorders[market] = spawn(
                "record", "--market", market, "--symbols", markets[market],
                "--db", str(tmp_path / market / "db"), *sim.endpoint_args(),
            )  # fmt: skip
        for market, recorder in recorders.items():
            names = tuple(markets[market].split(","))
            wait_for_new_seconds(recorder, tmp_path / market / "db", names)
        time.sleep(59)
        for market in markets:
            code, _, err = stop(recorders[market])
            assert code == 0, err
            assert stop(sims[market].process)[0] == 0  # it writes its truth as it exits
    finally:
        for process in [*recorders.values(), *(s.process for s in sims.values())]:
            if process.poll() is None:
                process.kill()
    for market, symbols in markets.items():
        sim = sims[market]
        truth = truth_from_lines(orjson.loads(line) for line in sim.truth.read_bytes().splitlines())
        for symbol in symbols.split(","):
            docs = jsonl(tmp_path / market / "db", symbol)
            stored = [(d["symbol"], d["ts"], d["bids"], d["asks"]) for d in docs]
            assert mismatches(stored, truth) == []  # type: ignore[arg-type]
            seconds = sorted(int(d["ts"]) for d in docs)  # type: ignore[call-overload]
            span = seconds[-1] - seconds[0] + 1
            assert span >= 55, f"{market} {symbol}: {span} s"
            assert len(seconds) / span >= 0.99, f"{market} {symbol}: {len(seconds)}/{span}"
