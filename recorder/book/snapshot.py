"""What is stored for one second of one symbol: the recorder's output and the readers' record.

Kept apart from the book so that the read side (``query``, ``export``, the Python API) loads
without numpy, which only the recorder's book needs.
"""

from __future__ import annotations

from dataclasses import dataclass

Level = tuple[str, str]
"""A (price, quantity) pair of exact decimal strings."""


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
