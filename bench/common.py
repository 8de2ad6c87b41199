"""Realistic inputs for the benchmarks: simulator frames and the recorder's own snapshots."""

from __future__ import annotations

import orjson

from recorder.binance.endpoints import depth_stream_name
from recorder.binance.wire import DepthSnapshot, DepthUpdate, decode_frame
from recorder.book.sync import Snapshot, SymbolSync
from recorder.simulator.market import Market
from recorder.simulator.server import spec_for

START_MS = 1_800_000_000_000 - 1_800_000_000_000 % 86_400_000


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
        sync.on_snapshot(DepthSnapshot(depth["lastUpdateId"], depth["bids"], depth["asks"]))
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
