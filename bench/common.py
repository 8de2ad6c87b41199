"""Realistic inputs for the benchmarks: simulator frames and the recorder's own snapshots."""

from __future__ import annotations

import random
import time
from pathlib import Path

import orjson

from recorder.binance.endpoints import depth_stream_name
from recorder.binance.wire import DepthUpdate, decode_depth_snapshot, decode_frame
from recorder.book.snapshot import Snapshot
from recorder.book.sync import SymbolSync
from recorder.simulator.market import Market
from recorder.simulator.server import spec_for
from recorder.storage.codec import Encoder
from recorder.storage.layout import PendingWrites
from recorder.storage.store import Store

START_MS = 1_800_000_000_000 - 1_800_000_000_000 % 86_400_000


def symbol_names(count: int) -> list[str]:
    """The benchmarks' symbols: SYM0USDT, SYM1USDT, ... (mid prices follow from the names)."""
    return [f"SYM{i}USDT" for i in range(count)]


def synced_books(names: list[str], seed: int = 11) -> tuple[Market, dict[str, SymbolSync]]:
    """A market and one live SymbolSync per symbol, synced from 5,000-level REST snapshots."""
    market = Market([spec_for(n) for n in names], seed=seed)
    syncs = {n: SymbolSync(n, depth=20) for n in names}
    depths = {n: market.symbols[n].depth(5000) for n in names}
    for event in market.step(START_MS):
        update = decode_frame(orjson.dumps({"stream": "", "data": event}), START_MS)
        assert isinstance(update, DepthUpdate)
        sync = syncs[event["s"]]
        sync.on_event(update)
        depth = depths[event["s"]]
        sync.on_snapshot(decode_depth_snapshot(depth))
    return market, syncs


def frames(market: Market, seconds: int) -> list[tuple[str, int]]:
    """Combined-stream frames as the simulator sends them, with receive times."""
    out = []
    for tick in range(1, seconds * 10 + 1):
        now_ms = START_MS + tick * 100
        for event in market.step(now_ms):
            frame = {"stream": depth_stream_name(event["s"]), "data": event}
            out.append((orjson.dumps(frame).decode(), now_ms + 7))
    return out


def recorded_snapshots(names: list[str], seconds: int) -> dict[str, list[Snapshot]]:
    """What the recorder would store for ``seconds`` of market, per symbol."""
    market, syncs = synced_books(names, seed=5)
    out: dict[str, list[Snapshot]] = {n: [] for n in names}
    for raw, recv_ms in frames(market, seconds):
        event = decode_frame(raw, recv_ms)
        assert isinstance(event, DepthUpdate)
        for outcome in syncs[event.symbol].on_event(event):
            if isinstance(outcome, Snapshot):
                out[event.symbol].append(outcome)
    return out


DAY_S = 86_400
START_S = START_MS // 1000


def write_days(path: Path, days: int, distinct_hours: int, batch: int = 100) -> tuple[int, float]:
    """Fill ``path`` with ``days`` of a BTCUSDT-like and an ETHUSDT-like symbol, compacted.

    ``distinct_hours`` of recorded snapshots are repeated with the right timestamps (a week of
    market takes too long to generate). Returns (snapshots, seconds spent encoding + writing).
    """
    symbols = ["BTCUSDT", "ETHUSDT"]
    books = recorded_snapshots(symbols, distinct_hours * 3600)
    period = min(len(b) for b in books.values())
    rng = random.Random(1)
    encoder = Encoder()
    update_id = dict.fromkeys(symbols, 10**10)
    spent = 0.0
    pending = PendingWrites()
    with Store.open_writer(path) as store:
        for offset in range(days * DAY_S):
            ts_s = START_S + offset
            for symbol in symbols:
                snap = books[symbol][offset % period]
                update_id[symbol] += rng.randint(200, 500)
                event_ms = ts_s * 1000 + snap.event_time_ms % 1000
                started = time.perf_counter()
                value = encoder.encode(
                    event_ms, update_id[symbol], event_ms + rng.randint(3, 40), snap.bids, snap.asks
                )
                pending.put_snapshot(symbol, ts_s, value)
                if pending.snapshots >= batch:
                    store.write(pending)
                    pending = PendingWrites()
                spent += time.perf_counter() - started
        store.write(pending)
        store.compact(recompress=True)
    return days * DAY_S * len(symbols), spent
