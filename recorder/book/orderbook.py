"""A local L2 order book in sorted int64 arrays of the exchange's own fixed-point numbers.

Pure: no I/O, no clock. Exact by construction: prices and quantities are held as int64 counts of
1e-8 (``recorder.book.fixedpoint``), Binance's own representation, so no number is rounded and
none needs a guard (docs/architecture.md, "The book and its numbers"). Fast because no Python
code touches a single level: ``apply`` parses an event's raw level text straight into a queue
in one compiled call, the queue is merged into the sorted arrays in one compiled pass when the
book is read (in the recorder once a second per symbol, when it is sampled), and ``top`` hands
out integers, which the encoder stores as they are. Why arrays and not dicts: 16 bytes a level
read in order instead of ~160 scattered over the heap (docs/benchmarks.md).

Invariant (checked by property tests against a naive model), once queued changes are merged:
    _keys is strictly ascending and every _qtys > 0, where key = price for asks and -price for
    bids, so best comes first on both sides.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

from recorder.binance.wire import RawLevels
from recorder.book.fixedpoint import MALFORMED, Ints, most_levels, parse_levels

Units = list[int]
"""Prices or quantities in counts of 1e-8, best level first."""
_FIRST_QUEUE = 256
_NONE: Ints = np.empty(0, np.int64)


def _merge(
    keys: Ints, qtys: Ints, prices: Ints, changes: Ints, count: int, sign: int
) -> tuple[Ints, Ints]:
    """The book ``keys``/``qtys`` with the first ``count`` queued changes applied, the last
    change of a price winning and quantity 0 removing it: a stable sort of the changes, then
    one pass over both."""
    changed = prices[:count] * sign
    order = np.argsort(changed, kind="mergesort")
    size = len(keys)
    out_keys = np.empty(size + count, np.int64)
    out_qtys = np.empty(size + count, np.int64)
    i = j = o = 0
    while j < count:
        key = changed[order[j]]
        qty = changes[order[j]]
        j += 1
        while j < count and changed[order[j]] == key:
            qty = changes[order[j]]
            j += 1
        while i < size and keys[i] < key:
            out_keys[o] = keys[i]
            out_qtys[o] = qtys[i]
            o += 1
            i += 1
        if i < size and keys[i] == key:
            i += 1
        if qty > 0:
            out_keys[o] = key
            out_qtys[o] = qty
            o += 1
    rest = size - i
    out_keys[o : o + rest] = keys[i:]
    out_qtys[o : o + rest] = qtys[i:]
    o += rest
    return out_keys[:o], out_qtys[:o]


merge: Callable[[Ints, Ints, Ints, Ints, int, int], tuple[Ints, Ints]] = njit(cache=True)(_merge)


class BookSide:
    """One side of the book. ``apply`` is the hot path (it only queues); ``top`` serves samples."""

    __slots__ = ("_changes", "_count", "_keys", "_prices", "_qtys", "_sign")

    def __init__(self, *, is_bid: bool) -> None:
        self._sign = -1 if is_bid else 1
        self._keys = self._qtys = _NONE
        self._prices = np.empty(_FIRST_QUEUE, np.int64)  # queued changes, in arrival order
        self._changes = np.empty(_FIRST_QUEUE, np.int64)
        self._count = 0

    def __len__(self) -> int:
        self._merge()
        return len(self._keys)

    def replace(self, levels: RawLevels) -> None:
        """Load a full REST snapshot, dropping whatever was there. ValueError (the side then
        empty) if ``levels`` are not Binance's numbers."""
        self._keys = self._qtys = _NONE
        self._count = 0
        self.apply(levels)
        self._merge()

    def apply(self, levels: RawLevels) -> int:
        """Queue one event's absolute changes (quantity 0 removes; an unknown level is fine) and
        return how many there were. ValueError if they are not Binance's levels: the caller
        then treats the book as lost, whatever was queued before is kept."""
        room = self._count + most_levels(levels)
        if room > len(self._prices):
            self._prices = np.resize(self._prices, 2 * room)
            self._changes = np.resize(self._changes, 2 * room)
        count = parse_levels(levels, self._prices, self._changes, self._count)
        if count == MALFORMED:
            raise ValueError(f"levels that are not Binance's numbers: {bytes(levels)[:80]!r}")
        added, self._count = count - self._count, count
        return added

    def top(self, n: int) -> tuple[Units, Units]:
        """The best ``n`` levels' prices and quantities."""
        self._merge()
        return (self._keys[:n] * self._sign).tolist(), self._qtys[:n].tolist()

    def best_price(self) -> int | None:
        """The best price in units (for the crossed-book check), None if the side is empty."""
        self._merge()
        return self._sign * int(self._keys[0]) if len(self._keys) else None

    def _merge(self) -> None:
        if self._count:
            self._keys, self._qtys = merge(
                self._keys, self._qtys, self._prices, self._changes, self._count, self._sign
            )
            self._count = 0


class OrderBook:
    """Both sides of one symbol's book."""

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)

    def replace(self, bids: RawLevels, asks: RawLevels) -> None:
        self.bids.replace(bids)
        self.asks.replace(asks)

    def apply(self, bids: RawLevels, asks: RawLevels) -> int:
        """Queue one event's changes; how many there were. ValueError as ``BookSide.apply``."""
        return self.bids.apply(bids) + self.asks.apply(asks)

    def clear(self) -> None:
        for side in (self.bids, self.asks):
            side.replace(_EMPTY)

    def is_crossed(self) -> bool:
        """True when best bid >= best ask: the book cannot be right."""
        bid = self.bids.best_price()
        ask = self.asks.best_price()
        return bid is not None and ask is not None and bid >= ask

    def top(self, depth: int) -> tuple[Units, Units, Units, Units]:
        """Bid prices and quantities, then the asks', ``depth`` levels each at most."""
        return *self.bids.top(depth), *self.asks.top(depth)


_EMPTY = RawLevels(b"[]")
