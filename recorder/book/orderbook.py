"""A local L2 order book in sorted numpy arrays, with changes merged in batches when it is read.

Pure: no I/O, no clock. Why arrays: a 5,000-level side kept as a dict of Python strings is about
750 KB scattered over the heap, so with 1,000 books every change costs several cache misses
(~0.8 µs); as two float64 arrays it is 80 KB read in order. Why batches: a numpy call costs a
microsecond or so whatever its size, so ``apply`` only queues changes and they are merged in one
pass when the book is next read: in the recorder, once a second per symbol, when it is sampled.
``docs/benchmarks.md`` has the measurements.

Prices and quantities are doubles, decoded straight from the exchange's strings. Every decimal
with at most 15 significant digits (every Binance price and quantity) maps to a distinct double
whose shortest representation is that decimal again, so nothing is rounded: ``top`` formats each
level back to its exact decimal string, and raises ValueError for a number that does not format
back within 15 digits rather than pass on a rounded one.

Invariant (checked by property tests against a naive model), once queued changes are merged:
    _keys is strictly ascending and every _qtys > 0, where key = price for asks and -price for
    bids, so best comes first on both sides.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from decimal import Decimal
from itertools import chain

import numpy as np
import numpy.typing as npt

from recorder.binance.wire import MAX_SIGNIFICANT_DIGITS
from recorder.book.snapshot import Level

Change = tuple[float, float]
"""An absolute (price, quantity) change as decoded from the wire; quantity 0 removes the level."""

_TEXT_CACHE_LIMIT = 128
"""Numbers whose text a side remembers: the best levels' prices recur second after second, and
formatting one costs ~0.4 µs against ~0.06 µs to look it up. Small, as there are two per symbol."""

Floats = npt.NDArray[np.float64]
_NONE: Floats = np.empty(0)


class BookSide:
    """One side of the book. ``apply`` is the hot path (it only queues); ``top`` serves samples."""

    __slots__ = ("_keys", "_qtys", "_queued", "_sign", "_text")

    def __init__(self, *, is_bid: bool) -> None:
        self._sign = -1.0 if is_bid else 1.0
        self._keys = _NONE
        self._qtys = _NONE
        self._queued = array("d")  # flat price, qty, price, qty, ...
        self._text: dict[float, str] = {}  # shortest decimal of recent numbers

    def __len__(self) -> int:
        self._merge()
        return len(self._keys)

    def replace(self, levels: Iterable[Change]) -> None:
        """Load a full REST snapshot, dropping whatever was there.

        Raises ValueError on a price <= 0, a negative quantity or a non-finite number; the side
        is then empty."""
        self._keys = self._qtys = _NONE
        self._queued = array("d")
        self.apply(levels)
        try:
            self._merge()
        except ValueError:
            self._keys = self._qtys = _NONE
            raise

    def apply(self, changes: Iterable[Change]) -> None:
        """Queue absolute (price, qty) changes; qty 0 removes (an unknown level is fine).

        They are copied into a flat array at once, while the decoder's objects are still in the
        CPU's cache (read back a second later, they took a sixth of the recorder's CPU at 1,500
        symbols), and so that those objects are freed at once. A change the book cannot hold
        raises ValueError at the next read; the caller then treats the book as lost."""
        self._queued.extend(chain.from_iterable(changes))

    def top(self, n: int) -> list[Level]:
        """The best ``n`` levels, best first, as exact decimal strings."""
        self._merge()
        text = self._text
        if len(text) > _TEXT_CACHE_LIMIT:
            text.clear()
        sign = self._sign
        prices = (self._keys[:n] * sign).tolist()
        qtys = self._qtys[:n].tolist()
        return [
            (text.get(p) or _remember(text, p), text.get(q) or _remember(text, q))
            for p, q in zip(prices, qtys, strict=True)
        ]

    def best_price(self) -> float | None:
        """The best price (for the crossed-book check), None if the side is empty."""
        self._merge()
        return self._sign * float(self._keys[0]) if len(self._keys) else None

    def _merge(self) -> None:
        """Merge the queued changes: the last change of each price wins."""
        if not self._queued:
            return
        queued, self._queued = self._queued, array("d")
        flat = np.frombuffer(queued, dtype=np.float64)
        if len(flat) % 2:
            raise ValueError("a level that is not a (price, quantity) pair")
        prices = flat[0::2]
        qtys = flat[1::2]
        if not (np.isfinite(flat).all() and (prices > 0).all() and (qtys >= 0).all()):
            raise ValueError(
                "a level with a price <= 0, a negative quantity or a non-finite number"
            )
        keys = prices * self._sign
        if len(keys) > 1:  # unique sorts; taken from the end, each price keeps its last change
            keys, last = np.unique(keys[::-1], return_index=True)
            qtys = qtys[::-1][last]
        book_keys, book_qtys = self._keys, self._qtys
        at = np.searchsorted(book_keys, keys)
        found = at < len(book_keys)
        found[found] = book_keys[at[found]] == keys[found]
        book_qtys[at[found]] = qtys[found]  # no caller holds the arrays: top() copies
        new = ~found & (qtys > 0)
        if new.any():  # one pass for both arrays, where np.insert would take two
            slots = at[new] + np.arange(np.count_nonzero(new))
            old = np.ones(len(book_keys) + len(slots), dtype=bool)
            old[slots] = False
            book_keys = _interleave(book_keys, keys[new], slots, old)
            book_qtys = _interleave(book_qtys, qtys[new], slots, old)
        if (qtys[found] == 0).any():
            kept = book_qtys > 0
            book_keys = book_keys[kept]
            book_qtys = book_qtys[kept]
        self._keys, self._qtys = book_keys, book_qtys


def _interleave(
    existing: Floats, added: Floats, slots: npt.NDArray[np.intp], old: npt.NDArray[np.bool_]
) -> Floats:
    merged = np.empty(len(old))
    merged[slots] = added
    merged[old] = existing
    return merged


def _remember(cache: dict[float, str], value: float) -> str:
    cache[value] = text = decimal_text(value)
    return text


def decimal_text(value: float) -> str:
    """The shortest decimal that reads back as ``value``, plainly written (``"0.00001"``, not
    ``"1e-05"``; ``"3"``, not ``"3.0"``). ValueError beyond 15 significant digits: the double
    then need not be the exchange's decimal."""
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    elif text.endswith(".0"):
        text = text[:-2]
    if len(text.replace(".", "").strip("0")) > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(f"{text} has more than {MAX_SIGNIFICANT_DIGITS} significant digits")
    return text


class OrderBook:
    """Both sides of one symbol's book."""

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)

    def replace(self, bids: Iterable[Change], asks: Iterable[Change]) -> None:
        self.bids.replace(bids)
        self.asks.replace(asks)

    def apply(self, bids: Iterable[Change], asks: Iterable[Change]) -> None:
        self.bids.apply(bids)
        self.asks.apply(asks)

    def clear(self) -> None:
        self.replace((), ())

    def is_crossed(self) -> bool:
        """True when best bid >= best ask: the book cannot be right."""
        bid = self.bids.best_price()
        ask = self.asks.best_price()
        return bid is not None and ask is not None and bid >= ask

    def top(self, depth: int) -> tuple[list[Level], list[Level]]:
        """(bids best first, asks best first), ``depth`` levels each at most."""
        return self.bids.top(depth), self.asks.top(depth)
