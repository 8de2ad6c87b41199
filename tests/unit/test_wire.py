"""Binance wire decoders and the pure endpoint helpers."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from recorder.binance.endpoints import (
    MAX_STREAMS_PER_CONNECTION,
    MAX_URL_CHARS,
    combined_stream_url,
    connection_groups,
    depth_stream_name,
    depth_url,
    depth_weight,
    exchange_info_url,
)
from recorder.binance.wire import (
    DepthSnapshot,
    DepthUpdate,
    OtherEvent,
    RawLevels,
    decode_depth_snapshot,
    decode_frame,
    decode_trading_symbols,
)
from recorder.book.orderbook import OrderBook
from recorder.errors import ExchangeError, MalformedMessageError


def _data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "e": "depthUpdate",
        "E": 1737158400123,
        "s": "BTCUSDT",
        "U": 157,
        "u": 160,
        "b": [["97123.45000000", "1.50000000"], ["97123.40000000", "0.00000000"]],
        "a": [["97123.46000000", "0.25000000"]],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not _DROP}


_DROP = object()


def _frame(data: Any, stream: str = "btcusdt@depth@100ms") -> bytes:
    return orjson.dumps({"stream": stream, "data": data})


# -- decode_frame -------------------------------------------------------------------------------


@pytest.mark.parametrize("as_text", [False, True])
def test_decode_frame_depth_update(as_text: bool) -> None:
    raw = _frame(_data())
    update = decode_frame(raw.decode() if as_text else raw, recv_time_ms=1737158400150)
    assert update == DepthUpdate(
        symbol="BTCUSDT",
        event_time_ms=1737158400123,
        first_update_id=157,
        last_update_id=160,
        bids=RawLevels(b'[["97123.45000000","1.50000000"],["97123.40000000","0.00000000"]]'),
        asks=RawLevels(b'[["97123.46000000","0.25000000"]]'),
        recv_time_ms=1737158400150,
    )


def test_decode_frame_reads_ids_however_they_are_written() -> None:
    """Decoding is lax about the spelling of ids and times, never about their value."""
    raw = _frame(_data(E="1737158400123", U=157.0))
    update = decode_frame(raw, recv_time_ms=0)
    assert isinstance(update, DepthUpdate)
    assert (update.event_time_ms, update.first_update_id) == (1737158400123, 157)


def test_decode_frame_single_update_id_and_empty_sides() -> None:
    update = decode_frame(_frame(_data(U=160, b=[], a=[])), recv_time_ms=0)
    assert isinstance(update, DepthUpdate)
    assert (update.first_update_id, update.last_update_id) == (160, 160)
    assert (bytes(update.bids), bytes(update.asks)) == (b"[]", b"[]")


def test_decode_frame_other_event() -> None:
    raw = _frame({"e": "serverShutdown", "E": 1}, stream="btcusdt@depth@100ms")
    assert decode_frame(raw, 0) == OtherEvent(
        stream="btcusdt@depth@100ms", event_type="serverShutdown"
    )


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"e":"serverShutdown","E":1770123456789}', id="bare"),
        pytest.param(b'{"event":{"e":"serverShutdown","E":1770123456789}}', id="ws-api-form"),
    ],
)
def test_decode_frame_server_shutdown_in_every_documented_form(raw: bytes) -> None:
    assert decode_frame(raw, 0) == OtherEvent(stream="", event_type="serverShutdown")


def test_decode_frame_other_event_without_stream() -> None:
    raw = orjson.dumps({"data": {"e": "trade"}})
    assert decode_frame(raw, 0) == OtherEvent(stream="", event_type="trade")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_frame(_data())[:-5], id="truncated"),
        pytest.param(b"hello", id="not-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[1, 2]", id="json-array"),
        pytest.param(b'"text"', id="json-string"),
        pytest.param(orjson.dumps({"stream": "x"}), id="no-data"),
        pytest.param(orjson.dumps({"e": "depthUpdate", "E": 1}), id="bare-depth-update"),
        pytest.param(orjson.dumps({"event": {"E": 1}}), id="event-without-type"),
        pytest.param(orjson.dumps({"stream": "x", "data": [1]}), id="data-not-an-object"),
        pytest.param(orjson.dumps({"stream": "x", "data": "depthUpdate"}), id="data-a-string"),
        pytest.param(orjson.dumps({"stream": "x", "data": {"E": 1}}), id="no-event-type"),
        pytest.param(_frame(_data(U=_DROP)), id="missing-U"),
        pytest.param(_frame(_data(u=_DROP)), id="missing-u"),
        pytest.param(_frame(_data(s=_DROP)), id="missing-s"),
        pytest.param(_frame(_data(b=_DROP)), id="missing-b"),
        pytest.param(_frame(_data(a=_DROP)), id="missing-a"),
        pytest.param(_frame(_data(E=_DROP)), id="missing-E"),
        pytest.param(_frame(_data(E="soon")), id="E-text"),
        pytest.param(_frame(_data(E=1737158400123.5)), id="E-fraction"),
        pytest.param(_frame(_data(U=True)), id="U-bool"),
        pytest.param(_frame(_data(u=None)), id="u-null"),
        pytest.param(_frame(_data(s=1)), id="s-number"),
        pytest.param(_frame(_data(U=161, u=160)), id="U-after-u"),
    ],
)
def test_decode_frame_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        decode_frame(raw, 0)


@pytest.mark.parametrize(
    "levels",
    [
        pytest.param({"b": [["97123.45", "lots"]]}, id="qty-text"),
        pytest.param({"b": [[97123.45, "1.5"]]}, id="price-a-number"),
        pytest.param({"b": [["97123.45"]]}, id="level-without-qty"),
        pytest.param({"a": [["1", "2", "3"]]}, id="level-of-three"),
        pytest.param({"a": [None]}, id="level-null"),
        pytest.param({"b": {"97123.45": "1"}}, id="b-object"),
        pytest.param({"a": "[]"}, id="a-string"),
        pytest.param({"b": [["1", "0.000000001"]]}, id="nine-decimals"),
    ],
)
def test_levels_that_are_not_binances_are_refused_by_the_book(levels: dict[str, Any]) -> None:
    """Levels stay the exchange's text through decoding; the book parses them and refuses these
    whole, which loses the book (a ``bad_level`` gap), as a malformed frame would."""
    update = decode_frame(_frame(_data(**levels)), 0)
    assert isinstance(update, DepthUpdate)
    with pytest.raises(ValueError, match="not Binance's numbers"):
        OrderBook().apply(update.bids, update.asks)


def test_malformed_is_an_exchange_error_with_an_excerpt() -> None:
    with pytest.raises(ExchangeError, match="malformed stream frame: 'hello'"):
        decode_frame("hello", 0)


def test_malformed_excerpt_is_cut() -> None:
    with pytest.raises(MalformedMessageError) as info:
        decode_frame("x" * 500, 0)
    assert "x" * 80 + "…" in str(info.value)
    assert "x" * 81 not in str(info.value)


# -- REST bodies --------------------------------------------------------------------------------


def test_decode_depth_snapshot() -> None:
    body = {"lastUpdateId": 1027024, "bids": [["4.00000000", "431.00000000"]], "asks": []}
    assert decode_depth_snapshot(orjson.dumps(body)) == DepthSnapshot(
        last_update_id=1027024,
        bids=RawLevels(b'[["4.00000000","431.00000000"]]'),
        asks=RawLevels(b"[]"),
    )


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {},
        {"bids": [], "asks": []},
        {"lastUpdateId": 1, "asks": []},
        {"lastUpdateId": 1, "bids": []},
        {"lastUpdateId": "one", "bids": [], "asks": []},
        {"lastUpdateId": True, "bids": [], "asks": []},
        {"code": -1121, "msg": "Invalid symbol."},
    ],
)
def test_decode_depth_snapshot_malformed(body: Any) -> None:
    with pytest.raises(MalformedMessageError):
        decode_depth_snapshot(orjson.dumps(body))


def test_a_depth_answer_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedMessageError, match="depth snapshot not as documented"):
        decode_depth_snapshot(b"<html>502 Bad Gateway</html>")


@pytest.mark.parametrize(
    "levels",
    [
        pytest.param({"bids": [[4.0, "1"]]}, id="price-a-number"),
        pytest.param({"bids": [["4.0"]]}, id="level-without-qty"),
        pytest.param({"bids": {}}, id="bids-object"),
        pytest.param({"asks": None}, id="asks-null"),
    ],
)
def test_snapshot_levels_that_are_not_binances_are_refused_by_the_book(
    levels: dict[str, Any],
) -> None:
    """As a stream's: the levels stay text through decoding and the book refuses them whole."""
    body = {"lastUpdateId": 1, "bids": [], "asks": []} | levels
    snapshot = decode_depth_snapshot(orjson.dumps(body))
    with pytest.raises(ValueError, match="not Binance's numbers"):
        OrderBook().replace(snapshot.bids, snapshot.asks)


def test_decode_trading_symbols_keeps_trading_only() -> None:
    body = {
        "timezone": "UTC",
        "symbols": [
            {"symbol": "BTCUSDT", "status": "TRADING"},
            {"symbol": "ETHBTC", "status": "TRADING"},
            {"symbol": "LUNAUSDT", "status": "BREAK"},
            {"symbol": "OLDUSDT", "status": "HALT"},
            {"symbol": "NOSTATUS"},
        ],
    }
    assert decode_trading_symbols(body) == frozenset({"BTCUSDT", "ETHBTC"})


def test_decode_trading_symbols_empty() -> None:
    assert decode_trading_symbols({"symbols": []}) == frozenset()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="null"),
        pytest.param({}, id="no-symbols"),
        pytest.param({"symbols": None}, id="symbols-null"),
        pytest.param({"symbols": [{"status": "TRADING"}]}, id="entry-without-symbol"),
        # Entries that are not objects (a regression: they raised AttributeError).
        pytest.param({"symbols": ["BTCUSDT"]}, id="entry-a-string"),
        pytest.param({"symbols": [None]}, id="entry-null"),
    ],
)
def test_decode_trading_symbols_malformed(body: Any) -> None:
    with pytest.raises(MalformedMessageError):
        decode_trading_symbols(body)


# -- endpoints ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "weight"),
    [
        (1, 5),
        (5, 5),
        (100, 5),
        (101, 25),
        (500, 25),
        (501, 50),
        (1000, 50),
        (1001, 250),
        (5000, 250),
    ],
)
def test_depth_weight(limit: int, weight: int) -> None:
    assert depth_weight(limit) == weight


@pytest.mark.parametrize("limit", [5001, 10_000])
def test_depth_weight_above_maximum(limit: int) -> None:
    with pytest.raises(ValueError, match="5000"):
        depth_weight(limit)


@pytest.mark.parametrize(
    "base", ["https://data-api.binance.vision", "https://data-api.binance.vision/"]
)
def test_depth_url(base: str) -> None:
    assert (
        depth_url(base, "BTCUSDT", 1000)
        == "https://data-api.binance.vision/api/v3/depth?symbol=BTCUSDT&limit=1000"
    )


@pytest.mark.parametrize("base", ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"])
def test_exchange_info_url(base: str) -> None:
    assert exchange_info_url(base) == "http://127.0.0.1:8080/api/v3/exchangeInfo"
    url = exchange_info_url(base, ["BTCUSDT", "ETHBTC"])
    assert url == (
        "http://127.0.0.1:8080/api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22%2C%22ETHBTC%22%5D"
    )
    assert parse_qs(urlsplit(url).query) == {"symbols": ['["BTCUSDT","ETHBTC"]']}


@pytest.mark.parametrize(
    "base", ["wss://data-stream.binance.vision", "wss://data-stream.binance.vision/"]
)
def test_combined_stream_url(base: str) -> None:
    assert depth_stream_name("BTCUSDT") == "btcusdt@depth@100ms"
    assert (
        combined_stream_url(base, ["BTCUSDT", "EthBtc"])
        == "wss://data-stream.binance.vision/stream?streams=btcusdt@depth@100ms/ethbtc@depth@100ms"
    )


def test_combined_stream_url_refuses_what_binance_would_refuse() -> None:
    symbols = [f"S{i}" for i in range(MAX_STREAMS_PER_CONNECTION + 1)]
    with pytest.raises(ValueError, match="1025 streams"):
        combined_stream_url("wss://x", symbols)
    with pytest.raises(ValueError, match=f"exceeds Binance's {MAX_URL_CHARS}"):
        combined_stream_url("wss://x", symbols[:600])


@pytest.mark.parametrize("count", [1, 2, 359, 360, 1500, 3000])
def test_connection_groups_pack_symbols_in_order_within_every_limit(count: int) -> None:
    base = "wss://data-stream.binance.vision"
    symbols = [f"{chr(65 + i % 26)}{i:05d}USDT" for i in range(count)]
    groups = connection_groups(base, symbols)
    assert [s for group in groups for s in group] == symbols, "every symbol once, in order"
    for group in groups:
        url = combined_stream_url(base, group)  # raises beyond a limit
        assert len(url) <= MAX_URL_CHARS
    for group, following in itertools.pairwise(groups):
        with pytest.raises(ValueError, match="exceeds Binance"):  # no group could take more
            combined_stream_url(base, (*group, following[0]))
