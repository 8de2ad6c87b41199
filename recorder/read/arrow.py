"""Snapshots as Arrow record batches, for Parquet export and DataFrames (the ``parquet`` extra).

Prices and quantities are ``decimal128(38, 8)``: exact, typed, and read as decimals by DuckDB,
Polars, pandas and Spark. Eight decimals is Binance's precision; a value with more is refused
rather than rounded. Columns are built from the stored integer columns with numpy (no decimal
strings are formatted), which is what makes a day export in about a second.

Schema (``SCHEMA``): symbol, ts (unix s), time (timestamp[s, UTC]), event_time and recv_time
(timestamp[ms, UTC]), update_id, then bid_price, bid_qty, ask_price, ask_qty as lists, best
level first.

Rows come in as ``(second, stored map)`` pairs (``Database.docs``), so this module knows no
database. numpy and pyarrow are imported at the top: callers check the extra first
(``extras.require(PARQUET)``).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from itertools import accumulate, chain
from typing import Any

import numpy as np
import pyarrow as pa

from recorder.binance.market import Market, spec
from recorder.errors import UsageError

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


def market_metadata(market: Market) -> dict[str, str]:
    """Schema metadata every table and Parquet file carries: which market its books are of, and
    that market's Tardis exchange id (docs/markets.md)."""
    return {"obrec.market": market.value, "obrec.exchange": spec(market).tardis_exchange}


_INT64_MAX = 2**63 - 1


Docs = Iterable[tuple[int, dict[str, Any]]]
"""(second, stored MessagePack map) of one symbol, oldest first: what ``Database.docs`` yields."""


def batches(symbol: str, docs: Docs, *, rows: int = ROWS_PER_BATCH) -> Iterator[pa.RecordBatch]:
    chunk: list[tuple[int, dict[str, Any]]] = []
    for row in docs:
        chunk.append(row)
        if len(chunk) == rows:
            yield record_batch(symbol, chunk)
            chunk = []
    if chunk:
        yield record_batch(symbol, chunk)


def table(docs_by_symbol: Mapping[str, Docs]) -> pa.Table:
    """One table of every symbol's rows, symbol by symbol."""
    return pa.Table.from_batches(
        [b for symbol, docs in docs_by_symbol.items() for b in batches(symbol, docs)],
        schema=SCHEMA,
    )


def record_batch(symbol: str, rows: list[tuple[int, dict[str, Any]]]) -> pa.RecordBatch:
    """One batch from stored maps (docs/format.md). Arrays are built from numpy buffers, since
    ``pa.array`` on Python lists imports pandas when installed (over half a second)."""
    n = len(rows)
    docs = [doc for _, doc in rows]
    name = symbol.encode()
    pe = [d["pe"] for d in docs]
    qe = [d["qe"] for d in docs]
    try:
        return pa.RecordBatch.from_arrays(
            [
                pa.Array.from_buffers(
                    pa.string(),
                    n,
                    [
                        None,
                        _buffer(np.arange(n + 1, dtype=np.int32) * len(name)),
                        pa.py_buffer(name * n),
                    ],
                ),
                _fixed(pa.int64(), np.fromiter((ts for ts, _ in rows), np.int64, n)),
                _fixed(SCHEMA.field(2).type, np.fromiter((ts for ts, _ in rows), np.int64, n)),
                _fixed(SCHEMA.field(3).type, np.fromiter((d["E"] for d in docs), np.int64, n)),
                _fixed(SCHEMA.field(4).type, np.fromiter((d["r"] for d in docs), np.int64, n)),
                _fixed(pa.int64(), np.fromiter((d["u"] for d in docs), np.int64, n)),
                _decimal_lists([d["bp"] for d in docs], pe, deltas=-1),
                _decimal_lists([d["bq"] for d in docs], qe),
                _decimal_lists([d["ap"] for d in docs], pe, deltas=1),
                _decimal_lists([d["aq"] for d in docs], qe),
            ],
            schema=SCHEMA,
        )
    except (TypeError, ValueError) as exc:  # a column element that is not an integer
        raise UsageError(
            f"{symbol}: a stored value between seconds {rows[0][0]} and {rows[-1][0]} does not "
            f"decode ({exc}); find it with obrec query --format jsonl"
        ) from exc


def _buffer(array: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.ascontiguousarray(array))


def _fixed(kind: pa.DataType, values: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(kind, len(values), [None, _buffer(values)])


def _decimal_lists(rows: list[list[int]], exponents: list[int], *, deltas: int = 0) -> pa.Array:
    """One list<decimal128(38, 8)> column from per-row mantissas and per-row exponents.

    ``deltas`` says how the row was stored: 0 as is, 1 as ascending deltas from its first value,
    -1 as descending deltas (docs/format.md); they are undone here with a segmented cumsum.
    """
    if min(exponents, default=0) < -SCALE:
        raise UsageError(
            f"a value has more than {SCALE} decimals, more than Parquet export keeps exactly; "
            "export it as csv or jsonl"
        )
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat: list[int] = []
    for row in rows:
        flat.extend(row)
    factors = [10 ** (SCALE + e) for e in exponents]
    mantissas = _as_int64(flat)
    if mantissas is not None and deltas:
        mantissas = _undelta(mantissas, offsets, lengths, deltas)
    if mantissas is not None and (
        not flat or (mantissas.max() <= _INT64_MAX // max(factors) and mantissas.min() >= 0)
    ):
        unscaled = mantissas * np.repeat(np.array(factors, dtype=np.int64), lengths)
        words = np.zeros((len(flat), 2), dtype=np.int64)  # little-endian int128, non-negative
        words[:, 0] = unscaled
        buffer = pa.py_buffer(words.tobytes())
    else:  # values beyond int64: exact, in Python
        absolute = [
            list(accumulate(r, operator.sub if deltas < 0 else operator.add)) if deltas else r
            for r in rows
        ]
        scale_of = np.repeat(np.array(factors, dtype=object), lengths)
        buffer = pa.py_buffer(
            b"".join(
                (m * f).to_bytes(16, "little", signed=True)
                for m, f in zip(chain.from_iterable(absolute), scale_of, strict=True)
            )
        )
    values = pa.Array.from_buffers(DECIMAL, len(flat), [None, buffer])
    return pa.Array.from_buffers(
        pa.list_(DECIMAL), len(rows), [None, _buffer(offsets.astype(np.int32))], children=[values]
    )


def _undelta(
    values: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, sign: int
) -> np.ndarray | None:
    """Absolute values from each row's first value plus signed deltas, by one cumsum over the
    whole column minus each row's starting sum; None when that could overflow int64."""
    if len(values) and int(np.abs(values).max()) * len(values) > _INT64_MAX:
        return None  # the sum of magnitudes bounds every partial sum
    signed = values * sign
    starts = offsets[:-1][lengths > 0]
    signed[starts] = values[starts]
    total = np.cumsum(signed)
    before = np.concatenate((np.zeros(1, dtype=np.int64), total))[offsets[:-1]]
    result: np.ndarray = total - np.repeat(before, lengths)
    return result


def _as_int64(values: list[int]) -> np.ndarray | None:
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return None
