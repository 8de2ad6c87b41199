"""How read results look: JSON/JSONL/CSV streams, the rich snapshot table, stats, byte sizes."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from rich.console import Console

from recorder.binance.market import Market
from recorder.book.snapshot import Level, Snapshot
from recorder.read import DatabaseStats, SymbolStats
from recorder.read.export import tardis_header, write_snapshots
from recorder.read.render import (
    QueryFormat,
    human_bytes,
    print_stats,
    snapshot_table,
    stats_doc,
)
from recorder.storage.layout import GapRecord

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def snap(ts_s: int, bids: list[Level], asks: list[Level], symbol: str = "BTCUSDT") -> Snapshot:
    return Snapshot(symbol, ts_s, ts_s * 1000 + 5, ts_s - T0 + 1, ts_s * 1000 + 8, bids, asks)


SNAPSHOTS = [
    snap(T0, [("100.5", "1"), ("100", "2")], [("101.25", "3")]),
    snap(T0 + 1, [("100.4", "1.5")], [("101", "0.5"), ("102", "4")]),
    snap(T0 + 2, [], [("101", "1")]),
]


def render(fmt: QueryFormat, snapshots: list[Snapshot], levels: int = 2) -> tuple[int, bytes]:
    out = io.BytesIO()
    count = write_snapshots(iter(snapshots), fmt.value, levels, out)
    return count, out.getvalue()


def table_text(snapshots: list[Snapshot], levels: int = 20) -> tuple[str, int]:
    table, count = snapshot_table(iter(snapshots), levels)
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(table)
    return console.export_text(), count


# -- write_snapshots ----------------------------------------------------------------------------


def test_jsonl() -> None:
    count, data = render(QueryFormat.JSONL, SNAPSHOTS)
    assert count == 3
    assert data.endswith(b"\n")
    docs = [orjson.loads(line) for line in data.splitlines()]
    assert [d["ts"] for d in docs] == [T0, T0 + 1, T0 + 2]
    assert docs[0] == {
        "symbol": "BTCUSDT",
        "ts": T0,
        "event_time": T0 * 1000 + 5,
        "update_id": 1,
        "recv_time": T0 * 1000 + 8,
        "bids": [["100.5", "1"], ["100", "2"]],
        "asks": [["101.25", "3"]],
    }
    assert docs[2]["bids"] == []


def test_json_is_one_list() -> None:
    count, data = render(QueryFormat.JSON, SNAPSHOTS)
    assert count == 3
    docs = orjson.loads(data)
    assert isinstance(docs, list)
    assert [d["ts"] for d in docs] == [T0, T0 + 1, T0 + 2]
    assert docs[1]["asks"] == [["101", "0.5"], ["102", "4"]]


def test_json_of_one_snapshot() -> None:
    count, data = render(QueryFormat.JSON, SNAPSHOTS[:1])
    assert count == 1
    assert [d["ts"] for d in orjson.loads(data)] == [T0]


def test_csv() -> None:
    count, data = render(QueryFormat.CSV, SNAPSHOTS, levels=2)
    assert count == 3
    lines = data.decode().splitlines()
    assert lines[0] == tardis_header(2)
    assert len(lines) == 4
    assert lines[1] == (
        f"binance,BTCUSDT,{(T0 * 1000 + 5) * 1000},{(T0 * 1000 + 8) * 1000},"
        "101.25,3,100.5,1,,,100,2"
    )
    assert lines[3].split(",")[4:] == ["101", "1", "", "", "", "", "", ""]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [(QueryFormat.JSON, b"[]"), (QueryFormat.JSONL, b""), (QueryFormat.CSV, b"")],
)
def test_empty_input(fmt: QueryFormat, expected: bytes) -> None:
    count, data = render(fmt, [])
    assert count == 0
    assert data.strip() == expected
    if fmt is QueryFormat.JSON:
        assert orjson.loads(data) == []


# -- snapshot_table -----------------------------------------------------------------------------


def test_snapshot_table_counts_rows() -> None:
    table, count = snapshot_table(iter(SNAPSHOTS), 20)
    assert count == 3
    assert table.row_count == 3
    assert [c.header for c in table.columns][:5] == [
        "time (UTC)",
        "best bid",
        "best ask",
        "spread",
        "mid",
    ]


@pytest.mark.parametrize(
    ("bid", "ask", "spread", "mid"),
    [
        ("100.5", "101.25", "0.75", "100.875"),
        ("100", "102", "2", "101"),
        ("99.9", "100.1", "0.2", "100"),
        ("97123.45", "97123.46", "0.01", "97123.455"),
        ("0.00001234", "0.00001236", "0.00000002", "0.00001235"),
    ],
)
def test_snapshot_table_spread_and_mid(bid: str, ask: str, spread: str, mid: str) -> None:
    text, count = table_text([snap(T0, [(bid, "1")], [(ask, "2")])])
    assert count == 1
    row = text.splitlines()[1].split()
    assert row[:5] == ["2023-11-14T22:13:20Z", bid, ask, spread, mid]
    assert row[5:] == [f"1@{bid}", f"2@{ask}"]


def test_snapshot_table_one_sided_book() -> None:
    text, _ = table_text([snap(T0, [], [("101", "1")])])
    row = text.splitlines()[1].split()
    assert row == ["2023-11-14T22:13:20Z", "-", "101", "-", "-", "1@101"]


def test_snapshot_table_shows_at_most_the_requested_levels() -> None:
    bids = [(f"{100 - i}", f"{i + 1}") for i in range(5)]
    asks = [(f"{101 + i}", f"{i + 1}") for i in range(5)]
    text, _ = table_text([snap(T0, bids, asks)], levels=2)
    assert "bids (top 2, qty@price)" in text
    row = text.splitlines()[1].split()
    assert row[5:] == ["1@100", "2@99", "1@101", "2@102"]


def test_snapshot_table_of_nothing() -> None:
    table, count = snapshot_table(iter([]), 20)
    assert count == 0
    assert table.row_count == 0


# -- stats_doc ----------------------------------------------------------------------------------


def test_stats_doc() -> None:
    stats = DatabaseStats(
        Path("/data/obrec"),
        1,
        123_456,
        [
            SymbolStats(
                "BTCUSDT", 100, 119, 15, 2, 8, GapRecord("BTCUSDT", 110, 114, "sequence_gap"), 999
            ),
            SymbolStats("ETHUSDT", 100, 102, 2, 0, 0, None, 1),
        ],
        Market.USDM,
    )
    doc = stats_doc(stats)
    assert doc == {
        "path": "/data/obrec",
        "market": "usdm",
        "format_version": 1,
        "bytes_on_disk": 123_456,
        "symbols": [
            {
                "symbol": "BTCUSDT",
                "first": 100,
                "last": 119,
                "snapshots": 15,
                "expected": 20,
                "coverage": 0.75,
                "gaps": 2,
                "gap_seconds": 8,
                "longest_gap": {"from": 110, "to": 114, "seconds": 5, "reason": "sequence_gap"},
                "bytes_on_disk_estimate": 999,
            },
            {
                "symbol": "ETHUSDT",
                "first": 100,
                "last": 102,
                "snapshots": 2,
                "expected": 3,
                "coverage": 0.666667,
                "gaps": 0,
                "gap_seconds": 0,
                "longest_gap": None,
                "bytes_on_disk_estimate": 1,
            },
        ],
    }
    assert orjson.loads(orjson.dumps(doc)) == doc


def test_stats_of_a_recorded_symbol_with_nothing_stored() -> None:
    gap = GapRecord("RUNEEUR", 100, 104, "startup")
    stats = DatabaseStats(Path("/x"), 1, 10, [SymbolStats("RUNEEUR", None, None, 0, 1, 5, gap, 0)])
    (doc,) = stats_doc(stats)["symbols"]
    assert (doc["first"], doc["last"], doc["snapshots"], doc["expected"]) == (None, None, 0, 0)
    assert (doc["coverage"], doc["gaps"], doc["gap_seconds"]) == (0.0, 1, 5)
    console = Console(file=io.StringIO(), width=200)
    print_stats(stats, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    (row,) = [line for line in text.splitlines() if "RUNEEUR" in line]
    assert [cell.strip() for cell in row.split("│")[2:7]] == ["-", "-", "0", "0.00%", "1"]


def test_stats_doc_of_an_empty_database() -> None:
    doc = stats_doc(DatabaseStats(Path("/x"), 1, 10, []))
    assert doc == {
        "path": "/x",
        "market": "spot",
        "format_version": 1,
        "bytes_on_disk": 10,
        "symbols": [],
    }


# -- human_bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (999, "999 B"),
        (1000, "1.0 KB"),
        (1500, "1.5 KB"),
        (2_500_000, "2.5 MB"),
        (3_000_000_000, "3.0 GB"),
        (5 * 10**12, "5000.0 GB"),
    ],
)
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text
