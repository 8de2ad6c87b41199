"""Where everything lives in an obrec directory: keys, metadata values, and batches of writes. Pure.

The one home of the layout (docs/format.md): nothing outside ``recorder/storage/`` builds,
slices or parses a key; callers speak of symbols and seconds, and batches are built with
intent-level calls (``put_snapshot``, ``invalidate``, ``record_gap``). Snapshot *values* stay in
``codec.py``: they are the hot, versioned encoding with its own caches and property tests, while
this module is the small, stable map of where values go.

Column family ``default`` holds snapshots only, keyed ``<SYMBOL>:<unix_seconds>`` (ten digits,
so byte order is time order); ``meta`` holds the rest, each a MessagePack map: ``format``,
``gap:<SYMBOL>:<from_s>`` and ``session:<start_s>``. So a scan of ``SYMBOL:`` keys sees
snapshots only. ``format`` also names the database's one market (``spot`` when it names none:
databases written before markets existed are spot).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import ormsgpack

from recorder.binance.market import Market

FORMAT_VERSION = 1
KEY_SEPARATOR = ":"
SECONDS_DIGITS = 10
MAX_TS_S = 10**SECONDS_DIGITS - 1
"""The last second a key can hold (the year 2286): scans up to it cover a whole symbol."""

FORMAT_KEY = b"format"
GAP_PREFIX = b"gap:"
SESSION_PREFIX = b"session:"


# -- snapshot keys ------------------------------------------------------------------------------


def snapshot_key(symbol: str, ts_s: int) -> bytes:
    return f"{symbol}{KEY_SEPARATOR}{ts_s:0{SECONDS_DIGITS}d}".encode()


def clamped_key(symbol: str, ts_s: int) -> bytes:
    """The key of ``ts_s`` pulled into the seconds a key can hold (for seeks from any second)."""
    return snapshot_key(symbol, min(max(ts_s, 0), MAX_TS_S))


def end_key(symbol: str, to_s: int) -> bytes:
    """The exclusive upper bound of a scan of ``symbol`` up to ``to_s`` inclusive."""
    return snapshot_key(symbol, to_s + 1) if to_s < MAX_TS_S else symbol_end(symbol)


def symbol_prefix(symbol: str) -> bytes:
    return f"{symbol}{KEY_SEPARATOR}".encode()


def symbol_end(symbol: str) -> bytes:
    """The first key past every ``SYMBOL:`` key (``;`` follows ``:`` in ASCII)."""
    return f"{symbol};".encode()


def split_key(key: bytes) -> tuple[str, int]:
    symbol, _, seconds = key.decode().rpartition(KEY_SEPARATOR)
    return symbol, int(seconds)


def second_of(key: bytes) -> int:
    """The second of a snapshot key, without decoding its symbol (keys end in the seconds)."""
    return int(key[-SECONDS_DIGITS:])


def symbol_of(key: bytes) -> str:
    return key.partition(KEY_SEPARATOR.encode())[0].decode()


def holds_symbol(start_key: bytes, last_key: bytes, symbol: str) -> bool:
    """Whether a table file spanning ``start_key..last_key`` may hold keys of ``symbol``."""
    return start_key < symbol_end(symbol) and last_key >= symbol_prefix(symbol)


# -- metadata -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GapRecord:
    symbol: str
    from_s: int
    to_s: int
    reason: str


@dataclass(frozen=True, slots=True)
class SessionRecord:
    start_s: int
    doc: dict[str, Any]
    """What the recorder wrote: symbols, depth, start, end (None until a clean stop), URLs."""


def gap_key(symbol: str, from_s: int) -> bytes:
    return GAP_PREFIX + f"{symbol}{KEY_SEPARATOR}{from_s:0{SECONDS_DIGITS}d}".encode()


def gap_entry(symbol: str, from_s: int, to_s: int, reason: str) -> tuple[bytes, bytes]:
    """The ``meta`` key and value of a gap record (docs/format.md); ``gap_record`` reads it."""
    return gap_key(symbol, from_s), pack_doc({"to": to_s, "reason": reason})


def gap_record(key: bytes, doc: dict[str, Any]) -> GapRecord:
    symbol, from_s = split_key(key[len(GAP_PREFIX) :])
    return GapRecord(symbol, from_s, doc["to"], doc["reason"])


def session_key(start_s: int) -> bytes:
    return SESSION_PREFIX + f"{start_s:0{SECONDS_DIGITS}d}".encode()


def session_record(key: bytes, doc: dict[str, Any]) -> SessionRecord:
    return SessionRecord(int(key[len(SESSION_PREFIX) :]), doc)


def format_doc(market: Market) -> bytes:
    return pack_doc({"format_version": FORMAT_VERSION, "market": market.value})


def market_of(doc: dict[str, Any]) -> Market | None:
    """The market a ``format`` value names (spot when it names none); None if it is unknown."""
    try:
        return Market(doc.get("market", Market.SPOT.value))
    except ValueError:
        return None


def pack_doc(doc: dict[str, Any]) -> bytes:
    return ormsgpack.packb(doc)


def unpack_doc(raw: bytes) -> Any:
    return ormsgpack.unpackb(raw)


def prefix_end(prefix: bytes) -> bytes:
    """The first key past every key that starts with ``prefix``."""
    return prefix[:-1] + bytes([prefix[-1] + 1])


# -- batches ------------------------------------------------------------------------------------


@dataclass(slots=True)
class PendingWrites:
    """What the next batch writes, in the layout's terms; build it with the intent calls."""

    puts: list[tuple[bytes, bytes]] = field(default_factory=list)
    meta_puts: list[tuple[bytes, bytes]] = field(default_factory=list)
    delete_ranges: list[tuple[bytes, bytes]] = field(default_factory=list)  # [begin, end) keys
    meta_deletes: list[bytes] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.puts or self.meta_puts or self.delete_ranges or self.meta_deletes)

    def put_snapshot(self, symbol: str, ts_s: int, value: bytes) -> None:
        self.puts.append((snapshot_key(symbol, ts_s), value))

    def invalidate(self, symbol: str, from_s: int) -> None:
        """Drop ``symbol``'s queued and stored snapshots from ``from_s`` on (deletes go first)."""
        first, end = snapshot_key(symbol, from_s), symbol_end(symbol)
        self.puts = [(k, v) for k, v in self.puts if not first <= k < end]
        self.delete_ranges.append((first, end))

    def delete_before(self, symbol: str, cutoff_s: int) -> None:
        """Delete ``symbol``'s snapshots before ``cutoff_s``."""
        self.delete_ranges.append((snapshot_key(symbol, 0), snapshot_key(symbol, cutoff_s)))

    def record_gap(self, gap: GapRecord) -> None:
        self.meta_puts.append(gap_entry(gap.symbol, gap.from_s, gap.to_s, gap.reason))

    def delete_gap(self, gap: GapRecord) -> None:
        self.meta_deletes.append(gap_key(gap.symbol, gap.from_s))

    def put_session(self, start_s: int, doc: dict[str, Any]) -> None:
        self.meta_puts.append((session_key(start_s), pack_doc(doc)))

    def delete_session(self, start_s: int) -> None:
        self.meta_deletes.append(session_key(start_s))

    @property
    def snapshots(self) -> int:
        return len(self.puts)

    def snapshot_seconds(self) -> Iterator[int]:
        """The second of every queued snapshot, in queue order."""
        for key, _ in self.puts:
            yield second_of(key)
