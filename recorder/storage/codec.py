"""Samples -> bytes -> snapshots. Pure. Format: docs/format.md; keys are ``layout.py``'s.

Values are MessagePack maps of integer columns: every price is ``mantissa * 10**pe`` and every
quantity ``mantissa * 10**qe``, with the exponents chosen per snapshot so that mantissas carry no
common trailing zeros. Prices are delta-coded from the best level outward. This is exact for any
decimal (the recorder's are Binance's int64 counts of 1e-8) and, measured on simulator books,
stores ~90 B per 20-level snapshot after zstd versus ~120-200 B for the exchange's strings (see
docs/benchmarks.md).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import ormsgpack

from recorder.book.snapshot import DECIMALS, Level, Sample, Snapshot
from recorder.storage.layout import FORMAT_VERSION, split_key


def encode(sample: Sample) -> bytes:
    """The value stored for ``sample``: its integers as they are, with one exponent per column
    group (quick: the book hands over integers, so nothing is parsed or formatted here)."""
    n_bids = len(sample.bid_prices)
    prices, pe = _mantissas(sample.bid_prices + sample.ask_prices)
    qtys, qe = _mantissas(sample.bid_qtys + sample.ask_qtys)
    bid_px = prices[:n_bids]
    ask_px = prices[n_bids:]
    return ormsgpack.packb(
        {
            "v": FORMAT_VERSION,
            "E": sample.event_time_ms,
            "u": sample.update_id,
            "r": sample.recv_time_ms,
            "pe": pe,
            "qe": qe,
            "bp": bid_px[:1] + list(map(operator.sub, bid_px, bid_px[1:])),
            "bq": qtys[:n_bids],
            "ap": ask_px[:1] + list(map(operator.sub, ask_px[1:], ask_px)),
            "aq": qtys[n_bids:],
        }
    )


def _mantissas(units: list[int]) -> tuple[list[int], int]:
    """Integers m_i and one exponent e with units_i * 10**-DECIMALS == m_i * 10**e: the common
    trailing zeros dropped, so that deltas and quantities pack into few bytes."""
    common = math.gcd(*units)
    shift = 0
    while common and common % 10 == 0:
        common //= 10
        shift += 1
    if shift:
        units = list(map((10**shift).__rfloordiv__, units))
    return units, shift - DECIMALS


def format_decimal(mantissa: int, exponent: int) -> str:
    """Exact, normalised decimal string: no exponent, no trailing zeros after the point."""
    if exponent >= 0:
        return str(mantissa * 10**exponent)
    if mantissa < 0:
        return "-" + format_decimal(-mantissa, exponent)
    digits = str(mantissa).rjust(1 - exponent, "0")
    tail = digits[exponent:].rstrip("0")
    return f"{digits[:exponent]}.{tail}" if tail else digits[:exponent]


@dataclass(frozen=True, slots=True)
class Columns:
    """A value's integer columns, prices absolute: price_i == bid_prices[i] * 10**price_exponent."""

    event_time_ms: int
    update_id: int
    recv_time_ms: int
    price_exponent: int
    qty_exponent: int
    bid_prices: list[int]
    bid_qtys: list[int]
    ask_prices: list[int]
    ask_qtys: list[int]


def unpack(value: bytes) -> dict[str, Any]:
    """The value's MessagePack map (docs/format.md) with its header and column shapes checked;
    column elements are checked by whoever reads them. ValueError if it is not a snapshot."""
    doc: dict[str, Any] = ormsgpack.unpackb(value)
    if not isinstance(doc, dict) or doc.get("v") != FORMAT_VERSION:
        raise ValueError(f"unknown format version {_version(doc)}")
    try:
        if not (
            type(doc["E"]) is int
            and type(doc["u"]) is int
            and type(doc["r"]) is int
            and type(doc["pe"]) is int
            and type(doc["qe"]) is int
        ):
            raise ValueError("a header field is not an integer")
        if len(doc["bp"]) != len(doc["bq"]) or len(doc["ap"]) != len(doc["aq"]):
            raise ValueError("price and quantity columns differ in length")
    except (KeyError, TypeError) as exc:
        raise ValueError(f"snapshot field missing or mistyped: {exc}") from exc
    return doc


def decode_columns(value: bytes) -> Columns:
    """Raises ValueError (or a subclass) when ``value`` is not a snapshot of a known format."""
    doc = unpack(value)
    try:
        return Columns(
            doc["E"],
            doc["u"],
            doc["r"],
            doc["pe"],
            doc["qe"],
            list(accumulate(doc["bp"], operator.sub)),
            doc["bq"],
            list(accumulate(doc["ap"])),
            doc["aq"],
        )
    except TypeError as exc:
        raise ValueError(f"a price column is mistyped: {exc}") from exc


class Decoder:
    """Decodes values; remembers recent number formatting, which repeats second to second."""

    _CACHE_LIMIT = 1 << 16

    def __init__(self) -> None:
        self._formatted: dict[int, dict[int, str]] = {}  # exponent -> mantissa -> text
        self._size = 0

    def decode(self, key: bytes, value: bytes) -> Snapshot:
        """Raises ValueError (or a subclass) when ``value`` is not a snapshot of a known format."""
        symbol, ts_s = split_key(key)
        c = decode_columns(value)
        pe, qe = c.price_exponent, c.qty_exponent
        bids = self._levels(c.bid_prices, c.bid_qtys, pe, qe)
        asks = self._levels(c.ask_prices, c.ask_qtys, pe, qe)
        return Snapshot(symbol, ts_s, c.event_time_ms, c.update_id, c.recv_time_ms, bids, asks)

    def _levels(self, prices: list[int], qtys: list[int], pe: int, qe: int) -> list[Level]:
        if self._size > self._CACHE_LIMIT:
            self._formatted.clear()
            self._size = 0
        px_text = self._formatted.setdefault(pe, {})
        qty_text = self._formatted.setdefault(qe, {})
        return [
            (
                px_text.get(p) or self._format(px_text, p, pe),
                qty_text.get(q) or self._format(qty_text, q, qe),
            )
            for p, q in zip(prices, qtys, strict=True)
        ]

    def _format(self, cache: dict[int, str], mantissa: int, exponent: int) -> str:
        if type(mantissa) is not int:  # only cache misses get here, so this check is cheap
            raise ValueError(f"a level column holds {type(mantissa).__name__}, not an integer")
        self._size += 1
        cache[mantissa] = text = format_decimal(mantissa, exponent)
        return text


def _version(doc: object) -> object:
    return doc.get("v") if isinstance(doc, dict) else type(doc).__name__
