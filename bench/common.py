"""Realistic inputs for the benchmarks: simulator frames and the recorder's own snapshots."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path

import orjson

from recorder.binance.endpoints import depth_stream_name
from recorder.binance.market import Market as Kind
from recorder.binance.market import spec
from recorder.binance.wire import DepthUpdate, decode_depth_snapshot, decode_frame
from recorder.book.snapshot import Sample
from recorder.book.sync import SymbolSync
from recorder.simulator.market import Market
from recorder.simulator.server import spec_for
from recorder.storage.codec import encode
from recorder.storage.layout import PendingWrites
from recorder.storage.store import Store

START_MS = 1_800_000_000_000 - 1_800_000_000_000 % 86_400_000


def symbol_names(count: int, kind: Kind = Kind.SPOT) -> list[str]:
    """The benchmarks' symbols: SYM0USDT, SYM1USDT, ... (COIN-M: SYM0USD_PERP, ...); mid prices
    follow from the names."""
    suffix = "USD_PERP" if kind is Kind.COINM else "USDT"
    return [f"SYM{i}{suffix}" for i in range(count)]


def synced_books(
    names: list[str], seed: int = 11, kind: Kind = Kind.SPOT, limit: int | None = None
) -> tuple[Market, dict[str, SymbolSync]]:
    """A market and one live SymbolSync per symbol, synced from REST snapshots of ``limit``
    levels (default: the market's largest, spot 5,000, futures 1,000)."""
    market = Market([spec_for(n) for n in names], seed=seed, kind=kind)
    continuity = spec(kind).continuity
    limit = limit or spec(kind).depth_limits[-1]
    syncs = {n: SymbolSync(n, depth=20, continuity=continuity) for n in names}
    for tick in (0, 100):  # the snapshot after the first tick: bridged by its event or the next
        for event in market.step(START_MS + tick):
            update = decode_frame(orjson.dumps({"stream": "", "data": event}), START_MS + tick)
            assert isinstance(update, DepthUpdate)
            sync = syncs[event["s"]]
            sync.on_event(update)
            if not tick:
                depth = market.symbols[event["s"]].depth(limit)
                sync.on_snapshot(decode_depth_snapshot(orjson.dumps(depth)))
    return market, syncs


def frames(market: Market, seconds: int) -> list[tuple[str, int]]:
    """Combined-stream frames as the simulator sends them, with receive times."""
    out = []
    for tick in range(2, seconds * 10 + 2):
        now_ms = START_MS + tick * 100
        for event in market.step(now_ms):
            frame = {"stream": depth_stream_name(event["s"]), "data": event}
            out.append((orjson.dumps(frame).decode(), now_ms + 7))
    return out


def recorded_snapshots(
    names: list[str], seconds: int, kind: Kind = Kind.SPOT
) -> dict[str, list[Sample]]:
    """What the recorder would store for ``seconds`` of ``kind``'s market, per symbol."""
    market, syncs = synced_books(names, seed=5, kind=kind)
    out: dict[str, list[Sample]] = {n: [] for n in names}
    for raw, recv_ms in frames(market, seconds):
        event = decode_frame(raw, recv_ms)
        assert isinstance(event, DepthUpdate)
        for outcome in syncs[event.symbol].on_event(event):
            if isinstance(outcome, Sample):
                out[event.symbol].append(outcome)
    return out


DAY_S = 86_400
START_S = START_MS // 1000


def write_days(
    path: Path, days: int, distinct_hours: int, batch: int = 100, kind: Kind = Kind.SPOT
) -> tuple[int, float]:
    """Fill ``path`` with ``days`` of a BTCUSDT-like and an ETHUSDT-like symbol, compacted
    (of ``kind``'s market: COIN-M's are BTCUSD_PERP and ETHUSD_PERP).

    ``distinct_hours`` of recorded snapshots are repeated with the right timestamps (a week of
    market takes too long to generate). Returns (snapshots, seconds spent encoding + writing).
    """
    symbols = ["BTCUSD_PERP", "ETHUSD_PERP"] if kind is Kind.COINM else ["BTCUSDT", "ETHUSDT"]
    books = recorded_snapshots(symbols, distinct_hours * 3600, kind)
    period = min(len(b) for b in books.values())
    rng = random.Random(1)
    update_id = dict.fromkeys(symbols, 10**10)
    spent = 0.0
    pending = PendingWrites()
    with Store.open_writer(path, market=kind) as store:
        for offset in range(days * DAY_S):
            ts_s = START_S + offset
            for symbol in symbols:
                snap = books[symbol][offset % period]
                update_id[symbol] += rng.randint(200, 500)
                event_ms = ts_s * 1000 + snap.event_time_ms % 1000
                started = time.perf_counter()
                value = encode(
                    replace(
                        snap,
                        event_time_ms=event_ms,
                        update_id=update_id[symbol],
                        recv_time_ms=event_ms + rng.randint(3, 40),
                    )
                )
                pending.put_snapshot(symbol, ts_s, value)
                if pending.snapshots >= batch:
                    store.write(pending)
                    pending = PendingWrites()
                spent += time.perf_counter() - started
        store.write(pending)
        store.compact(recompress=True)
    return days * DAY_S * len(symbols), spent
