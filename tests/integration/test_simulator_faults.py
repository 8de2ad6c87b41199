"""The simulator's connection and REST faults, seen by a raw aiohttp client on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import orjson
import pytest

from recorder.simulator.faults import FaultPlan
from recorder.simulator.market import Market
from recorder.simulator.server import SimulatorServer, spec_for

pytestmark = pytest.mark.integration
STREAM = "/stream?streams=btcusdt@depth@100ms"
T = TypeVar("T")


def with_server(
    faults: FaultPlan,
    scenario: Callable[[SimulatorServer, aiohttp.ClientSession], Awaitable[T]],
) -> T:
    async def main() -> T:
        market = Market([spec_for("BTCUSDT", levels_per_side=1_000)], seed=3)
        async with SimulatorServer(market, faults=faults) as server, aiohttp.ClientSession() as s:
            async with asyncio.timeout(30):  # a connection that is never closed fails, not hangs
                return await scenario(server, s)

    return asyncio.run(main())


@pytest.mark.parametrize("pong", [None, b""], ids=["silent", "unsolicited-pongs"])
def test_a_client_that_does_not_echo_pings_is_closed_at_the_pong_deadline(
    pong: bytes | None,
) -> None:
    faults = FaultPlan(ping_interval_s=0.2, pong_timeout_s=0.6)

    async def scenario(server: SimulatorServer, session: aiohttp.ClientSession) -> list[Any]:
        async with session.ws_connect(server.ws_url + STREAM, autoping=False) as ws:
            seen = []
            async for message in ws:  # ends at the server's close frame
                seen.append(message.type)
                if message.type is aiohttp.WSMsgType.PING and pong is not None:
                    await ws.pong(pong)  # Binance: unsolicited pongs keep nothing alive
            assert ws.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION, "closed for the pong"
        assert server.pong_timeouts == 1
        assert server.pongs_received == 0
        return seen

    seen = with_server(faults, scenario)
    assert aiohttp.WSMsgType.TEXT in seen, "it streamed until the deadline"
    # Pings every 0.2 s and a deadline 0.6 s after the first: the close follows several pings.
    assert seen.count(aiohttp.WSMsgType.PING) >= 2


def test_a_client_that_answers_pings_is_never_closed() -> None:
    faults = FaultPlan(ping_interval_s=0.2, pong_timeout_s=0.6)

    async def scenario(server: SimulatorServer, session: aiohttp.ClientSession) -> None:
        async with session.ws_connect(server.ws_url + STREAM, autoping=True) as ws:
            async for message in ws:
                assert message.type is aiohttp.WSMsgType.TEXT
                if server.pings_sent >= 8:  # 1.6 s: well past the 0.6 s deadline
                    break
            assert not ws.closed
        assert server.pong_timeouts == 0
        assert server.pongs_received >= 7

    with_server(faults, scenario)


def test_server_shutdown_is_announced_then_streaming_goes_on_until_the_close() -> None:
    faults = FaultPlan(shutdown_after_s=0.5, shutdown_grace_s=0.5)

    async def scenario(server: SimulatorServer, session: aiohttp.ClientSession) -> list[Any]:
        opened_ms = int(time.time() * 1000)
        async with session.ws_connect(server.ws_url + STREAM) as ws:
            bodies = [orjson.loads(m.data) async for m in ws]
            assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
        notices = [b for b in bodies if b.get("e") == "serverShutdown"]
        assert len(notices) == 1
        assert notices[0].keys() == {"e", "E"}, "bare, not wrapped in stream/data"
        assert opened_ms <= notices[0]["E"] <= int(time.time() * 1000)
        assert server.shutdowns_sent == 1
        assert server.connections_closed == 1
        return bodies

    bodies = with_server(faults, scenario)
    notice = next(i for i, b in enumerate(bodies) if "stream" not in b)
    after = bodies[notice + 1 :]
    assert after, "the stream goes on during the grace period"
    assert all(b["stream"] == "btcusdt@depth@100ms" for b in after)


def live_id(server: SimulatorServer) -> int:
    return server.market.symbols["BTCUSDT"].last_update_id


async def depth(session: aiohttp.ClientSession, server: SimulatorServer) -> dict[str, Any]:
    url = f"{server.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=100"
    async with session.get(url) as response:
        assert response.status == 200
        body: dict[str, Any] = orjson.loads(await response.read())
        return body


def test_stale_snapshots_are_an_older_book_and_counted() -> None:
    faults = FaultPlan(stale_snapshot_rate=1.0, stale_by_s=1.0)

    async def scenario(server: SimulatorServer, session: aiohttp.ClientSession) -> None:
        await asyncio.sleep(1.5)  # more history than the 1 s look-back
        before = live_id(server)
        body = await depth(session, server)
        # A BTCUSDT-busy symbol has an event every 100 ms: 1 s ago is about ten events back.
        assert body["lastUpdateId"] < before
        assert len(body["bids"]) == len(body["asks"]) == 100
        assert body["bids"][0][0] < body["asks"][0][0]
        assert server.stale_snapshots == 1

    with_server(faults, scenario)


def test_slow_answers_carry_the_book_from_when_the_request_arrived() -> None:
    faults = FaultPlan(rest_delay_s=0.5)

    async def scenario(server: SimulatorServer, session: aiohttp.ClientSession) -> None:
        before = live_id(server)
        started = time.monotonic()
        body = await depth(session, server)
        assert time.monotonic() - started >= 0.5
        after = live_id(server)
        # Events kept coming during the delay; the answer is from before them.
        assert before <= body["lastUpdateId"] < after
        assert server.stale_snapshots == 0

    with_server(faults, scenario)
