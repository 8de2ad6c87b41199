"""Databases for the lake tests: a few hours of made-up snapshots and gaps, written through the
store as the recorder writes them, with a closed session so every stored hour is final."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from recorder.binance.market import Market
from recorder.storage.layout import GapRecord, PendingWrites
from recorder.storage.store import Store
from tests.helpers import encoded

HOUR0 = 1_767_268_800  # 2026-01-01T12:00:00Z
STEP_S = 20


def book(ts_s: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    price = 97_000 + ts_s % 997
    return (
        [(f"{price}.45", "0.5"), (f"{price - 1}", "1.25"), (f"{price - 2}.1", "100")],
        [(f"{price + 1}", "0.00000001"), (f"{price + 2}.5", "3")],
    )


def make_db(
    path: Path,
    symbols: Iterable[str] = ("BTCUSDT", "ETHUSDT"),
    hours: int = 3,
    gaps: Iterable[GapRecord] = (),
    *,
    closed: bool = True,
    start_s: int = HOUR0,
    market: Market = Market.SPOT,
) -> None:
    """Snapshots every ``STEP_S`` seconds over ``hours`` hours from ``start_s`` (except inside
    ``gaps``), plus a session that ended at the last second when ``closed``."""
    gaps = list(gaps)
    end_s = start_s + hours * 3600 - 1
    pending = PendingWrites()
    symbols = tuple(symbols)
    for symbol in symbols:
        for ts_s in range(start_s, end_s + 1, STEP_S):
            if any(g.symbol == symbol and g.from_s <= ts_s <= g.to_s for g in gaps):
                continue
            bids, asks = book(ts_s)
            value = encoded(ts_s * 1000 + 250, ts_s, ts_s * 1000 + 260, bids, asks)
            pending.put_snapshot(symbol, ts_s, value)
    for gap in gaps:
        pending.record_gap(gap)
    doc = {
        "symbols": list(symbols),
        "depth": 20,
        "start": start_s,
        "end": end_s if closed else None,
    }
    pending.put_session(start_s, doc)
    with Store.open_writer(path, market=market) as store:
        store.write(pending)
