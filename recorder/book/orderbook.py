"""A local L2 order book in sorted int64 arrays of the exchange's own fixed-point numbers.

Pure: no I/O, no clock. Exact by construction: prices and quantities are held as int64 counts of
1e-8 (``recorder.book.fixedpoint``), Binance's own representation, so no number is rounded and
none needs a guard (docs/architecture.md, "The book and its numbers"). Fast because no Python
code touches a single level: ``apply`` parses an event's raw level text straight into a queue
in one compiled call, the queue is merged into the sorted arrays in compiled passes when the
book is read (in the recorder once a second per symbol, when it is sampled; most changes are
far from the best levels, so they wait and are merged in bulk, see ``BookSide``), and ``top``
hands out integers, which the encoder stores as they are. Why arrays and not dicts: 16 bytes a
level read in order instead of ~160 scattered over the heap (docs/benchmarks.md).

Invariant (checked by property tests against a naive model), once queued changes are settled:
    head + tail keys are strictly ascending and every quantity > 0, where key = price for asks
    and -price for bids, so best comes first on both sides; every head key is below every tail
    key and every key waiting in ``later``.
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
HEAD_LEVELS = 128
"""Levels in a side's head after a rebuild: several times the deepest sample, so that it rarely
runs short, and few enough that merging into it every second is cheap."""
_ALL = 2**62
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


def _settle(
    head_keys: Ints,
    head_qtys: Ints,
    prices: Ints,
    changes: Ints,
    count: int,
    sign: int,
    tail_keys: Ints,
    later_prices: Ints,
    later_qtys: Ints,
    later_count: int,
) -> tuple[Ints, Ints, int]:
    """Merge the first ``count`` queued changes whose key is below the tail's first into the
    head (all of them if there is no tail), and append the others to the ``later`` queue
    (which has room); its new count."""
    near_prices = np.empty(count, np.int64)
    near_qtys = np.empty(count, np.int64)
    near = 0
    whole = len(tail_keys) == 0
    for k in range(count):
        if whole or prices[k] * sign < tail_keys[0]:
            near_prices[near] = prices[k]
            near_qtys[near] = changes[k]
            near += 1
        else:
            later_prices[later_count] = prices[k]
            later_qtys[later_count] = changes[k]
            later_count += 1
    keys, qtys = merge(head_keys, head_qtys, near_prices, near_qtys, near, sign)
    return keys, qtys, later_count


settle: Callable[..., tuple[Ints, Ints, int]] = njit(cache=True)(_settle)


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
    """One side of the book, in two parts so that a sample merges only what it needs: the head
    (the best levels, every change to them merged each second) and the tail (every level behind
    ``tail[0]``), whose changes wait in ``later`` and are merged in bulk when there are enough
    of them, or when the head runs short. Every head key is below every tail key, and a change
    goes to the same part until the tail is rebuilt, so the head's best ``n`` are the book's
    whenever the head has ``n`` levels. ``OrderBook.apply`` fills ``queue``."""

    __slots__ = (
        "_head",
        "_head_keys",
        "_head_qtys",
        "_later",
        "_sign",
        "_tail_keys",
        "_tail_qtys",
        "queue",
    )

    def __init__(self, *, is_bid: bool, head: int = HEAD_LEVELS) -> None:
        self._sign = -1 if is_bid else 1
        self._head = head
        self._head_keys = self._head_qtys = self._tail_keys = self._tail_qtys = _NONE
        self.queue = _Queue()
        self._later = _Queue()

    def __len__(self) -> int:
        self._settle(_ALL)
        return len(self._head_keys) + len(self._tail_keys)

    def top(self, n: int) -> tuple[Units, Units]:
        """The best ``n`` levels' prices and quantities."""
        self._settle(n)
        keys, qtys = self._head_keys, self._head_qtys
        if len(keys) < n and len(self._tail_keys):  # settled: the tail is whole
            keys = np.concatenate((keys, self._tail_keys[: n - len(keys)]))
            qtys = np.concatenate((qtys, self._tail_qtys[: n - len(qtys)]))
        return (keys[:n] * self._sign).tolist(), qtys[:n].tolist()

    def best_price(self) -> int | None:
        """The best price in units (for the crossed-book check), None if the side is empty."""
        self._settle(1)
        return self._sign * int(self._head_keys[0]) if len(self._head_keys) else None

    def clear(self) -> None:
        self._head_keys = self._head_qtys = self._tail_keys = self._tail_qtys = _NONE
        self.queue.count = self._later.count = 0

    def _settle(self, n: int) -> None:
        """Bring the head up to date, with at least its ``n`` best levels if the book has them."""
        queue, later = self.queue, self._later
        if queue.count:
            while later.count + queue.count > len(later.prices):
                later.grow()
            self._head_keys, self._head_qtys, later.count = settle(
                self._head_keys,
                self._head_qtys,
                queue.prices,
                queue.qtys,
                queue.count,
                self._sign,
                self._tail_keys,
                later.prices,
                later.qtys,
                later.count,
            )
            queue.count = 0
        head = len(self._head_keys)
        if (
            (head < n and len(self._tail_keys))
            or head > 4 * self._head
            or later.count > max(self._head, len(self._tail_keys) // 2)
        ):
            self._rebuild()

    def _rebuild(self) -> None:
        """Merge ``later`` into the tail and split the whole side into head and tail again."""
        later = self._later
        tail_keys, tail_qtys = merge(
            self._tail_keys, self._tail_qtys, later.prices, later.qtys, later.count, self._sign
        )
        later.count = 0
        keys = np.concatenate((self._head_keys, tail_keys))
        qtys = np.concatenate((self._head_qtys, tail_qtys))
        head = self._head
        self._head_keys, self._tail_keys = keys[:head], keys[head:]
        self._head_qtys, self._tail_qtys = qtys[:head], qtys[head:]


class OrderBook:
    """Both sides of one symbol's book. ``apply`` is the hot path (it parses and queues);
    ``top`` serves samples."""

    __slots__ = ("asks", "bids")

    def __init__(self, head: int = HEAD_LEVELS) -> None:
        self.bids = BookSide(is_bid=True, head=head)
        self.asks = BookSide(is_bid=False, head=head)

    def replace(self, bids: RawLevels, asks: RawLevels) -> None:
        """Load a full REST snapshot, dropping whatever was there. ValueError (the book then
        empty) if the levels are not Binance's numbers."""
        self.clear()
        self.apply(bids, asks)  # queues all of it or, refusing, nothing

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
