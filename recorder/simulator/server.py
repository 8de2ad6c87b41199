"""The simulated exchange served over Binance's own protocol on 127.0.0.1.

Thin: the market (``market.py``) decides what happens; this module only speaks HTTP and
WebSocket. Endpoints: ``GET /api/v3/exchangeInfo``, ``GET /api/v3/depth`` (with the
``X-MBX-USED-WEIGHT-1M`` header), and ``/stream?streams=...`` combined diff-depth streams with
server pings. A ticker steps the market every 100 ms of wall time and fans events out.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from recorder.binance.endpoints import DEPTH_LIMITS, WEIGHT_HEADER, depth_stream_name, depth_weight
from recorder.simulator.faults import FaultDice, FaultPlan
from recorder.simulator.market import Market, SymbolSpec

DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
EXCHANGE_INFO_WEIGHT = 20
PING_INTERVAL_S = 20.0
_QUOTES = ("USDT", "FDUSD", "USDC", "BTC", "ETH", "BNB")
_KNOWN_MIDS = {"BTCUSDT": 97_000.0, "ETHUSDT": 3_400.0, "SOLUSDT": 240.0}


def spec_for(symbol: str, activity: float = 1.0, levels_per_side: int = 5_000) -> SymbolSpec:
    """A stable, plausible spec for any symbol name (the mid price comes from the name)."""
    mid = _KNOWN_MIDS.get(symbol, 100.0 + zlib.crc32(symbol.encode()) % 50_000)
    return SymbolSpec(symbol, mid_price=mid, levels_per_side=levels_per_side, activity=activity)


def quote_asset(symbol: str) -> str:
    """The quote asset a simulated symbol's name ends in (USDT when none is recognised)."""
    return next((q for q in _QUOTES if symbol.endswith(q) and symbol != q), "USDT")


def _binance_error(status: int, code: int, msg: str) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


def _limited(status: int, retry_after_s: float) -> web.Response:
    message = "IP banned" if status == 418 else "Too many requests"
    response = _binance_error(status, -1003, f"{message}; retry after {retry_after_s:.0f} s")
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    return response


class SimulatorServer:
    """Serve ``market`` on ``host:port`` (port 0 picks a free one). Use ``async with``."""

    def __init__(
        self,
        market: Market,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tick_s: float = 0.1,
        clock: Callable[[], float] = time.time,
        faults: FaultPlan | None = None,
        seed: int = 1,
    ) -> None:
        self.market = market
        self.faults = FaultDice(faults or FaultPlan(), seed)
        self.host = host
        self.port = port
        self.tick_s = tick_s
        self._clock = clock
        self._subscribers: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._opened_at: dict[web.WebSocketResponse, tuple[float, web.Request]] = {}
        self.connections_aborted = 0
        self.connections_closed = 0
        self._weight_window = 0
        self._weight_used = 0
        self._limited_until = 0.0
        self._banned_until = 0.0
        self._violations = 0
        self.rate_limited = 0
        """429 answers given: the client exceeded the weight budget."""
        self.banned = 0
        """418 answers given: the client kept calling during a Retry-After window."""
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.frames_sent = 0

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/v3/exchangeInfo", self._exchange_info)
        app.router.add_get("/api/v3/depth", self._depth)
        app.router.add_get("/stream", self._stream)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._ticker = asyncio.create_task(self._tick_forever())

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for sockets in self._subscribers.values():
            for ws in list(sockets):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- REST -----------------------------------------------------------------------------

    def _spend(self, weight: int) -> dict[str, str] | web.Response:
        """Charge ``weight`` as Binance does: per window, 429 past the limit, 418 for calling
        on during a 429's Retry-After (one call already in flight is forgiven)."""
        plan = self.faults.plan
        now = self._clock()
        if now < self._banned_until:
            return _limited(418, self._banned_until - now)
        if now < self._limited_until:
            self._violations += 1
            if self._violations > 1:
                self._banned_until = now + plan.ban_s
                self.banned += 1
                return _limited(418, plan.ban_s)
            return _limited(429, self._limited_until - now)
        window = int(now // plan.weight_window_s)
        if window != self._weight_window:
            self._weight_window, self._weight_used = window, 0
        if self._weight_used + weight > plan.weight_limit:
            self._limited_until = (window + 1) * plan.weight_window_s
            self._violations = 0
            self.rate_limited += 1
            return _limited(429, self._limited_until - now)
        self._weight_used += weight
        return {WEIGHT_HEADER: str(self._weight_used)}

    async def _exchange_info(self, request: web.Request) -> web.Response:
        headers = self._spend(EXCHANGE_INFO_WEIGHT)
        if isinstance(headers, web.Response):
            return headers
        names = list(self.market.symbols)
        if "symbols" in request.query:
            try:
                wanted = orjson.loads(request.query["symbols"])
            except orjson.JSONDecodeError:
                return _binance_error(400, -1100, "Illegal characters found in parameter 'symbols'")
            if any(s not in self.market.symbols for s in wanted):
                return _binance_error(400, -1121, "Invalid symbol.")
            names = wanted
        body = {
            "timezone": "UTC",
            "serverTime": int(self._clock() * 1000),
            "symbols": [
                {"symbol": s, "status": "TRADING", "quoteAsset": quote_asset(s)} for s in names
            ],
        }
        return web.json_response(body, headers=headers, dumps=lambda o: orjson.dumps(o).decode())

    async def _depth(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "")
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return _binance_error(400, -1100, "Illegal characters found in parameter 'limit'")
        if limit not in DEPTH_LIMITS:
            return _binance_error(400, -1102, "Invalid limit.")
        headers = self._spend(depth_weight(limit))
        if isinstance(headers, web.Response):
            return headers
        market = self.market.symbols.get(symbol)
        if market is None:
            return _binance_error(400, -1121, "Invalid symbol.")
        body: dict[str, Any] = market.depth(limit)
        return web.Response(
            body=orjson.dumps(body), content_type="application/json", headers=headers
        )

    # -- streams ----------------------------------------------------------------------------

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]
        by_name = {depth_stream_name(s): s for s in self.market.symbols}
        unknown = [n for n in names if n not in by_name]
        if not names or unknown:
            return _binance_error(
                400, -1121, f"Invalid stream(s): {', '.join(unknown) or '(none)'}"
            )
        ws = web.WebSocketResponse(heartbeat=PING_INTERVAL_S)
        await ws.prepare(request)
        symbols = [by_name[n] for n in names]
        for symbol in symbols:
            self._subscribers[symbol].add(ws)
        self._opened_at[ws] = (self._clock(), request)
        try:
            async for _ in ws:  # clients may send control messages; we ignore them
                pass
        finally:
            for symbol in symbols:
                self._subscribers[symbol].discard(ws)
            self._opened_at.pop(ws, None)
        return ws

    async def _age_connections(self) -> None:
        """The connection-age faults: abrupt drops and close frames (Binance's 24 h limit)."""
        plan = self.faults.plan
        now = self._clock()
        for ws, (opened, request) in list(self._opened_at.items()):
            age = now - opened
            if plan.abort_after_s is not None and age >= plan.abort_after_s:
                del self._opened_at[ws]
                if request.transport is not None:
                    request.transport.abort()  # no close frame: like a dead TCP connection
                self.connections_aborted += 1
            elif plan.close_after_s is not None and age >= plan.close_after_s:
                del self._opened_at[ws]
                await ws.close()
                self.connections_closed += 1

    async def _tick_forever(self) -> None:
        while True:
            now = self._clock()
            await asyncio.sleep(self.tick_s - now % self.tick_s)
            await self._age_connections()
            for event in self.market.step(int(self._clock() * 1000)):
                symbol = event["s"]
                sockets = self._subscribers.get(symbol)
                if not sockets or self.faults.drop_event():
                    continue
                frame = orjson.dumps({"stream": depth_stream_name(symbol), "data": event}).decode()
                garbage = self.faults.malformed_frame()
                for ws in list(sockets):
                    if not ws.closed:
                        try:
                            await ws.send_str(frame)
                            if garbage is not None:
                                await ws.send_str(garbage)
                        except ConnectionResetError:
                            continue  # the client went away mid-send
                        self.frames_sent += 1
