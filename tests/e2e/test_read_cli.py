"""The read commands through the real CLI, on a directory filled by ``obrec demo``."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.e2e.conftest import assert_one_line_error, obrec
from tests.helpers import duck

pytestmark = pytest.mark.e2e


def jsonl(db: Path, symbol: str, *args: str) -> list[dict[str, Any]]:
    result = obrec("query", symbol, "--db", str(db), "--from", "0", "--format", "jsonl", *args)
    assert result.returncode == 0, result.stderr
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def test_query_table_shows_best_prices_spread_and_levels(demo_db: Path) -> None:
    docs = jsonl(demo_db, "BTCUSDT")
    result = obrec(
        "query",
        "BTCUSDT",
        "--db",
        str(demo_db),
        "--from",
        "0",
        "--format",
        "table",
        "--levels",
        "2",
    )
    assert result.returncode == 0, result.stderr
    assert "best bid" in result.stdout
    assert "spread" in result.stdout
    last = docs[-1]
    assert last["bids"][0][0] in result.stdout


def test_query_at_returns_the_snapshot_at_or_before(demo_db: Path) -> None:
    docs = jsonl(demo_db, "BTCUSDT")
    target = docs[2]["ts"]
    for asked in (target, target + 0):
        result = obrec(
            "query", "BTCUSDT", "--db", str(demo_db), "--at", str(asked), "--format", "jsonl"
        )
        assert [orjson.loads(line) for line in result.stdout.splitlines()] == [docs[2]]
    after = obrec("query", "BTCUSDT", "--db", str(demo_db), "--at", "now", "--format", "json")
    assert orjson.loads(after.stdout) == [docs[-1]]
    before = obrec("query", "BTCUSDT", "--db", str(demo_db), "--at", "10", "--format", "jsonl")
    assert before.returncode == 0
    assert before.stdout == ""
    assert "no snapshots" in before.stderr


def test_query_json_and_csv_hold_the_same_snapshots_as_jsonl(demo_db: Path) -> None:
    docs = jsonl(demo_db, "ETHUSDT")
    as_json = obrec("query", "ETHUSDT", "--db", str(demo_db), "--from", "0", "--format", "json")
    assert orjson.loads(as_json.stdout) == docs
    as_csv = obrec("query", "ETHUSDT", "--db", str(demo_db), "--from", "0", "--format", "csv")
    lines = as_csv.stdout.splitlines()
    assert len(lines) == len(docs) + 1
    first = lines[1].split(",")
    assert first[:3] == ["binance", "ETHUSDT", str(docs[0]["event_time"] * 1000)]
    assert first[4:8] == [*docs[0]["asks"][0], *docs[0]["bids"][0]]


def test_export_csv_has_the_tardis_layout(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "btc.csv"
    result = obrec(
        "export", "BTCUSDT", "--db", str(demo_db), "--from", "0", "-o", str(out), "--levels", "3"
    )
    assert result.returncode == 0, result.stderr
    header, *rows = out.read_text().splitlines()
    expected = ["exchange", "symbol", "timestamp", "local_timestamp"]
    for i in range(3):
        expected += [
            f"asks[{i}].price",
            f"asks[{i}].amount",
            f"bids[{i}].price",
            f"bids[{i}].amount",
        ]
    assert header.split(",") == expected
    docs = jsonl(demo_db, "BTCUSDT")
    assert len(rows) == len(docs)
    assert rows[0].split(",")[3] == str(docs[0]["recv_time"] * 1000)


def test_export_never_overwrites_without_force_and_writes_atomically(
    demo_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n")
    args = ("export", "BTCUSDT", "--db", str(demo_db), "--from", "0", "--format", "jsonl")
    refused = obrec(*args, "-o", str(out))
    assert_one_line_error(refused, 2, "already exists", "--force")
    assert out.read_text() == "precious\n"
    forced = obrec(*args, "-o", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert [orjson.loads(line) for line in out.read_text().splitlines()] == jsonl(
        demo_db, "BTCUSDT"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no temporary left


def test_export_to_stdout(demo_db: Path) -> None:
    result = obrec(
        "export",
        "BTCUSDT,ETHUSDT",
        "--db",
        str(demo_db),
        "--from",
        "0",
        "--format",
        "jsonl",
        "-o",
        "-",
    )
    docs = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert docs == jsonl(demo_db, "BTCUSDT") + jsonl(demo_db, "ETHUSDT")


def _exact(levels: list[list[str]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(q)) for p, q in levels]


def test_duckdb_reads_the_parquet_export_with_the_same_numbers(
    demo_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "books.parquet"
    result = obrec(
        "export",
        "BTCUSDT,ETHUSDT",
        "--db",
        str(demo_db),
        "--from",
        "0",
        "--format",
        "parquet",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    rows = duck(
        "select symbol, ts, epoch_ms(event_time), update_id, bid_price, bid_qty, ask_price, "
        f"ask_qty from read_parquet('{out}') order by symbol, ts"
    )
    docs = jsonl(demo_db, "BTCUSDT") + jsonl(demo_db, "ETHUSDT")
    assert len(rows) == len(docs)
    for row, doc in zip(rows, docs, strict=True):
        symbol, ts, event_time, update_id, bp, bq, ap, aq = row
        assert (symbol, ts, event_time, update_id) == (
            doc["symbol"],
            doc["ts"],
            doc["event_time"],
            doc["update_id"],
        )
        assert list(zip(bp, bq, strict=True)) == _exact(doc["bids"])
        assert list(zip(ap, aq, strict=True)) == _exact(doc["asks"])


def test_partitioned_parquet_is_one_hive_dataset(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    result = obrec(
        "export",
        "BTCUSDT,ETHUSDT",
        "--db",
        str(demo_db),
        "--from",
        "0",
        "--format",
        "parquet",
        "--partition",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["symbol=BTCUSDT", "symbol=ETHUSDT"]
    counts = duck(
        f"select symbol, count(*) from read_parquet('{out}/**/*.parquet', hive_partitioning=true) "
        "group by symbol order by symbol"
    )
    assert counts == [
        ("BTCUSDT", len(jsonl(demo_db, "BTCUSDT"))),
        ("ETHUSDT", len(jsonl(demo_db, "ETHUSDT"))),
    ]


def test_stats_json_describes_each_symbol(demo_db: Path) -> None:
    result = obrec("stats", "--db", str(demo_db), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = orjson.loads(result.stdout)
    assert doc["format_version"] == 1
    assert doc["bytes_on_disk"] > 0
    by_symbol = {s["symbol"]: s for s in doc["symbols"]}
    assert set(by_symbol) == {"BTCUSDT", "ETHUSDT"}
    btc = by_symbol["BTCUSDT"]
    seconds = [d["ts"] for d in jsonl(demo_db, "BTCUSDT")]
    assert (btc["first"], btc["last"], btc["snapshots"]) == (seconds[0], seconds[-1], len(seconds))
    assert btc["expected"] == seconds[-1] - seconds[0] + 1
    assert btc["coverage"] == pytest.approx(len(seconds) / btc["expected"])
    table = obrec("stats", "--db", str(demo_db))
    assert "BTCUSDT" in table.stdout
    assert "coverage" in table.stdout


def test_prune_dry_run_changes_nothing_and_prune_deletes(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "db"
    shutil.copytree(demo_db, db)
    before = jsonl(db, "BTCUSDT")
    cut = str(before[2]["ts"])
    dry = obrec("prune", "--db", str(db), "--before", cut, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would delete 4 snapshots (BTCUSDT 2, ETHUSDT 2)")
    assert jsonl(db, "BTCUSDT") == before
    done = obrec("prune", "--db", str(db), "--before", cut, "--symbol", "BTCUSDT")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("deleted 2 snapshots (BTCUSDT 2)")
    assert "reclaimed" in done.stdout
    assert jsonl(db, "BTCUSDT") == before[2:]
    assert len(jsonl(db, "ETHUSDT")) == len(before)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], ["--days", "--before"]),
        (["--days", "7", "--before", "now"], ["exactly one"]),
        (["--days", "0"], ["--days"]),
        (["--before", "soon"], ["--before"]),
    ],
)
def test_bad_prune_input_is_exit_2(demo_db: Path, args: list[str], words: list[str]) -> None:
    assert_one_line_error(obrec("prune", "--db", str(demo_db), *args), 2, *words)


def test_prune_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    result = obrec("prune", "--db", str(tmp_path / "none"), "--days", "1")
    assert_one_line_error(result, 2, "no obrec database")
    assert not (tmp_path / "none").exists()


def test_corrupt_value_is_named_and_can_be_skipped(demo_db: Path, tmp_path: Path) -> None:
    from recorder.storage.layout import PendingWrites, snapshot_key
    from recorder.storage.store import Store

    db = tmp_path / "db"
    shutil.copytree(demo_db, db)
    docs = jsonl(db, "BTCUSDT")
    bad = docs[1]["ts"]
    with Store.open_writer(db) as store:
        store.write(PendingWrites(puts=[(snapshot_key("BTCUSDT", bad), b"\x01garbage")]))
    result = obrec("query", "BTCUSDT", "--db", str(db), "--from", "0", "--format", "jsonl")
    assert_one_line_error(result, 1, f"BTCUSDT:{bad}", "--skip-corrupt")
    skipped = obrec(
        "query", "BTCUSDT", "--db", str(db), "--from", "0", "--format", "jsonl", "--skip-corrupt"
    )
    assert skipped.returncode == 0
    assert [orjson.loads(line)["ts"] for line in skipped.stdout.splitlines()] == [
        d["ts"] for d in docs if d["ts"] != bad
    ]
    assert f"BTCUSDT:{bad}" in skipped.stderr


@pytest.mark.parametrize("command", ["export", "prune", "stats"])
def test_read_commands_have_help(command: str) -> None:
    result = obrec(command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout
