"""How read results look to people (rich tables) and the stats document for scripts. The
snapshot writers for scripts (JSON, CSV) live in export.py, shared by query and export."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table

from recorder.book.snapshot import Snapshot
from recorder.read.database import DatabaseStats
from recorder.timeparse import format_time


class QueryFormat(Enum):
    TABLE = "table"
    JSONL = "jsonl"
    JSON = "json"
    CSV = "csv"


def snapshot_table(snapshots: Iterable[Snapshot], levels: int) -> tuple[Table, int]:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("time (UTC)", "best bid", "best ask", "spread", "mid"):
        table.add_column(name, justify="right")
    table.add_column(f"bids (top {levels}, qty@price)", overflow="fold")
    table.add_column(f"asks (top {levels}, qty@price)", overflow="fold")
    count = 0
    for s in snapshots:
        count += 1
        spread, mid = "-", "-"
        if s.bids and s.asks:
            bid, ask = Decimal(s.bids[0][0]), Decimal(s.asks[0][0])
            spread, mid = f"{ask - bid:f}", f"{((ask + bid) / 2).normalize():f}"
        table.add_row(
            format_time(s.ts_s),
            s.bids[0][0] if s.bids else "-",
            s.asks[0][0] if s.asks else "-",
            spread,
            mid,
            " ".join(f"{q}@{p}" for p, q in s.bids[:levels]),
            " ".join(f"{q}@{p}" for p, q in s.asks[:levels]),
        )
    return table, count


def stats_doc(stats: DatabaseStats) -> dict[str, Any]:
    return {
        "path": str(stats.path),
        "market": stats.market.value,
        "format_version": stats.format_version,
        "bytes_on_disk": stats.bytes_on_disk,
        "symbols": [
            {
                "symbol": s.symbol,
                "first": s.first_s,
                "last": s.last_s,
                "snapshots": s.snapshots,
                "expected": s.expected,
                "coverage": round(s.coverage, 6),
                "gaps": s.gaps,
                "gap_seconds": s.gap_seconds,
                "longest_gap": None
                if s.longest_gap is None
                else {
                    "from": s.longest_gap.from_s,
                    "to": s.longest_gap.to_s,
                    "seconds": s.longest_gap.to_s - s.longest_gap.from_s + 1,
                    "reason": s.longest_gap.reason,
                },
                "bytes_on_disk_estimate": s.bytes_on_disk,
            }
            for s in stats.symbols
        ],
    }


def print_stats(stats: DatabaseStats, console: Console) -> None:
    size = human_bytes(stats.bytes_on_disk)
    title = f"{stats.path}: {stats.market.value}, format {stats.format_version}, {size} on disk"
    table = Table(title=title)
    table.add_column("symbol")
    for name in (
        "first (UTC)",
        "last (UTC)",
        "snapshots",
        "coverage",
        "gaps",
        "longest gap",
        "≈ disk",
    ):
        table.add_column(name, justify="right")
    for s in stats.symbols:
        longest = "-"
        if s.longest_gap is not None:
            g = s.longest_gap
            longest = f"{g.to_s - g.from_s + 1} s ({g.reason})"
        table.add_row(
            s.symbol,
            "-" if s.first_s is None else format_time(s.first_s),
            "-" if s.last_s is None else format_time(s.last_s),
            f"{s.snapshots:,}",
            f"{s.coverage:.2%}",
            str(s.gaps),
            longest,
            human_bytes(s.bytes_on_disk),
        )
    console.print(table)


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if round(size, 1) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
