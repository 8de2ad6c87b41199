"""Helpers shared by integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

import orjson
import ormsgpack

from recorder.binance.wire import RawLevels
from recorder.book.snapshot import DECIMALS, Sample
from recorder.runstats import RunStats, RunTotals, SymbolState
from recorder.storage.codec import encode, format_decimal
from recorder.storage.layout import FORMAT_VERSION

Levels = Sequence[Sequence[str]]


def exact(levels: Levels) -> list[tuple[Decimal, Decimal]]:
    """Levels as exact numbers: the recorder normalises spelling ("1.50000000" -> "1.5")."""
    return [(Decimal(p), Decimal(q)) for p, q in levels]


def raw_levels(levels: Iterable[Sequence[str]]) -> RawLevels:
    """Levels as the exchange writes them on the wire (what the decoder hands the book)."""
    return RawLevels(orjson.dumps([list(level) for level in levels]))


def decimal_levels(prices: list[int], qtys: list[int]) -> list[tuple[str, str]]:
    """Levels in the book's counts of 1e-8, as the exact decimals the readers get."""
    return [
        (format_decimal(p, -DECIMALS), format_decimal(q, -DECIMALS))
        for p, q in zip(prices, qtys, strict=True)
    ]


def units(text: str) -> int:
    """The book's integer for a decimal (counts of 1e-8); AssertionError if it has no exact one."""
    scaled = Decimal(text).scaleb(DECIMALS)
    assert scaled == scaled.to_integral_value(), f"{text} has more than {DECIMALS} decimals"
    return int(scaled)


def sample(
    event_time_ms: int, update_id: int, recv_time_ms: int, bids: Levels, asks: Levels
) -> Sample:
    """What the book would sample for these levels (symbol and second are the encoder's no
    concern: they are the key's)."""
    return Sample(
        "",
        0,
        event_time_ms,
        update_id,
        recv_time_ms,
        [units(p) for p, _ in bids],
        [units(q) for _, q in bids],
        [units(p) for p, _ in asks],
        [units(q) for _, q in asks],
    )


def encoded(
    event_time_ms: int, update_id: int, recv_time_ms: int, bids: Levels, asks: Levels
) -> bytes:
    """The stored value of a second with these levels, as the recorder encodes it; or, for
    numbers the recorder never holds (more than 8 decimals, beyond int64: another writer's),
    packed by hand as docs/format.md specifies."""
    numbers = [Decimal(text) for level in (*bids, *asks) for text in level]
    if all(n == n.quantize(Decimal(1).scaleb(-DECIMALS)) < 2**63 / 10**DECIMALS for n in numbers):
        return encode(sample(event_time_ms, update_id, recv_time_ms, bids, asks))
    pe, qe = (
        min(Decimal(level[i]).as_tuple().exponent for level in (*bids, *asks)) for i in (0, 1)
    )
    bp, bq, ap, aq = (
        [int(Decimal(level[i]).scaleb(-int(e))) for level in side]
        for side, i, e in ((bids, 0, pe), (bids, 1, qe), (asks, 0, pe), (asks, 1, qe))
    )
    return ormsgpack.packb(
        {
            "v": FORMAT_VERSION,
            "E": event_time_ms,
            "u": update_id,
            "r": recv_time_ms,
            "pe": pe,
            "qe": qe,
            "bp": bp[:1] + [a - b for a, b in pairwise(bp)],
            "bq": bq,
            "ap": ap[:1] + [b - a for a, b in pairwise(ap)],
            "aq": aq,
        }
    )


def mismatches(
    stored: Iterable[tuple[str, int, Levels, Levels]],
    truth: dict[tuple[str, int], tuple[Levels, Levels]],
) -> list[str]:
    """Every stored (symbol, second) whose book differs from the truth, or has no truth."""
    wrong = []
    for symbol, ts_s, bids, asks in stored:
        true = truth.get((symbol, ts_s))
        if true is None:
            wrong.append(f"{symbol}:{ts_s} has no truth")
        elif (exact(bids), exact(asks)) != (exact(true[0]), exact(true[1])):
            wrong.append(f"{symbol}:{ts_s} differs from the truth")
    return wrong


_DUCK = """
import pickle, sys
import duckdb
with duckdb.connect() as connection:
    for statement in sys.argv[1:-1]:
        connection.execute(statement)
    rows = connection.sql(sys.argv[-1]).fetchall()
sys.stdout.buffer.write(pickle.dumps(rows))
"""


def duck(*statements: str) -> list[tuple[Any, ...]]:
    """Rows of the last of DuckDB ``statements`` (the others set up: LOAD, CREATE SECRET), run
    in a child process: duckdb's bindings print "nanobind:
    leaked ..." at interpreter exit for objects they still hold, which after pytest's summary
    reads like a failure. A child's stderr is captured, and the test process never imports it."""
    result = subprocess.run(
        [sys.executable, "-c", _DUCK, *statements], capture_output=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    rows: list[tuple[Any, ...]] = pickle.loads(result.stdout)
    return rows


def truth_from_lines(
    lines: Iterable[dict[str, Any]],
) -> dict[tuple[str, int], tuple[Levels, Levels]]:
    return {(line["symbol"], line["ts"]): (line["bids"], line["asks"]) for line in lines}


@dataclass
class FakeSync:
    resyncs: int = 0
    changes: int = 0


@dataclass
class FakeRecorder:
    """What observers read of a ``Recorder`` (``observe.summary.Observed``), set by a test."""

    states: dict[str, SymbolState] = field(default_factory=dict)
    totals: RunTotals = field(default_factory=RunTotals)
    disk: int | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stats: dict[str, RunStats] = field(init=False)
    syncs: dict[str, FakeSync] = field(init=False)

    def __post_init__(self) -> None:
        self.stats = {s: RunStats() for s in self.states}
        self.syncs = {s: FakeSync() for s in self.states}

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self.states)

    def state(self, symbol: str) -> SymbolState:
        return self.states[symbol]

    def disk_bytes(self) -> int | None:
        return self.disk
