"""The read side: windows of stored snapshots, over a store opened read-only.

Library first: the CLI's ``query`` (and later ``export``, ``stats``, ``prune``) are thin calls into
these functions. Every decode failure names its key; ``skip_corrupt`` carries on past it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from recorder.errors import CorruptValueError, UnknownSymbolError, UsageError
from recorder.storage.codec import MAX_TS_S, Decoder, StoredSnapshot
from recorder.storage.store import Store

log = logging.getLogger("obrec")


def check_window(from_s: int, to_s: int) -> None:
    if from_s > to_s:
        raise UsageError(f"--from ({from_s}) is after --to ({to_s}); swap them")


def check_symbol(store: Store, symbol: str) -> None:
    if next(store.scan(symbol, 0, MAX_TS_S), None) is None:
        recorded = store.symbols()
        known = ", ".join(recorded) if recorded else "none yet"
        raise UnknownSymbolError(f"{symbol} was never recorded in {store.path} (recorded: {known})")


def iter_window(
    store: Store, symbol: str, from_s: int, to_s: int, *, skip_corrupt: bool = False
) -> Iterator[StoredSnapshot]:
    """Snapshots of ``symbol`` from ``from_s`` to ``to_s`` inclusive, in time order."""
    decoder = Decoder()
    for key, value in store.scan(symbol, from_s, to_s):
        try:
            yield decoder.decode(key, value)
        except ValueError as exc:
            error = CorruptValueError(key, str(exc))
            if not skip_corrupt:
                raise error from exc
            log.warning("%s; skipped", error)


def snapshot_doc(snapshot: StoredSnapshot) -> dict[str, Any]:
    """The JSON shape scripts rely on (DESIGN §1.1): extend, never break."""
    return {
        "symbol": snapshot.symbol,
        "ts": snapshot.ts_s,
        "event_time": snapshot.event_time_ms,
        "update_id": snapshot.update_id,
        "recv_time": snapshot.recv_time_ms,
        "bids": snapshot.bids,
        "asks": snapshot.asks,
    }
