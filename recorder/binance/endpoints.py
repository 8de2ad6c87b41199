"""Binance endpoints of every market: pure URL builders and REST request weights.

Each builder takes the market (spot unless told); the paths, limits and weights come from the
one table in ``market.py`` (docs/markets.md has their sources). The spot constants below are that
table's spot row, kept for the callers that only ever speak spot.

Base URLs are configuration so that the same code talks to Binance, its data-only mirrors, the
testnet or the local simulator.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

import orjson

from recorder.binance.market import SPOT, Market, spec

REST_BASE = SPOT.rest_base
WS_BASE = SPOT.ws_base

DEPTH_PATH = SPOT.depth_path
EXCHANGE_INFO_PATH = SPOT.exchange_info_path
WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
WEIGHT_BUDGET_PER_MINUTE = SPOT.weight_per_minute
MAX_STREAMS_PER_CONNECTION = SPOT.max_streams_per_connection
MAX_URL_CHARS = 8000
"""Binance refuses longer WebSocket URLs (about 8,004 characters): ~360 depth streams per URL."""
DEPTH_LIMITS = SPOT.depth_limits


def depth_weight(limit: int, market: Market = Market.SPOT) -> int:
    """Request weight of the market's depth endpoint at ``limit``."""
    weights = spec(market).depth_weights
    for largest, weight in weights:
        if limit <= largest:
            return weight
    raise ValueError(f"depth limit {limit} is above Binance's maximum of {weights[-1][0]}")


def depth_url(rest_base: str, symbol: str, limit: int, market: Market = Market.SPOT) -> str:
    query = urlencode({"symbol": symbol, "limit": limit})
    return f"{rest_base.rstrip('/')}{spec(market).depth_path}?{query}"


def exchange_info_url(
    rest_base: str, symbols: Sequence[str] = (), market: Market = Market.SPOT
) -> str:
    """exchangeInfo for ``symbols`` (all symbols when empty; spot only takes a list)."""
    url = f"{rest_base.rstrip('/')}{spec(market).exchange_info_path}"
    if symbols:
        url += "?" + urlencode({"symbols": orjson.dumps(list(symbols)).decode()})
    return url


def depth_stream_name(symbol: str) -> str:
    return f"{symbol.lower()}@depth@100ms"


def combined_stream_url(ws_base: str, symbols: Sequence[str], market: Market = Market.SPOT) -> str:
    """One combined-stream URL for the 100 ms diff-depth streams of ``symbols``."""
    most = spec(market).max_streams_per_connection
    if len(symbols) > most:
        raise ValueError(f"{len(symbols)} streams exceed Binance's {most} per connection")
    streams = "/".join(depth_stream_name(s) for s in symbols)
    url = f"{ws_base.rstrip('/')}/stream?streams={streams}"
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"a {len(url)}-character URL exceeds Binance's {MAX_URL_CHARS}")
    return url


def connection_groups(
    ws_base: str, symbols: Sequence[str], market: Market = Market.SPOT
) -> list[tuple[str, ...]]:
    """``symbols`` split, in order, into as few connections as Binance's limits allow: at most
    the market's streams per connection (1,024) and a URL of at most ``MAX_URL_CHARS`` each."""
    most = spec(market).max_streams_per_connection
    prefix = len(f"{ws_base.rstrip('/')}/stream?streams=")
    groups: list[tuple[str, ...]] = []
    group: list[str] = []
    length = prefix
    for symbol in symbols:
        extra = len(depth_stream_name(symbol)) + (1 if group else 0)
        if group and (length + extra > MAX_URL_CHARS or len(group) == most):
            groups.append(tuple(group))
            group, length, extra = [], prefix, extra - 1
        group.append(symbol)
        length += extra
    if group:
        groups.append(tuple(group))
    return groups
