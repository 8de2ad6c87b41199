"""The end-to-end benchmark's feed is a faithful exchange: the real recorder, fed from a
pre-generated tape over loopback WebSockets, syncs from its depth answers and stores exactly the
simulator's books (bench/feed.py)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from bench import tape
from bench.common import symbol_names
from bench.feed import Feed
from recorder.app import Recorder
from recorder.binance.endpoints import combined_stream_url
from recorder.config import RecordConfig
from recorder.read import Database
from tests.helpers import Levels, mismatches

pytestmark = pytest.mark.integration
TAPE_S = 30
"""Seconds of tape: 4 stored seconds take about 5 on an idle machine; the rest is patience."""


async def record_from_feed(db: Path, feed: Feed, stored: int) -> Recorder:
    """Record until every symbol stored ``stored`` seconds, however slow the machine, as long
    as the tape lasts."""
    await feed.start()
    try:
        recorder = Recorder(
            RecordConfig(
                tuple(s for chunk in feed.tape for s in chunk.symbols),
                db,
                snapshot_limit=feed.limit,
                rest_url=feed.rest_url,
                ws_url=feed.ws_url,
                grace_ms=300,
            )
        )
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as group:
            group.create_task(recorder.run(stop))
            tape_end_s = feed.t0_s + TAPE_S - 1
            while any(recorder.stats.get(s) is None or recorder.stats[s].snapshots < stored
                      for s in recorder.config.symbols):  # fmt: skip
                assert time.time() < tape_end_s, "the tape ran out before every symbol stored"
                await asyncio.sleep(0.1)
            stop.set()
            async with aiohttp.ClientSession() as session:
                # A connection must take whole chunks: the feed refuses half of one.
                url = combined_stream_url(feed.ws_url, feed.tape[0].symbols[:1])
                with pytest.raises(aiohttp.WSServerHandshakeError):
                    await session.ws_connect(url)
    finally:
        await feed.close()
    return recorder


def test_recorder_stores_the_tapes_true_books(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tape, "CHUNK_STREAMS", 2)  # 5 symbols: three chunks on one connection
    symbols = symbol_names(5)
    chunks = tape.build_tape(symbols, TAPE_S, limit=100, workers=1, truth_depth=20)
    feed = Feed(chunks, limit=100)
    recorder = asyncio.run(record_from_feed(tmp_path / "db", feed, stored=4))

    shift_s = feed.t0_s - tape.GEN_BASE_MS // 1000  # generated seconds -> served seconds
    truth: dict[tuple[str, int], tuple[Levels, Levels]] = {
        (symbol, ts_s + shift_s): book
        for chunk in chunks
        for symbol, books in chunk.truth.items()
        for ts_s, book in books.items()
    }
    with Database.open(tmp_path / "db") as database:
        stored = [
            (s.symbol, s.ts_s, s.bids, s.asks) for n in symbols for s in database.snapshots(n)
        ]
    assert mismatches(stored, truth) == []
    for symbol in symbols:
        seconds = [ts for name, ts, _, _ in stored if name == symbol]
        assert len(seconds) >= 4
        assert seconds == list(range(seconds[0], seconds[-1] + 1))
        assert recorder.stats[symbol].gaps <= 1  # at most the start-up gap
    assert feed.stats.depth_requests == len(symbols)
    assert feed.stats.connections == 1
    # Every frame received was sent by the feed (a last tick may go out as the recorder stops).
    assert 0 < sum(recorder.stats[s].events for s in symbols) <= feed.stats.frames_sent
