"""The simulated exchange served over Binance's own protocol on 127.0.0.1.

Thin: the market (``market.py``) decides what happens; this module only speaks HTTP and
WebSocket. Endpoints, at the paths of the market it simulates (spot ``/api/v3``, USD-M
``/fapi/v1``, COIN-M ``/dapi/v1``): ``exchangeInfo``, ``depth`` (with the ``X-MBX-USED-WEIGHT-1M``
header and the market's weights), and ``/stream?streams=...`` combined diff-depth streams with
server pings. A ticker steps the market every 100 ms of wall time, fans events out, and does what
each connection's ``ConnectionLife`` says is due (pings, pong deadlines, shutdown notices, closes).
A depth answer is the book when the request arrived, even when the fault plan sends it late.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any, assert_never

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from recorder.binance.endpoints import WEIGHT_HEADER, depth_stream_name, depth_weight
from recorder.binance.market import Market as Kind
from recorder.binance.market import spec as market_spec
from recorder.simulator.connection import ENDINGS, Act, ConnectionLife
from recorder.simulator.faults import FaultDice, FaultPlan
from recorder.simulator.market import Market, SymbolSpec

DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
COINM_SYMBOLS = ("BTCUSD_PERP", "ETHUSD_PERP", "SOLUSD_PERP")
DELIVERED_SUFFIX = "_240329"
"""Futures exchangeInfo also lists a delivered (non-trading) quarterly of each pair, as Binance's
does: ``BTCUSD_240329``."""
_QUOTES = ("USDT", "FDUSD", "USDC", "BTC", "ETH", "BNB")
_KNOWN_MIDS = {"BTCUSDT": 97_000.0, "ETHUSDT": 3_400.0, "SOLUSDT": 240.0}


def default_symbols(kind: Kind) -> tuple[str, ...]:
    return COINM_SYMBOLS if kind is Kind.COINM else DEFAULT_SYMBOLS


def spec_for(
    symbol: str,
    activity: float = 1.0,
    levels_per_side: int = 5_000,
    *,
    long_quantities: bool = False,
) -> SymbolSpec:
    """A stable, plausible spec for any symbol name (the mid price comes from the name; a
    COIN-M contract's from its pair's, BTCUSD_PERP like BTCUSDT)."""
    base = symbol.partition("_")[0]
    base = base + "T" if base.endswith("USD") else base
    mid = _KNOWN_MIDS.get(base, 100.0 + zlib.crc32(symbol.encode()) % 50_000)
    return SymbolSpec(
        symbol,
        mid_price=mid,
        levels_per_side=levels_per_side,
        activity=activity,
        long_quantities=long_quantities,
    )


def quote_asset(symbol: str) -> str:
    """The quote asset a simulated symbol's name ends in (USDT when none is recognised)."""
    return next((q for q in _QUOTES if symbol.endswith(q) and symbol != q), "USDT")


def binance_error(status: int, code: int, msg: str) -> web.Response:
    """An error answer as Binance writes them (the bench feed answers the same way)."""
    return web.json_response({"code": code, "msg": msg}, status=status)


def _limited(status: int, retry_after_s: float) -> web.Response:
    message = "IP banned" if status == 418 else "Too many requests"
    response = binance_error(status, -1003, f"{message}; retry after {retry_after_s:.0f} s")
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
        self.kind = market.kind
        self._spec = market_spec(market.kind)
        self.faults = FaultDice(faults or FaultPlan.for_market(market.kind), seed)
        if self.faults.plan.stale_snapshot_rate:
            market.remember(int(self.faults.plan.stale_by_s * 1000))
        self.host = host
        self.port = port
        self.tick_s = tick_s
        self._clock = clock
        self._subscribers: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._connections: dict[web.WebSocketResponse, tuple[ConnectionLife, web.Request]] = {}
        self.connections_aborted = 0
        self.connections_closed = 0
        """Closed with a close frame at an age: ``close_after_s`` or a shutdown's end."""
        self.pings_sent = 0
        self.pongs_received = 0
        """Pongs that answered a ping (unsolicited ones are not counted)."""
        self.pong_timeouts = 0
        """Connections closed because a ping went unanswered: the client broke Binance's rule."""
        self.shutdowns_sent = 0
        """``serverShutdown`` events sent."""
        self.stale_snapshots = 0
        """Depth answers older than the book (a lower ``lastUpdateId`` than the live one)."""
        self.depth_weight = 0
        """Request weight charged for depth answers: the exchange's side of a client's count."""
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
        app.router.add_get(self._spec.exchange_info_path, self._exchange_info)
        app.router.add_get(self._spec.depth_path, self._depth)
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
        headers = self._spend(self._spec.exchange_info_weight)
        if isinstance(headers, web.Response):
            return headers
        names = list(self.market.symbols)
        if "symbols" in request.query:
            try:
                wanted = orjson.loads(request.query["symbols"])
            except orjson.JSONDecodeError:
                return binance_error(400, -1100, "Illegal characters found in parameter 'symbols'")
            if any(s not in self.market.symbols for s in wanted):
                return binance_error(400, -1121, "Invalid symbol.")
            names = wanted
        entries = [self._listing(s, "TRADING") for s in names]
        if self.kind is not Kind.SPOT and "symbols" not in request.query:
            pairs = dict.fromkeys(s.partition("_")[0] for s in names)
            entries += [self._listing(p + DELIVERED_SUFFIX, "DELIVERED") for p in pairs]
        body = {"timezone": "UTC", "serverTime": int(self._clock() * 1000), "symbols": entries}
        return web.json_response(body, headers=headers, dumps=lambda o: orjson.dumps(o).decode())

    def _listing(self, symbol: str, status: str) -> dict[str, Any]:
        """One exchangeInfo entry, with the fields the market's own has for it."""
        match self.kind:
            case Kind.SPOT:
                return {"symbol": symbol, "status": status, "quoteAsset": quote_asset(symbol)}
            case Kind.USDM:
                return {
                    "symbol": symbol,
                    "pair": symbol.partition("_")[0],
                    "contractType": "PERPETUAL" if "_" not in symbol else "CURRENT_QUARTER",
                    "status": status,
                    "quoteAsset": quote_asset(symbol.partition("_")[0]),
                }
            case Kind.COINM:
                pair = symbol.partition("_")[0]
                return {
                    "symbol": symbol,
                    "pair": pair,
                    "contractType": "PERPETUAL" if symbol.endswith("_PERP") else "CURRENT_QUARTER",
                    "contractStatus": status,
                    "quoteAsset": "USD",
                    "marginAsset": pair.removesuffix("USD"),
                }
            case _:
                assert_never(self.kind)

    async def _depth(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "")
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return binance_error(400, -1100, "Illegal characters found in parameter 'limit'")
        if limit not in self._spec.depth_limits:
            return binance_error(400, -1102, "Invalid limit.")
        weight = depth_weight(limit, self.kind)
        headers = self._spend(weight)
        if isinstance(headers, web.Response):
            return headers
        self.depth_weight += weight
        market = self.market.symbols.get(symbol)
        if market is None:
            return binance_error(400, -1121, "Invalid symbol.")
        if self.faults.stale_snapshot():
            stale_ms = int((self._clock() - self.faults.plan.stale_by_s) * 1000)
            body: dict[str, Any] = market.depth(limit, as_of_ms=stale_ms)
            if body["lastUpdateId"] < market.last_update_id:
                self.stale_snapshots += 1
        else:
            body = market.depth(limit)
        encoded = orjson.dumps(body)  # the book as the request found it, however late it leaves
        if (delay_s := self.faults.rest_delay_s()) > 0:
            await asyncio.sleep(delay_s)
        return web.Response(body=encoded, content_type="application/json", headers=headers)

    # -- streams ----------------------------------------------------------------------------

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]
        by_name = {depth_stream_name(s): s for s in self.market.symbols}
        unknown = [n for n in names if n not in by_name]
        if not names or unknown:
            return binance_error(400, -1121, f"Invalid stream(s): {', '.join(unknown) or '(none)'}")
        ws = web.WebSocketResponse(autoping=False)  # pings and pongs: see connection.py
        await ws.prepare(request)
        symbols = [by_name[n] for n in names]
        for symbol in symbols:
            self._subscribers[symbol].add(ws)
        life = ConnectionLife(self.faults.plan, self._clock())
        self._connections[ws] = (life, request)
        try:
            async for message in ws:  # other client messages (SUBSCRIBE, ...) are ignored
                if message.type is WSMsgType.PING:
                    with contextlib.suppress(ConnectionResetError):
                        await ws.pong(message.data)
                elif message.type is WSMsgType.PONG and life.pong(bytes(message.data)):
                    self.pongs_received += 1
        finally:
            for symbol in symbols:
                self._subscribers[symbol].discard(ws)
            self._connections.pop(ws, None)
        return ws

    async def _tend_connections(self) -> None:
        """Do what each connection's life says is due now."""
        now = self._clock()
        for ws, (life, request) in list(self._connections.items()):
            try:
                while (act := life.due(now)) is not None:
                    await self._act(ws, life, request, act, now)
                    if act in ENDINGS:
                        self._connections.pop(ws, None)  # unless its handler was quicker
                        break
            except ConnectionResetError:
                continue  # the client went away; its handler forgets the connection

    async def _act(
        self,
        ws: web.WebSocketResponse,
        life: ConnectionLife,
        request: web.Request,
        act: Act,
        now: float,
    ) -> None:
        match act:
            case Act.PING:
                await ws.ping(life.ping_payload)
                self.pings_sent += 1
            case Act.ANNOUNCE_SHUTDOWN:
                notice = {"e": "serverShutdown", "E": int(now * 1000)}  # bare, not in stream/data
                await ws.send_str(orjson.dumps(notice).decode())
                self.shutdowns_sent += 1
            case Act.SHUT_DOWN:
                await ws.close(code=WSCloseCode.GOING_AWAY)
                self.connections_closed += 1
            case Act.PONG_TIMEOUT:
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"pong timeout")
                self.pong_timeouts += 1
            case Act.CLOSE:
                await ws.close()
                self.connections_closed += 1
            case Act.ABORT:
                if request.transport is not None:
                    request.transport.abort()  # no close frame: like a dead TCP connection
                self.connections_aborted += 1

    async def _tick_forever(self) -> None:
        while True:
            now = self._clock()
            await asyncio.sleep(self.tick_s - now % self.tick_s)
            await self._tend_connections()
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
