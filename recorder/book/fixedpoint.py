"""The book's numbers: Binance's own, int64 counts of 1e-8 (docs/architecture.md, "The book and
its numbers").

Every price and quantity Binance sends is a decimal of at most 8 places up to
92,233,720,368.54775807: an int64 of 1e-8 units. As such integers they are exact, sort like the
numbers, and format back to text with no rounding question; a double holds only 15 significant
digits of them. ``parse_levels`` turns the raw JSON text of a side's levels
(``[["97000.01000000","0.5"],...]``) into such integers in one compiled pass (numba: parsing
each number in Python costs more than the whole of a dict update; ``docs/benchmarks.md``), and
refuses anything else whole: more than 8 decimals, beyond int64, a sign, an exponent, a price of
0, a level that is not a pair of strings. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from numba import njit

from recorder.binance.wire import RawLevels
from recorder.book.snapshot import DECIMALS

MAX_UNITS = 2**63 - 1
"""92,233,720,368.54775807: the largest number Binance can send."""

Ints = npt.NDArray[np.int64]

MALFORMED = -1
"""``parse_levels``' answer for text that is not Binance's levels."""
FULL = -2
"""``parse_levels``' answer when the arrays have no room left: grow them and parse again."""
_QUOTE, _COMMA, _DOT, _OPEN, _CLOSE = 34, 44, 46, 91, 93
_LAST_SAFE = MAX_UNITS // 10  # any value above it overflows when multiplied by 10


def _skip(text: bytes, at: int) -> int:
    """The index of the next character at or after ``at`` that is not JSON whitespace."""
    end = len(text)
    while at < end and text[at] in (32, 9, 10, 13):
        at += 1
    return at


_compiled_skip = njit(cache=True, inline="always")(_skip)


def _number(text: bytes, at: int) -> tuple[int, int]:
    """The units of the quoted decimal at ``at`` and the index after it; (-1, at) if it is not
    one within the domain."""
    end = len(text)
    if at >= end or text[at] != _QUOTE:
        return MALFORMED, at
    at += 1
    value = 0
    digits = 0
    decimals = -1  # -1: no point seen
    while at < end:
        char = text[at]
        if 48 <= char <= 57:
            if value > _LAST_SAFE:
                return MALFORMED, at
            value = value * 10 + (char - 48)
            if value < 0:  # wrapped past MAX_UNITS
                return MALFORMED, at
            digits += 1
            if decimals >= 0:
                decimals += 1
        elif char == _DOT and decimals < 0 and digits:
            decimals = 0
        else:
            break
        at += 1
    if at >= end or text[at] != _QUOTE or digits == 0 or decimals == 0 or decimals > DECIMALS:
        return MALFORMED, at
    for _ in range(DECIMALS - max(decimals, 0)):
        if value > _LAST_SAFE:
            return MALFORMED, at
        value *= 10
    return value, at + 1


_compiled_number = njit(cache=True, inline="always")(_number)


def _parse_levels(text: bytes, prices: Ints, qtys: Ints, count: int) -> int:
    """Append ``text``'s levels to ``prices``/``qtys`` from index ``count`` and return the new
    count, or MALFORMED, or FULL."""
    skip = _compiled_skip
    end = len(text)
    at = skip(text, 0)
    if at >= end or text[at] != _OPEN:
        return MALFORMED
    at = skip(text, at + 1)
    if at < end and text[at] == _CLOSE:
        return count if skip(text, at + 1) == end else MALFORMED
    while True:
        if at >= end or text[at] != _OPEN:
            return MALFORMED
        price, at = _compiled_number(text, skip(text, at + 1))
        at = skip(text, at)
        if price <= 0 or at >= end or text[at] != _COMMA:
            return MALFORMED
        qty, at = _compiled_number(text, skip(text, at + 1))
        at = skip(text, at)
        if qty < 0 or at >= end or text[at] != _CLOSE:
            return MALFORMED
        if count == len(prices):
            return FULL
        prices[count] = price
        qtys[count] = qty
        count += 1
        at = skip(text, at + 1)
        if at < end and text[at] == _COMMA:
            at = skip(text, at + 1)
            continue
        return count if at < end and text[at] == _CLOSE and skip(text, at + 1) == end else MALFORMED


parse_levels: Callable[[RawLevels | bytes, Ints, Ints, int], int] = njit(cache=True)(_parse_levels)


def _parse_event(
    bids: bytes,
    asks: bytes,
    bid_prices: Ints,
    bid_qtys: Ints,
    bid_count: int,
    ask_prices: Ints,
    ask_qtys: Ints,
    ask_count: int,
) -> tuple[int, int]:
    """``parse_levels`` of both sides of an event in one call (a call from Python costs about
    as much as parsing a side)."""
    bid_end = parse_levels(bids, bid_prices, bid_qtys, bid_count)
    if bid_end < 0:
        return bid_end, ask_count
    return bid_end, parse_levels(asks, ask_prices, ask_qtys, ask_count)


parse_event: Callable[..., tuple[int, int]] = njit(cache=True)(_parse_event)
