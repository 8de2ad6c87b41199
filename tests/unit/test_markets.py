"""The market table (``recorder.binance.market``) and what each market changes on the wire:
endpoints, weights, futures fields, exchangeInfo. Every figure is the one docs/markets.md cites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from recorder.binance.endpoints import (
    combined_stream_url,
    connection_groups,
    depth_url,
    depth_weight,
    exchange_info_url,
)
from recorder.binance.market import Continuity, Market, is_symbol, spec
from recorder.binance.wire import NO_PREVIOUS_ID, DepthUpdate, decode_frame, decode_trading_symbols
from recorder.book.orderbook import OrderBook
from recorder.config import RecordConfig, parse_symbols
from recorder.errors import UsageError

# market: (REST base, WS base, depth URL path, exchangeInfo path, weight per minute, Tardis id)
DEFAULTS = {
    Market.SPOT: (
        "https://data-api.binance.vision",
        "wss://data-stream.binance.vision",
        "/api/v3/depth",
        "/api/v3/exchangeInfo",
        6000,
        "binance",
    ),
    Market.USDM: (
        "https://fapi.binance.com",
        "wss://fstream.binance.com/public",
        "/fapi/v1/depth",
        "/fapi/v1/exchangeInfo",
        2400,
        "binance-futures",
    ),
    Market.COINM: (
        "https://dapi.binance.com",
        "wss://dstream.binance.com",
        "/dapi/v1/depth",
        "/dapi/v1/exchangeInfo",
        2400,
        "binance-delivery",
    ),
}


@pytest.mark.parametrize("market", list(Market))
def test_every_market_has_binances_endpoints_and_limits(market: Market) -> None:
    rest, ws, depth_path, info_path, per_minute, tardis = DEFAULTS[market]
    row = spec(market)
    assert row.market is market
    assert (row.rest_base, row.ws_base, row.weight_per_minute, row.tardis_exchange) == (
        rest,
        ws,
        per_minute,
        tardis,
    )
    assert depth_url(rest, "X", 500, market) == f"{rest}{depth_path}?symbol=X&limit=500"
    assert exchange_info_url(rest + "/", market=market) == f"{rest}{info_path}"
    url = combined_stream_url(ws, ["BTCUSD_PERP", "ETHUSDT"], market)
    assert url == f"{ws}/stream?streams=btcusd_perp@depth@100ms/ethusdt@depth@100ms"
    assert row.max_streams_per_connection == 1024


def test_continuity_rule_per_market() -> None:
    assert spec(Market.SPOT).continuity is Continuity.CONSECUTIVE
    assert spec(Market.USDM).continuity is Continuity.CHAINED
    assert spec(Market.COINM).continuity is Continuity.CHAINED


@pytest.mark.parametrize(
    ("market", "ping_s", "pong_s"),
    [(Market.SPOT, 20.0, 60.0), (Market.USDM, 180.0, 600.0), (Market.COINM, 180.0, 600.0)],
)
def test_ping_interval_and_pong_timeout(market: Market, ping_s: float, pong_s: float) -> None:
    assert (spec(market).ping_interval_s, spec(market).pong_timeout_s) == (ping_s, pong_s)


@pytest.mark.parametrize("market", [Market.USDM, Market.COINM])
@pytest.mark.parametrize(
    ("limit", "weight"),
    [(5, 2), (10, 2), (20, 2), (50, 2), (100, 5), (500, 10), (1000, 20)],
)
def test_futures_depth_weights(market: Market, limit: int, weight: int) -> None:
    assert depth_weight(limit, market) == weight
    assert limit in spec(market).depth_limits


@pytest.mark.parametrize("market", [Market.USDM, Market.COINM])
def test_futures_depth_stops_at_1000(market: Market) -> None:
    assert 5000 not in spec(market).depth_limits
    with pytest.raises(ValueError, match="1000"):
        depth_weight(5000, market)


def test_connection_groups_follow_the_markets_stream_limit() -> None:
    symbols = [f"S{i}" for i in range(3000)]
    for market in Market:
        groups = connection_groups("ws://h", symbols, market)
        assert [s for g in groups for s in g] == symbols
        assert all(len(g) <= spec(market).max_streams_per_connection for g in groups)


@pytest.mark.parametrize(
    ("market", "name", "ok"),
    [
        (Market.SPOT, "BTCUSDT", True),
        (Market.SPOT, "BTCUSD_PERP", False),
        (Market.USDM, "BTCUSDT_250627", True),
        (Market.COINM, "BTCUSD_PERP", True),
        (Market.COINM, "BTC-USD", False),
        (Market.COINM, "", False),
    ],
)
def test_symbol_spelling_per_market(market: Market, name: str, ok: bool) -> None:
    assert is_symbol(market, name) is ok


# -- futures wire -------------------------------------------------------------------------------

USDM_EVENT = {
    "e": "depthUpdate",
    "E": 1737158400123,
    "T": 1737158400119,
    "s": "BTCUSDT",
    "U": 157,
    "u": 160,
    "pu": 149,
    "b": [["97123.4", "1.500"]],
    "a": [["97123.5", "0.000"]],
}
COINM_EVENT = {**USDM_EVENT, "s": "BTCUSD_PERP", "ps": "BTCUSD", "b": [["97123.4", "12"]]}


def _decode(data: dict[str, Any], stream: str) -> DepthUpdate:
    update = decode_frame(orjson.dumps({"stream": stream, "data": data}), recv_time_ms=5)
    assert isinstance(update, DepthUpdate)
    return update


def top(update: DepthUpdate) -> tuple[list[int], ...]:
    """What a book makes of the event's levels, in its counts of 1e-8."""
    book = OrderBook()
    book.apply(update.bids, update.asks)
    return book.top(5)


def test_usdm_event_carries_pu_and_transaction_time() -> None:
    update = _decode(USDM_EVENT, "btcusdt@depth@100ms")
    assert (update.first_update_id, update.last_update_id, update.prev_last_update_id) == (
        157,
        160,
        149,
    )
    assert (update.event_time_ms, update.transaction_time_ms, update.pair) == (
        1737158400123,
        1737158400119,
        "",
    )
    assert top(update) == ([97123_40000000], [1_50000000], [], [])  # the ask removes nothing


def test_coinm_event_carries_the_pair_and_whole_contracts() -> None:
    update = _decode(COINM_EVENT, "btcusd_perp@depth@100ms")
    assert (update.symbol, update.pair, update.prev_last_update_id) == (
        "BTCUSD_PERP",
        "BTCUSD",
        149,
    )
    assert top(update) == ([97123_40000000], [12_00000000], [], [])


def test_spot_event_has_no_previous_id() -> None:
    spot = {k: v for k, v in USDM_EVENT.items() if k not in ("pu", "T")}
    update = _decode(spot, "btcusdt@depth@100ms")
    assert update.prev_last_update_id == NO_PREVIOUS_ID
    assert update.transaction_time_ms == 0


def _info(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"symbols": list(entries)}


def test_usdm_all_usdt_means_trading_perpetuals_quoted_in_usdt() -> None:
    body = _info(
        {
            "symbol": "BTCUSDT",
            "status": "TRADING",
            "contractType": "PERPETUAL",
            "quoteAsset": "USDT",
        },
        {
            "symbol": "BTCUSDT_250627",
            "status": "TRADING",
            "contractType": "CURRENT_QUARTER",
            "quoteAsset": "USDT",
        },
        {
            "symbol": "ETHUSDC",
            "status": "TRADING",
            "contractType": "PERPETUAL",
            "quoteAsset": "USDC",
        },
        {
            "symbol": "OLDUSDT",
            "status": "SETTLING",
            "contractType": "PERPETUAL",
            "quoteAsset": "USDT",
        },
    )
    assert decode_trading_symbols(body, "USDT", Market.USDM) == {"BTCUSDT"}
    assert decode_trading_symbols(body, None, Market.USDM) == {
        "BTCUSDT",
        "BTCUSDT_250627",
        "ETHUSDC",
    }


def test_coinm_trading_contracts_are_read_from_contract_status() -> None:
    body = _info(
        {"symbol": "BTCUSD_PERP", "contractStatus": "TRADING", "pair": "BTCUSD"},
        {"symbol": "BTCUSD_240329", "contractStatus": "DELIVERED", "pair": "BTCUSD"},
        {"symbol": "ETHUSD_PERP", "status": "TRADING", "pair": "ETHUSD"},  # not COIN-M's field
    )
    assert decode_trading_symbols(body, None, Market.COINM) == {"BTCUSD_PERP"}


# -- configuration per market -------------------------------------------------------------------


@pytest.mark.parametrize("market", list(Market))
def test_a_recording_defaults_to_the_markets_endpoints_and_80_percent_of_its_weight(
    market: Market, tmp_path: Path
) -> None:
    config = RecordConfig(("BTCUSDT",), tmp_path, market=market)
    row = spec(market)
    assert (config.rest_url, config.ws_url) == (row.rest_base, row.ws_base)
    assert config.exchange_weight_limit == row.weight_per_minute
    assert config.weight_per_minute == row.weight_per_minute * 8 // 10  # 4,800 or 1,920
    custom = RecordConfig(
        ("BTCUSDT",), tmp_path, market=market, rest_url="http://127.0.0.1:1", weight_per_minute=60
    )
    assert (custom.rest_url, custom.weight_per_minute) == ("http://127.0.0.1:1", 60)


@pytest.mark.parametrize("market", [Market.USDM, Market.COINM])
def test_futures_snapshots_stop_at_1000_levels(market: Market, tmp_path: Path) -> None:
    with pytest.raises(
        UsageError, match=rf"--snapshot-limit 5000 is not one of .* \(on {market.value}\)"
    ):
        RecordConfig(("BTCUSDT",), tmp_path, market=market, snapshot_limit=5000)


def test_all_usdt_is_refused_on_coinm(tmp_path: Path) -> None:
    RecordConfig((), tmp_path, market=Market.USDM, all_quote="USDT")
    with pytest.raises(UsageError, match="--all-usdt is for spot and usdm"):
        RecordConfig((), tmp_path, market=Market.COINM, all_quote="USDT")


def test_symbols_and_symbol_files_are_spelt_per_market(tmp_path: Path) -> None:
    listed = tmp_path / "contracts.txt"
    listed.write_text("btcusd_perp  # the perpetual\nethusd_250627\n")
    assert parse_symbols(f"@{listed}", Market.COINM) == ("BTCUSD_PERP", "ETHUSD_250627")
    with pytest.raises(UsageError, match=r"not a symbol: 'BTCUSD_PERP'; .* e\.g\. BTCUSDT"):
        parse_symbols(f"@{listed}", Market.SPOT)
    with pytest.raises(UsageError, match="not a coinm symbol: 'BTC-USD'"):
        parse_symbols("BTC-USD", Market.COINM)
    assert parse_symbols("btcusd_perp,btcusdt", None) == ("BTCUSD_PERP", "BTCUSDT")
