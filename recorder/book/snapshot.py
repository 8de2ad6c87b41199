"""What is stored for one second of one symbol: the recorder's sample and the readers' record.

Kept apart from the book so that the read side (``query``, ``export``, the Python API) loads
without numpy and numba, which only the recorder's book needs.
"""

from __future__ import annotations

from dataclasses import dataclass

Level = tuple[str, str]
"""A (price, quantity) pair of exact decimal strings."""

DECIMALS = 8
"""The book holds every price and quantity as an integer count of ``10**-DECIMALS``: Binance's
own fixed point (docs/architecture.md, "The book and its numbers")."""


@dataclass(frozen=True, slots=True)
class Sample:
    """The final book of second ``ts_s`` as the recorder holds it: best levels first, prices and
    quantities in counts of ``10**-DECIMALS``, exactly the exchange's numbers. Kept as integers
    to the encoder, which stores them as such: no text is made on the way."""

    symbol: str
    ts_s: int
    event_time_ms: int
    update_id: int
    recv_time_ms: int
    bid_prices: list[int]
    bid_qtys: list[int]
    ask_prices: list[int]
    ask_qtys: list[int]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The final book of second ``ts_s``: best levels first on both sides."""

    symbol: str
    ts_s: int
    event_time_ms: int
    update_id: int
    recv_time_ms: int
    bids: list[Level]
    asks: list[Level]
