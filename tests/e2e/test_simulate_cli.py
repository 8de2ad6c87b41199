"""``obrec simulate`` fault flags reach the server: a raw client sees each fault they switch on."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from tests.e2e.conftest import assert_one_line_error, obrec, start_simulator, stop

pytestmark = pytest.mark.e2e


def test_fault_flags_reach_the_streams_and_the_depth_answers(tmp_path: Path) -> None:
    sim = start_simulator(
        tmp_path,
        "--symbols", "BTCUSDT",
        "--ping-interval", "0.2",
        "--pong-timeout", "30",
        "--shutdown-after", "1",
        "--shutdown-grace", "0.5",
        "--stale-snapshot-rate", "1",
        "--stale-by", "0.5",
        "--rest-delay", "0.3",
        "--rest-jitter", "0.1",
    )  # fmt: skip

    async def client() -> tuple[list[Any], int | None, int, dict[str, Any], float]:
        async with aiohttp.ClientSession() as session:
            stream = f"{sim.ws_url}/stream?streams=btcusdt@depth@100ms"
            async with session.ws_connect(stream, autoping=False) as ws:
                seen: list[Any] = []
                last_u, snapshot, elapsed_s, texts = 0, {}, 0.0, 0
                async for message in ws:
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        seen.append(message.type)
                        continue
                    seen.append(orjson.loads(message.data))
                    texts += 1
                    if texts == 8:  # 0.8 s in, ask for a snapshot while the stream runs
                        last_u = seen[-1]["data"]["u"]
                        started = time.monotonic()
                        url = f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=100"
                        async with session.get(url) as response:
                            snapshot = await response.json()
                        elapsed_s = time.monotonic() - started
            return seen, ws.close_code, last_u, snapshot, elapsed_s

    try:
        seen, close_code, last_u, snapshot, elapsed_s = asyncio.run(client())
    finally:
        assert stop(sim.process)[0] == 0
    assert aiohttp.WSMsgType.PING in seen, "--ping-interval"
    assert {"e", "E"} in [set(m) for m in seen if isinstance(m, dict)], "--shutdown-after"
    assert close_code == aiohttp.WSCloseCode.GOING_AWAY, "--shutdown-grace ended it"
    assert elapsed_s >= 0.3, "--rest-delay"
    # The book of 0.5 s ago, on a stream with an event every 0.1 s: older than the last event
    # received before asking.
    assert snapshot["lastUpdateId"] < last_u, "--stale-snapshot-rate"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--stale-snapshot-rate", "1.5"], ["--stale-snapshot-rate 1.5", "between 0 and 1"]),
        (["--pong-timeout", "0"], ["--pong-timeout 0.0", "positive"]),
        (["--rest-jitter", "-1"], ["--rest-jitter -1.0", "negative"]),
        (["--weight-window", "0"], ["--weight-window"]),
    ],
)
def test_impossible_fault_flags_are_exit_2(args: list[str], words: list[str]) -> None:
    assert_one_line_error(obrec("simulate", "--port", "0", *args), 2, "bad fault option", *words)
