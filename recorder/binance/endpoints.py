"""Binance spot endpoints: pure URL builders and REST request weights.

The limits they encode are in docs/architecture.md, "Binance's rules".

Base URLs are configuration so that the same code talks to Binance, its data-only mirrors, the
testnet or the local simulator.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

import orjson

REST_BASE = "https://data-api.binance.vision"
WS_BASE = "wss://data-stream.binance.vision"

DEPTH_PATH = "/api/v3/depth"
EXCHANGE_INFO_PATH = "/api/v3/exchangeInfo"
WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
WEIGHT_BUDGET_PER_MINUTE = 6000
MAX_STREAMS_PER_CONNECTION = 1024
MAX_URL_CHARS = 8000
"""Binance refuses longer WebSocket URLs (about 8,004 characters): ~360 depth streams per URL."""
DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000, 5000)

# (largest limit, weight) in ascending order, from the spot REST API docs.
_DEPTH_WEIGHTS = ((100, 5), (500, 25), (1000, 50), (5000, 250))


def depth_weight(limit: int) -> int:
    """Request weight of ``/api/v3/depth`` at ``limit``."""
    for largest, weight in _DEPTH_WEIGHTS:
        if limit <= largest:
            return weight
    raise ValueError(f"depth limit {limit} is above Binance's maximum of 5000")


def depth_url(rest_base: str, symbol: str, limit: int) -> str:
    return f"{rest_base.rstrip('/')}{DEPTH_PATH}?{urlencode({'symbol': symbol, 'limit': limit})}"


def exchange_info_url(rest_base: str, symbols: Sequence[str] = ()) -> str:
    """exchangeInfo for ``symbols`` (all symbols when empty)."""
    url = f"{rest_base.rstrip('/')}{EXCHANGE_INFO_PATH}"
    if symbols:
        url += "?" + urlencode({"symbols": orjson.dumps(list(symbols)).decode()})
    return url


def depth_stream_name(symbol: str) -> str:
    return f"{symbol.lower()}@depth@100ms"


def combined_stream_url(ws_base: str, symbols: Sequence[str]) -> str:
    """One combined-stream URL for the 100 ms diff-depth streams of ``symbols``."""
    if len(symbols) > MAX_STREAMS_PER_CONNECTION:
        raise ValueError(
            f"{len(symbols)} streams exceed Binance's {MAX_STREAMS_PER_CONNECTION} per connection"
        )
    streams = "/".join(depth_stream_name(s) for s in symbols)
    url = f"{ws_base.rstrip('/')}/stream?streams={streams}"
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"a {len(url)}-character URL exceeds Binance's {MAX_URL_CHARS}")
    return url


def connection_groups(ws_base: str, symbols: Sequence[str]) -> list[tuple[str, ...]]:
    """``symbols`` split, in order, into as few connections as Binance's limits allow: at most
    1,024 streams and a URL of at most ``MAX_URL_CHARS`` each."""
    prefix = len(f"{ws_base.rstrip('/')}/stream?streams=")
    groups: list[tuple[str, ...]] = []
    group: list[str] = []
    length = prefix
    for symbol in symbols:
        extra = len(depth_stream_name(symbol)) + (1 if group else 0)
        if group and (length + extra > MAX_URL_CHARS or len(group) == MAX_STREAMS_PER_CONNECTION):
            groups.append(tuple(group))
            group, length, extra = [], prefix, extra - 1
        group.append(symbol)
        length += extra
    if group:
        groups.append(tuple(group))
    return groups
