"""Export: Tardis CSV rows, request validation, atomic targets, and real exports to files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from recorder.book.snapshot import Level, Snapshot
from recorder.cli.common import error_message
from recorder.errors import UnknownSymbolError, UsageError
from recorder.read import Database
from recorder.read.export import (
    ExportFormat,
    ExportRequest,
    atomic_target,
    export,
    snapshot_doc,
    tardis_header,
    tardis_row,
)
from recorder.storage.layout import PendingWrites, snapshot_key
from recorder.storage.store import Store
from tests.helpers import duck, encoded

MIDNIGHT = 1_700_006_400  # 2023-11-15T00:00:00Z
BTC_SECONDS = list(range(MIDNIGHT - 5, MIDNIGHT + 5))  # five seconds on each UTC day
ETH_SECONDS = [MIDNIGHT - 3, MIDNIGHT - 2, MIDNIGHT + 7]
FROM_S, TO_S = MIDNIGHT - 10, MIDNIGHT + 10


def levels(ts_s: int) -> tuple[list[Level], list[Level]]:
    price = ts_s % 1000
    return (
        [(f"{price}.5", "1.25"), (f"{price}", "3")],
        [(f"{price + 1}", "0.5"), (f"{price + 1}.25", "2"), (f"{price + 2}", "7")],
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "db"
    puts = []
    for symbol, seconds in (("BTCUSDT", BTC_SECONDS), ("ETHUSDT", ETH_SECONDS)):
        for s in seconds:
            bids, asks = levels(s)
            puts.append(
                (snapshot_key(symbol, s), encoded(s * 1000 + 7, s, s * 1000 + 9, bids, asks))
            )
    with Store.open_writer(path) as store:
        store.write(PendingWrites(puts=puts))
    with Database.open(path) as database:
        yield database


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def request(
    output: Path | None,
    fmt: ExportFormat = ExportFormat.CSV,
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT"),
    window: tuple[int, int] = (FROM_S, TO_S),
    **options: bool,
) -> ExportRequest:
    return ExportRequest(symbols, window[0], window[1], fmt, output, levels=2, **options)


def snapshot(bids: list[Level], asks: list[Level]) -> Snapshot:
    return Snapshot("BTCUSDT", 1_700_000_000, 1_700_000_000_123, 42, 1_700_000_000_456, bids, asks)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# -- rows ---------------------------------------------------------------------------------------


def test_tardis_header() -> None:
    assert tardis_header(2) == (
        "exchange,symbol,timestamp,local_timestamp,"
        "asks[0].price,asks[0].amount,bids[0].price,bids[0].amount,"
        "asks[1].price,asks[1].amount,bids[1].price,bids[1].amount"
    )


def test_tardis_row_fills_missing_levels_with_empty_cells() -> None:
    snap = snapshot([("100.5", "1"), ("100", "2")], [("101", "3")])
    row = tardis_row(snap, 3)
    assert row == ("binance,BTCUSDT,1700000000123000,1700000000456000,101,3,100.5,1,,,100,2,,,,")
    assert len(row.split(",")) == len(tardis_header(3).split(","))


def test_tardis_row_cuts_to_the_requested_levels() -> None:
    snap = snapshot([("100.5", "1"), ("100", "2")], [("101", "3"), ("102", "4")])
    assert tardis_row(snap, 1) == "binance,BTCUSDT,1700000000123000,1700000000456000,101,3,100.5,1"


def test_snapshot_doc() -> None:
    snap = snapshot([("100.5", "1")], [("101", "3")])
    doc = snapshot_doc(snap)
    assert list(doc) == ["symbol", "ts", "event_time", "update_id", "recv_time", "bids", "asks"]
    assert doc == {
        "symbol": "BTCUSDT",
        "ts": 1_700_000_000,
        "event_time": 1_700_000_000_123,
        "update_id": 42,
        "recv_time": 1_700_000_000_456,
        "bids": [("100.5", "1")],
        "asks": [("101", "3")],
    }
    assert orjson.loads(orjson.dumps(doc))["bids"] == [["100.5", "1"]]


# -- requests -----------------------------------------------------------------------------------


def test_parquet_cannot_go_to_stdout() -> None:
    with pytest.raises(UsageError, match="stdout"):
        request(None, ExportFormat.PARQUET)


@pytest.mark.parametrize("fmt", [ExportFormat.CSV, ExportFormat.JSONL])
def test_partition_is_for_parquet_only(fmt: ExportFormat, out: Path) -> None:
    with pytest.raises(UsageError, match="partition") as info:
        request(out / "x", fmt, partition=True)
    assert "--partition is for --format parquet" in error_message(info.value)


@pytest.mark.parametrize("count", [0, -1, 5001])
def test_levels_out_of_range(count: int) -> None:
    with pytest.raises(UsageError, match=f"levels {count}") as info:
        ExportRequest(("BTCUSDT",), 0, 1, ExportFormat.CSV, None, levels=count)
    assert f"--levels {count}" in error_message(info.value)


@pytest.mark.parametrize(
    ("name", "fmt", "named"),
    [
        ("x.csv", ExportFormat.PARQUET, "csv"),
        ("x.pq", ExportFormat.CSV, "parquet"),
        ("x.Parquet", ExportFormat.JSONL, "parquet"),
        ("x.ndjson", ExportFormat.CSV, "jsonl"),
    ],
)
def test_a_file_named_for_another_format_is_refused(
    name: str, fmt: ExportFormat, named: str
) -> None:
    with pytest.raises(UsageError, match=f"named like {named}") as info:
        request(Path(name), fmt)
    assert f"--format is {fmt.value}" in error_message(info.value)
    assert f"-o {name}" in error_message(info.value)


def test_valid_requests() -> None:
    ExportRequest(("BTCUSDT",), 0, 1, ExportFormat.JSONL, None, levels=1)
    ExportRequest(("BTCUSDT",), 0, 1, ExportFormat.PARQUET, Path("d"), levels=5000, partition=True)
    for name in ("x.parquet", "x.pq", "books", "x.data", "lake.csv.d"):
        ExportRequest(("BTCUSDT",), 0, 1, ExportFormat.PARQUET, Path(name))
    ExportRequest(("BTCUSDT",), 0, 1, ExportFormat.JSONL, Path("x.json"))


# -- atomic_target ------------------------------------------------------------------------------


def test_atomic_target_writes_a_new_file(out: Path) -> None:
    target = out / "a.csv"
    with atomic_target(target, force=False) as tmp:
        assert tmp.parent == out
        assert tmp != target
        tmp.write_text("new")
        assert not target.exists()
    assert target.read_text() == "new"
    assert leftovers(out) == []


def test_atomic_target_refuses_an_existing_target(out: Path) -> None:
    target = out / "a.csv"
    target.write_text("old")
    with pytest.raises(UsageError, match="force") as info, atomic_target(target, force=False):
        pytest.fail("the block must not run")
    assert "--force" in error_message(info.value)
    assert target.read_text() == "old"
    assert leftovers(out) == []


def test_atomic_target_replaces_with_force(out: Path) -> None:
    target = out / "a.csv"
    target.write_text("old")
    with atomic_target(target, force=True) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new"
    assert leftovers(out) == []


def fail_half_way(target: Path, error: BaseException, *, directory: bool = False) -> None:
    """Write part of an output inside ``atomic_target``, then fail with ``error``."""
    with atomic_target(target, True, directory=directory) as tmp:
        if directory:
            (tmp / "symbol=X").mkdir()
            (tmp / "symbol=X" / "part-0.parquet").write_bytes(b"half")
        else:
            tmp.write_text("half")
        raise error


def test_atomic_target_failure_keeps_the_old_target(out: Path) -> None:
    target = out / "a.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        fail_half_way(target, RuntimeError("boom"))
    assert target.read_text() == "old"
    assert leftovers(out) == []


def test_atomic_target_failure_of_a_new_directory_leaves_nothing(out: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        fail_half_way(out / "lake", KeyboardInterrupt(), directory=True)
    assert list(out.iterdir()) == []


def test_atomic_target_replaces_a_directory_with_force(out: Path) -> None:
    target = out / "lake"
    target.mkdir()
    (target / "stale").write_text("old")
    with atomic_target(target, True, directory=True) as tmp:
        (tmp / "fresh").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["fresh"]
    assert leftovers(out) == []


def test_atomic_target_missing_parent(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "a.csv"
    with pytest.raises(UsageError, match="not a directory"), atomic_target(target, False):
        pytest.fail("the block must not run")
    assert not target.parent.exists()


# -- exports ------------------------------------------------------------------------------------


def test_export_csv(db: Database, out: Path) -> None:
    target = out / "book.csv"
    count = export(db, request(target))
    assert count == len(BTC_SECONDS) + len(ETH_SECONDS)
    lines = target.read_text().splitlines()
    assert lines[0] == tardis_header(2)
    assert len(lines) == 1 + count
    first = lines[1].split(",")
    ts = BTC_SECONDS[0]
    assert first[:4] == [
        "binance",
        "BTCUSDT",
        str((ts * 1000 + 7) * 1000),
        str((ts * 1000 + 9) * 1000),
    ]
    bids, asks = levels(ts)
    assert first[4:8] == [asks[0][0], asks[0][1], bids[0][0], bids[0][1]]
    assert [line.split(",")[1] for line in lines[1:]] == ["BTCUSDT"] * 10 + ["ETHUSDT"] * 3
    assert leftovers(out) == []


def test_export_jsonl(db: Database, out: Path) -> None:
    target = out / "book.jsonl"
    count = export(db, request(target, ExportFormat.JSONL, window=(MIDNIGHT - 2, MIDNIGHT + 8)))
    docs = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert count == len(docs) == 7 + 2
    assert [(d["symbol"], d["ts"]) for d in docs] == [
        ("BTCUSDT", s) for s in range(MIDNIGHT - 2, MIDNIGHT + 5)
    ] + [("ETHUSDT", MIDNIGHT - 2), ("ETHUSDT", MIDNIGHT + 7)]
    bids, asks = levels(MIDNIGHT - 2)
    assert docs[0]["bids"] == [list(level) for level in bids]
    assert docs[0]["asks"] == [list(level) for level in asks]  # every level, not --levels


@pytest.mark.parametrize("fmt", [ExportFormat.CSV, ExportFormat.JSONL, ExportFormat.PARQUET])
def test_export_of_an_empty_window_writes_no_file(
    db: Database, out: Path, fmt: ExportFormat
) -> None:
    target = out / "empty"
    assert export(db, request(target, fmt, window=(MIDNIGHT + 100, MIDNIGHT + 200))) == 0
    assert list(out.iterdir()) == []


def test_export_of_an_empty_partitioned_window_writes_no_directory(db: Database, out: Path) -> None:
    target = out / "lake"
    req = request(target, ExportFormat.PARQUET, window=(1, 2), partition=True)
    assert export(db, req) == 0
    assert list(out.iterdir()) == []


def test_export_refuses_an_existing_file(db: Database, out: Path) -> None:
    target = out / "book.csv"
    target.write_text("keep me")
    with pytest.raises(UsageError, match="force") as info:
        export(db, request(target))
    assert "--force" in error_message(info.value)
    assert target.read_text() == "keep me"
    assert export(db, request(target, force=True)) == 13
    assert target.read_text().startswith("exchange,")


def test_export_of_an_unknown_symbol(db: Database, out: Path) -> None:
    with pytest.raises(UnknownSymbolError, match="DOGEUSDT"):
        export(db, request(out / "x.csv", symbols=("BTCUSDT", "DOGEUSDT")))
    assert list(out.iterdir()) == []


def test_export_to_stdout(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    count = export(db, request(None, ExportFormat.JSONL, symbols=("ETHUSDT",)))
    lines = capsys.readouterr().out.splitlines()
    assert count == len(lines) == 3
    assert [orjson.loads(line)["ts"] for line in lines] == ETH_SECONDS


def test_export_parquet(db: Database, out: Path) -> None:
    target = out / "book.parquet"
    count = export(db, request(target, ExportFormat.PARQUET))
    assert count == 13
    table = pq.read_table(target)
    assert table.num_rows == 13
    assert table.column("symbol").to_pylist() == ["BTCUSDT"] * 10 + ["ETHUSDT"] * 3
    assert table.column("ts").to_pylist() == BTC_SECONDS + ETH_SECONDS
    assert leftovers(out) == []


def test_export_parquet_partitioned(db: Database, out: Path) -> None:
    target = out / "lake"
    count = export(db, request(target, ExportFormat.PARQUET, partition=True))
    assert count == 13
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*.parquet"))
    assert files == [
        "symbol=BTCUSDT/date=2023-11-14/part-0.parquet",
        "symbol=BTCUSDT/date=2023-11-15/part-0.parquet",
        "symbol=ETHUSDT/date=2023-11-14/part-0.parquet",
        "symbol=ETHUSDT/date=2023-11-15/part-0.parquet",
    ]
    day_one = pq.read_table(target / "symbol=BTCUSDT" / "date=2023-11-14" / "part-0.parquet")
    assert "symbol" not in day_one.schema.names  # it lives in the path
    assert day_one.column("ts").to_pylist() == BTC_SECONDS[:5]

    glob = f"{target}/**/*.parquet"
    counted = duck(f"select count(*) from read_parquet('{glob}', hive_partitioning=true)")
    assert counted == [(13,)]
    by_partition = duck(
        f"select symbol, cast(date as varchar), count(*) from read_parquet('{glob}', "
        "hive_partitioning=true) group by all order by all"
    )
    assert by_partition == [
        ("BTCUSDT", "2023-11-14", 5),
        ("BTCUSDT", "2023-11-15", 5),
        ("ETHUSDT", "2023-11-14", 2),
        ("ETHUSDT", "2023-11-15", 1),
    ]
    assert leftovers(out) == []


def test_csv_and_parquet_exports_report_the_same_progress(db: Database, out: Path) -> None:
    """`obrec export` sizes its progress bar as the number of snapshots in the window
    (cli.py: ``total = sum(store.count(...))``); every format must advance it by that much."""
    window = (MIDNIGHT - 100, MIDNIGHT + 100)  # wider than the data, as with --from -7d
    text: list[int] = []
    parquet: list[int] = []
    written = export(db, request(out / "book.csv", window=window), text.append)
    export(db, request(out / "book.parquet", ExportFormat.PARQUET, window=window), parquet.append)
    assert sum(parquet) == written == 13
    assert sum(text) == written
