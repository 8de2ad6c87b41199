"""The end-to-end benchmark's exchange: a pre-generated tape served at real time on 127.0.0.1.

It speaks what the recorder uses of Binance, like ``recorder.simulator``: ``/api/v3/exchangeInfo``,
``/api/v3/depth`` with the ``X-MBX-USED-WEIGHT-1M`` header, and ``/stream?streams=...`` combined
streams with server pings. The frames were made beforehand (``bench/tape.py``), so at 15,000
events/s the feed costs a few percent of a core: the recorder is what is measured. Tick k is sent
at ``t0 + k * 100 ms`` (``t0`` a whole second) with that time as every event's ``E``; a late tick
is sent late, never skipped (update ids stay contiguous), and counted. Frames go straight to the
socket after the aiohttp handshake; aiohttp still answers pings and sends its own.

    uv run python -m bench.feed --symbols 100 --seconds 60 [--snapshot-limit 100]

prints one JSON line once it serves (URLs, ``t0_s`` and ``end_s``, tape size, generation time),
then runs until SIGINT/SIGTERM. ``GET /bench/stats`` tells what was sent so far.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import time
import zlib
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from aiohttp import web

from bench.common import symbol_names
from bench.tape import (
    GROUPING_WS_BASE,
    TICK_MS,
    ChunkTape,
    build_tape,
    patch_event_times,
    pick_checkpoint,
)
from recorder.binance.endpoints import (
    DEPTH_PATH,
    EXCHANGE_INFO_PATH,
    WEIGHT_HEADER,
    depth_stream_name,
    depth_weight,
)
from recorder.binance.market import SPOT
from recorder.cli.common import stop_on_signals
from recorder.simulator.faults import FaultPlan
from recorder.simulator.server import binance_error, quote_asset

MAX_REQUEST_LINE = 64 * 1024
START_DELAY_S = 2
"""Between listening and the first tick: time for the recorder to start and subscribe."""


@dataclass(slots=True)
class FeedStats:
    sent_tick: int = -1
    frames_sent: int = 0
    bytes_sent: int = 0
    late_ticks: int = 0
    """Ticks sent more than one tick after their time."""
    max_lag_s: float = 0.0
    max_backlog_bytes: int = 0
    """The most bytes the kernel had not yet taken from a connection: the client lagging."""
    depth_requests: int = 0
    connections: int = 0


@dataclass(frozen=True, slots=True)
class _Subscriber:
    transport: asyncio.Transport
    chunks: tuple[int, ...]


class Feed:
    """Serve ``tape`` on ``host:port`` (0: a free port); depth answers hold ``limit`` levels."""

    def __init__(
        self, tape: list[ChunkTape], limit: int, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.tape = tape
        self.limit = limit
        self.host = host
        self.port = port
        self.stats = FeedStats()
        self.t0_s = 0
        self._chunk_of = {s: i for i, chunk in enumerate(tape) for s in chunk.symbols}
        self._symbol_of = {depth_stream_name(s): s for s in self._chunk_of}
        self._subscribers: list[_Subscriber] = []
        self._subscribed_tick: dict[int, int] = {}
        """Per chunk, the first tick its newest connection received."""
        self._weight_minute = 0
        self._weight_used = 0
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def ticks(self) -> int:
        return len(self.tape[0].ticks)

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def end_s(self) -> float:
        """When the last tick is due."""
        return self.t0_s + self.ticks * TICK_MS / 1000

    async def start(self) -> None:
        # The recorder keeps its URLs within Binance's 8,000 characters; other clients may not.
        app = web.Application(handler_args={"max_line_size": MAX_REQUEST_LINE})
        app.router.add_get(EXCHANGE_INFO_PATH, self._exchange_info)
        app.router.add_get(DEPTH_PATH, self._depth)
        app.router.add_get("/stream", self._stream)
        app.router.add_get("/bench/stats", self._stats)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        if len(self.ws_url) != len(GROUPING_WS_BASE):
            raise RuntimeError(f"{self.ws_url}: the tape's chunks assume a five-digit port")
        self.t0_s = math.ceil(time.time()) + START_DELAY_S
        self._ticker = asyncio.create_task(self._serve_tape())

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.wait([self._ticker])
        for subscriber in self._subscribers:
            subscriber.transport.abort()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the tape ---------------------------------------------------------------------------

    async def _serve_tape(self) -> None:
        stats = self.stats
        for tick in range(self.ticks):
            due_s = self.t0_s + tick * TICK_MS / 1000
            if (delay := due_s - time.time()) > 0:
                await asyncio.sleep(delay)
            event_time_ms = self.t0_s * 1000 + tick * TICK_MS
            frames: dict[int, tuple[bytearray, int]] = {}
            for c in {c for s in self._subscribers for c in s.chunks}:
                chunk = self.tape[c]
                stored = chunk.ticks[tick]
                assert stored is not None
                buffer = bytearray(zlib.decompress(stored))
                patch_event_times(buffer, chunk.event_time_at[tick], event_time_ms)
                frames[c] = buffer, len(chunk.event_time_at[tick])
            for subscriber in self._subscribers:
                transport = subscriber.transport
                if transport.is_closing():
                    continue
                for c in subscriber.chunks:
                    buffer, count = frames[c]
                    transport.write(buffer)
                    stats.frames_sent += count
                    stats.bytes_sent += len(buffer)
                backlog = transport.get_write_buffer_size()
                stats.max_backlog_bytes = max(stats.max_backlog_bytes, backlog)
            for chunk in self.tape:
                chunk.ticks[tick] = None  # sent: the memory goes back
            lag_s = time.time() - due_s
            stats.max_lag_s = max(stats.max_lag_s, lag_s)
            if lag_s > TICK_MS / 1000:
                stats.late_ticks += 1
            stats.sent_tick = tick

    # -- REST -------------------------------------------------------------------------------

    def _charge(self, weight: int) -> dict[str, str]:
        """The weight header as Binance reports it; never limits (the recorder paces itself)."""
        minute = int(time.time() // 60)
        if minute != self._weight_minute:
            self._weight_minute, self._weight_used = minute, 0
        self._weight_used += weight
        return {WEIGHT_HEADER: str(self._weight_used)}

    async def _exchange_info(self, _: web.Request) -> web.Response:
        body = {
            "timezone": "UTC",
            "serverTime": int(time.time() * 1000),
            "symbols": [
                {"symbol": s, "status": "TRADING", "quoteAsset": quote_asset(s)}
                for s in self._chunk_of
            ],
        }
        return web.Response(
            body=orjson.dumps(body),
            content_type="application/json",
            headers=self._charge(SPOT.exchange_info_weight),
        )

    async def _depth(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "")
        chunk = self._chunk_of.get(symbol)
        if chunk is None:
            return binance_error(400, -1121, "Invalid symbol.")
        if request.query.get("limit") != str(self.limit):
            return binance_error(400, -1102, f"this feed was generated for limit={self.limit} only")
        checkpoint = pick_checkpoint(
            self.tape[chunk].checkpoints[symbol],
            self.stats.sent_tick,
            self._subscribed_tick.get(chunk),
        )
        if checkpoint is None:
            return binance_error(503, -1001, "the tape has ended")
        self.stats.depth_requests += 1
        return web.Response(
            body=zlib.decompress(checkpoint.body),
            content_type="application/json",
            headers=self._charge(depth_weight(self.limit)),
        )

    async def _stats(self, request: web.Request) -> web.Response:
        """What was sent; ``?reset=1`` restarts the maxima (lag, backlog) after answering."""
        body = {**asdict(self.stats), "t0_s": self.t0_s, "end_s": self.end_s, "ticks": self.ticks}
        if request.query.get("reset"):
            self.stats.max_lag_s = 0.0
            self.stats.max_backlog_bytes = 0
        return web.json_response(body)

    # -- streams ----------------------------------------------------------------------------

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]
        unknown = [n for n in names if n not in self._symbol_of]
        if not names or unknown:
            return binance_error(400, -1121, f"Invalid stream(s): {', '.join(unknown) or '(none)'}")
        symbols = {self._symbol_of[n] for n in names}
        chunks = tuple(sorted({self._chunk_of[s] for s in symbols}))
        if sum(len(self.tape[c].symbols) for c in chunks) != len(symbols):
            size = len(self.tape[0].symbols)
            return binance_error(400, -1121, f"this feed serves whole chunks of {size} streams")
        ws = web.WebSocketResponse(heartbeat=FaultPlan().ping_interval_s, compress=False)
        await ws.prepare(request)
        assert request.transport is not None
        subscriber = _Subscriber(request.transport, chunks)
        for c in chunks:
            self._subscribed_tick[c] = self.stats.sent_tick + 1
        self._subscribers.append(subscriber)
        self.stats.connections += 1
        try:
            async for _ in ws:  # pings are answered by aiohttp; nothing else is expected
                pass
        finally:
            self._subscribers.remove(subscriber)
        return ws


async def serve(feed: Feed, info: dict[str, Any]) -> None:
    """Serve until SIGINT/SIGTERM, announcing the URLs and ``t0`` on one stdout line."""
    stop = stop_on_signals()
    await feed.start()
    try:
        urls = {"rest_url": feed.rest_url, "ws_url": feed.ws_url}
        line = {**info, **urls, "t0_s": feed.t0_s, "end_s": feed.end_s}
        print(orjson.dumps(line).decode(), flush=True)
        await stop.wait()
    finally:
        await feed.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60, help="length of the tape")
    parser.add_argument("--snapshot-limit", type=int, default=100, help="levels in depth answers")
    parser.add_argument("--workers", type=int, default=2, help="processes that make the tape")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    tape = build_tape(
        symbol_names(args.symbols), args.seconds, limit=args.snapshot_limit, workers=args.workers
    )
    info = {
        "symbols": args.symbols,
        "tape_seconds": args.seconds,
        "generation_s": round(time.perf_counter() - started, 1),
        "frames": sum(c.frames for c in tape),
        "frame_bytes": sum(c.frame_bytes for c in tape),
        "stored_bytes": sum(c.stored_bytes for c in tape),
        "changes": sum(c.changes for c in tape),
        "checkpoint_bytes": sum(c.checkpoint_bytes for c in tape),
    }
    gc.collect()
    gc.freeze()  # the tape is long-lived: keep the collector off it
    asyncio.run(serve(Feed(tape, args.snapshot_limit, port=args.port), info))


if __name__ == "__main__":
    main()
