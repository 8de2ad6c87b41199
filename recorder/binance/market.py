"""Binance's three order-book markets, and everything that differs between them, in one table.

Pure. A market is a parameter, not a copy: the endpoint builders (``endpoints.py``), the weight
budget, the sync machine's continuity rule (``book/sync.py``), the store's metadata and the
simulator all look the market up here. What each value is, and the Binance page it was checked
against, is in docs/markets.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import assert_never


class Market(Enum):
    SPOT = "spot"
    USDM = "usdm"
    """USDⓈ-M futures (``fapi``/``fstream``): perpetuals and quarterlies margined in USDT/USDC."""
    COINM = "coinm"
    """COIN-M futures (``dapi``/``dstream``): contracts margined in the coin, e.g. BTCUSD_PERP."""


class Continuity(Enum):
    """How one diff event proves it follows the previous one (docs/markets.md, "Sync")."""

    CONSECUTIVE = "consecutive"
    """Spot: ``U == previous u + 1``; the first applied event has ``U <= lastUpdateId + 1 <= u``."""
    CHAINED = "chained"
    """Futures: ``pu == previous u`` (ids skip); the first has ``U <= lastUpdateId <= u``."""


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """One market's endpoints and limits, as Binance documents them (docs/markets.md)."""

    market: Market
    rest_base: str
    ws_base: str
    """Combined streams are at ``{ws_base}/stream?streams=...``."""
    depth_path: str
    exchange_info_path: str
    depth_limits: tuple[int, ...]
    depth_weights: tuple[tuple[int, int], ...]
    """(largest limit, weight), ascending."""
    weight_per_minute: int
    """The exchange's REST weight budget per IP and minute."""
    exchange_info_weight: int
    max_streams_per_connection: int
    ping_interval_s: float
    """The server pings this often ..."""
    pong_timeout_s: float
    """... and closes a connection that leaves a ping unanswered this long."""
    continuity: Continuity
    tardis_exchange: str
    """The exchange id Tardis.dev gives this market (``export --format csv``)."""
    symbol_example: str


SPOT = MarketSpec(
    market=Market.SPOT,
    rest_base="https://data-api.binance.vision",
    ws_base="wss://data-stream.binance.vision",
    depth_path="/api/v3/depth",
    exchange_info_path="/api/v3/exchangeInfo",
    depth_limits=(5, 10, 20, 50, 100, 500, 1000, 5000),
    depth_weights=((100, 5), (500, 25), (1000, 50), (5000, 250)),
    weight_per_minute=6000,
    exchange_info_weight=20,
    max_streams_per_connection=1024,
    ping_interval_s=20.0,
    pong_timeout_s=60.0,
    continuity=Continuity.CONSECUTIVE,
    tardis_exchange="binance",
    symbol_example="BTCUSDT",
)


def _futures(market: Market, api: str, host: str, ws_base: str, tardis: str) -> MarketSpec:
    """USD-M and COIN-M differ in names only: the limits, weights and pings are the same."""
    return MarketSpec(
        market=market,
        rest_base=f"https://{host}",
        ws_base=ws_base,
        depth_path=f"/{api}/v1/depth",
        exchange_info_path=f"/{api}/v1/exchangeInfo",
        depth_limits=(5, 10, 20, 50, 100, 500, 1000),
        depth_weights=((50, 2), (100, 5), (500, 10), (1000, 20)),
        weight_per_minute=2400,
        exchange_info_weight=1,
        max_streams_per_connection=1024,
        ping_interval_s=180.0,
        pong_timeout_s=600.0,
        continuity=Continuity.CHAINED,
        tardis_exchange=tardis,
        symbol_example="BTCUSD_PERP" if market is Market.COINM else "BTCUSDT",
    )


USDM = _futures(
    Market.USDM, "fapi", "fapi.binance.com", "wss://fstream.binance.com/public", "binance-futures"
)
COINM = _futures(
    Market.COINM, "dapi", "dapi.binance.com", "wss://dstream.binance.com", "binance-delivery"
)


def spec(market: Market) -> MarketSpec:
    match market:
        case Market.SPOT:
            return SPOT
        case Market.USDM:
            return USDM
        case Market.COINM:
            return COINM
        case _:
            assert_never(market)


def is_symbol(market: Market, name: str) -> bool:
    """Whether ``name`` is spelt like a symbol of ``market``: letters and digits, and for
    futures also ``_`` (``BTCUSD_PERP``, ``BTCUSDT_250627``)."""
    if not name.isascii() or not name:
        return False
    match market:
        case Market.SPOT:
            return name.isalnum()
        case Market.USDM | Market.COINM:
            return name.replace("_", "").isalnum()
        case _:
            assert_never(market)
