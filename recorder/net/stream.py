"""One combined-stream WebSocket connection: connect, yield raw frames with receive times.

The only aiohttp WebSocket client code. It never touches a book: frames go to the caller, who
decodes them. Connection failures become ``ExchangeError``; a clean or abrupt close simply ends
the iteration, and the caller decides about reconnecting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp

from recorder.errors import ExchangeError

HEARTBEAT_S = 10.0
"""We ping too: a half-open TCP connection is noticed within ~1.5 heartbeats."""


async def frames(
    session: aiohttp.ClientSession, url: str, now_ms: Callable[[], int]
) -> AsyncIterator[tuple[str, int]]:
    """Yield ``(text frame, receive time in ms)`` until the connection closes."""
    try:
        ws = await session.ws_connect(
            url, heartbeat=HEARTBEAT_S, autoping=True, max_msg_size=16 * 1024 * 1024
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ExchangeError(
            f"cannot open {url.split('?', 1)[0]}: {exc or type(exc).__name__}"
        ) from exc
    async with ws:
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                yield message.data, now_ms()
            elif message.type is aiohttp.WSMsgType.BINARY:
                yield message.data.decode(errors="replace"), now_ms()
            else:  # CLOSE / ERROR: the iteration ends and the caller reconnects
                break
