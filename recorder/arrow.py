"""Snapshots as Arrow record batches, for Parquet export and DataFrames (the ``parquet`` extra).

Prices and quantities are ``decimal128(38, 8)``: exact, typed, and read as decimals by DuckDB,
Polars, pandas and Spark. Eight decimals is Binance's precision; a value with more is refused
rather than rounded. Columns are built from the stored integer columns with numpy (no decimal
strings are formatted), which is what makes a day export in about a second.

Schema (``SCHEMA``): symbol, ts (unix s), time (timestamp[s, UTC]), event_time and recv_time
(timestamp[ms, UTC]), update_id, then bid_price, bid_qty, ask_price, ask_qty as lists, best
level first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from recorder.errors import UsageError

try:
    import numpy as np
    import pyarrow as pa
except ImportError:  # pragma: no cover - exercised by users without the extra
    raise UsageError(
        "Parquet and DataFrames need the parquet extra: pip install 'obrec[parquet]' "
        "(or uv sync --extra parquet)"
    ) from None

from recorder.storage.codec import Columns

if TYPE_CHECKING:
    from recorder.database import Database

SCALE = 8
DECIMAL = pa.decimal128(38, SCALE)
SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("ts", pa.int64()),
        ("time", pa.timestamp("s", tz="UTC")),
        ("event_time", pa.timestamp("ms", tz="UTC")),
        ("recv_time", pa.timestamp("ms", tz="UTC")),
        ("update_id", pa.int64()),
        ("bid_price", pa.list_(DECIMAL)),
        ("bid_qty", pa.list_(DECIMAL)),
        ("ask_price", pa.list_(DECIMAL)),
        ("ask_qty", pa.list_(DECIMAL)),
    ]
)
ROWS_PER_BATCH = 16_384
_INT64_MAX = 2**63 - 1


def batches(
    db: Database,
    symbol: str,
    from_s: int,
    to_s: int,
    *,
    skip_corrupt: bool = False,
    rows: int = ROWS_PER_BATCH,
) -> Iterator[pa.RecordBatch]:
    chunk: list[tuple[int, Columns]] = []
    for row in db.columns(symbol, from_s, to_s, skip_corrupt=skip_corrupt):
        chunk.append(row)
        if len(chunk) == rows:
            yield record_batch(symbol, chunk)
            chunk = []
    if chunk:
        yield record_batch(symbol, chunk)


def snapshot_table(db: Database, symbols: Sequence[str], from_s: int, to_s: int) -> pa.Table:
    return pa.Table.from_batches(
        [b for symbol in symbols for b in batches(db, symbol, from_s, to_s)], schema=SCHEMA
    )


def record_batch(symbol: str, rows: list[tuple[int, Columns]]) -> pa.RecordBatch:
    seconds = pa.array([ts for ts, _ in rows], pa.int64())
    cols = [c for _, c in rows]
    pe = [c.price_exponent for c in cols]
    qe = [c.qty_exponent for c in cols]
    return pa.RecordBatch.from_arrays(
        [
            pa.array([symbol] * len(rows), pa.string()),
            seconds,
            seconds.cast(pa.timestamp("s", tz="UTC")),
            pa.array([c.event_time_ms for c in cols], pa.int64()).cast(SCHEMA.field(3).type),
            pa.array([c.recv_time_ms for c in cols], pa.int64()).cast(SCHEMA.field(4).type),
            pa.array([c.update_id for c in cols], pa.int64()),
            _decimal_lists([c.bid_prices for c in cols], pe),
            _decimal_lists([c.bid_qtys for c in cols], qe),
            _decimal_lists([c.ask_prices for c in cols], pe),
            _decimal_lists([c.ask_qtys for c in cols], qe),
        ],
        schema=SCHEMA,
    )


def _as_int64(values: list[int]) -> np.ndarray | None:
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return None


def _decimal_lists(rows: list[list[int]], exponents: list[int]) -> pa.ListArray:
    """One list<decimal128(38, 8)> column from per-row mantissas and per-row exponents."""
    if min(exponents, default=0) < -SCALE:
        raise UsageError(
            f"a value has more than {SCALE} decimals, more than Parquet export keeps exactly; "
            "export it as csv or jsonl"
        )
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    offsets = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    flat: list[int] = []
    for row in rows:
        flat.extend(row)
    factors = [10 ** (SCALE + e) for e in exponents]
    mantissas = _as_int64(flat)
    if mantissas is not None and (
        not flat or (mantissas.max() <= _INT64_MAX // max(factors) and mantissas.min() >= 0)
    ):
        unscaled = mantissas * np.repeat(np.array(factors, dtype=np.int64), lengths)
        words = np.zeros((len(flat), 2), dtype=np.int64)  # little-endian int128, non-negative
        words[:, 0] = unscaled
        buffer = pa.py_buffer(words.tobytes())
    else:  # values beyond int64 once scaled: exact, in Python
        scale_of = np.repeat(np.array(factors, dtype=object), lengths)
        buffer = pa.py_buffer(
            b"".join(
                (m * f).to_bytes(16, "little", signed=True)
                for m, f in zip(flat, scale_of, strict=True)
            )
        )
    values = pa.Array.from_buffers(DECIMAL, len(flat), [None, buffer])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)
