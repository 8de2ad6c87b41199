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
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from recorder.binance.wire import RawLevels
from recorder.book.fixedpoint import FULL, MALFORMED, Ints, parse_event

Units = list[int]
"""Prices or quantities in counts of 1e-8, best level first."""
_FIRST_QUEUE = 256
_NONE: Ints = np.empty(0, np.int64)


def _merge(
    keys: Ints, qtys: Ints, prices: Ints, changes: Ints, count: int, sign: int
) -> tuple[Ints, Ints]:
    """The book ``keys``/``qtys`` with the first ``count`` queued changes applied, the last
    change of a price winning and quantity 0 removing it: the changes sorted (ties broken by
    arrival, which a stable sort would do at twice the cost), then one pass over both."""
    changed = prices[:count] * sign
    order = np.argsort(changed)
    size = len(keys)
    out_keys = np.empty(size + count, np.int64)
    out_qtys = np.empty(size + count, np.int64)
    i = j = o = 0
    while j < count:
        last = order[j]
        key = changed[last]
        j += 1
        while j < count and changed[order[j]] == key:
            last = max(last, order[j])
            j += 1
        while i < size and keys[i] < key:
            out_keys[o] = keys[i]
            out_qtys[o] = qtys[i]
            o += 1
            i += 1
        if i < size and keys[i] == key:
            i += 1
        if changes[last] > 0:
            out_keys[o] = key
            out_qtys[o] = changes[last]
            o += 1
    rest = size - i
    out_keys[o : o + rest] = keys[i:]
    out_qtys[o : o + rest] = qtys[i:]
    o += rest
    return out_keys[:o], out_qtys[:o]


merge: Callable[[Ints, Ints, Ints, Ints, int, int], tuple[Ints, Ints]] = njit(cache=True)(_merge)


@dataclass(slots=True)
class _Queue:
    """Changes parsed but not merged yet, in arrival order."""

    prices: Ints = field(default_factory=lambda: np.empty(_FIRST_QUEUE, np.int64))
    qtys: Ints = field(default_factory=lambda: np.empty(_FIRST_QUEUE, np.int64))
    count: int = 0

    def grow(self) -> None:
        self.prices = np.resize(self.prices, 2 * len(self.prices))  # keeps what is queued
        self.qtys = np.resize(self.qtys, 2 * len(self.qtys))


class BookSide:
    """One side of the book: what is merged, and what is queued (``OrderBook.apply`` fills it)."""

    __slots__ = ("_keys", "_qtys", "_sign", "queue")

    def __init__(self, *, is_bid: bool) -> None:
        self._sign = -1 if is_bid else 1
        self._keys = self._qtys = _NONE
        self.queue = _Queue()

    def __len__(self) -> int:
        self._merge()
        return len(self._keys)

    def top(self, n: int) -> tuple[Units, Units]:
        """The best ``n`` levels' prices and quantities."""
        self._merge()
        return (self._keys[:n] * self._sign).tolist(), self._qtys[:n].tolist()

    def best_price(self) -> int | None:
        """The best price in units (for the crossed-book check), None if the side is empty."""
        self._merge()
        return self._sign * int(self._keys[0]) if len(self._keys) else None

    def clear(self) -> None:
        self._keys = self._qtys = _NONE
        self.queue.count = 0

    def _merge(self) -> None:
        queue = self.queue
        if queue.count:
            self._keys, self._qtys = merge(
                self._keys, self._qtys, queue.prices, queue.qtys, queue.count, self._sign
            )
            queue.count = 0


class OrderBook:
    """Both sides of one symbol's book. ``apply`` is the hot path (it parses and queues);
    ``top`` serves samples."""

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)

    def replace(self, bids: RawLevels, asks: RawLevels) -> None:
        """Load a full REST snapshot, dropping whatever was there. ValueError (the book then
        empty) if the levels are not Binance's numbers."""
        self.clear()
        try:
            self.apply(bids, asks)
        except ValueError:
            self.clear()
            raise

    def apply(self, bids: RawLevels, asks: RawLevels) -> int:
        """Queue one event's absolute changes (quantity 0 removes; an unknown level is fine) and
        return how many there were. ValueError, with nothing of the event queued, if they are
        not Binance's levels: the caller then treats the book as lost."""
        bid_queue, ask_queue = self.bids.queue, self.asks.queue
        while True:
            bid_end, ask_end = parse_event(
                bids,
                asks,
                bid_queue.prices,
                bid_queue.qtys,
                bid_queue.count,
                ask_queue.prices,
                ask_queue.qtys,
                ask_queue.count,
            )
            if bid_end == FULL:
                bid_queue.grow()
            elif ask_end == FULL:
                ask_queue.grow()
            else:
                break
        if MALFORMED in (bid_end, ask_end):
            text = bytes(bids if bid_end == MALFORMED else asks)
            raise ValueError(f"levels that are not Binance's numbers: {text[:80]!r}")
        added = bid_end - bid_queue.count + ask_end - ask_queue.count
        bid_queue.count, ask_queue.count = bid_end, ask_end
        return added

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()

    def is_crossed(self) -> bool:
        """True when best bid >= best ask: the book cannot be right."""
        bid = self.bids.best_price()
        ask = self.asks.best_price()
        return bid is not None and ask is not None and bid >= ask

    def top(self, depth: int) -> tuple[Units, Units, Units, Units]:
        """Bid prices and quantities, then the asks', ``depth`` levels each at most."""
        return *self.bids.top(depth), *self.asks.top(depth)
