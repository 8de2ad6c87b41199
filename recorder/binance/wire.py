"""Binance market-data wire schemas and their decoders (spot, USD-M and COIN-M futures).

Pure: bytes or parsed JSON in, typed values out, ``MalformedMessageError`` for anything that is not
what Binance documents. Depth frames are decoded and checked in one C pass by msgspec, straight
into ``DepthUpdate``, except their levels: those stay the exchange's raw text, which only the
book parses, into its exact fixed-point integers (``recorder.book.fixedpoint``), so a number is
never a float or a Python string on the way (``bench/decode.py``, ``docs/benchmarks.md``).
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from recorder.binance.market import Market
from recorder.errors import MalformedMessageError

RawLevels = msgspec.Raw
"""One side's levels exactly as the exchange wrote them: a JSON array of [price, quantity]
string pairs, which only the book parses (``recorder.book.fixedpoint``)."""

NO_PREVIOUS_ID = -1
"""``prev_last_update_id`` of an event without ``pu`` (spot's): never a previous ``u``."""


class DepthUpdate(msgspec.Struct, tag_field="e", tag="depthUpdate", gc=False):
    """One ``depthUpdate`` event of a diff-depth stream. ``recv_time_ms`` is ours, not Binance's:
    ``decode_frame`` stamps it. Futures events also carry ``pu`` (the previous event's ``u``),
    ``T`` (transaction time) and, on COIN-M, ``ps`` (the pair); spot events leave them unset."""

    symbol: str = msgspec.field(name="s")
    event_time_ms: int = msgspec.field(name="E")
    first_update_id: int = msgspec.field(name="U")
    last_update_id: int = msgspec.field(name="u")
    bids: RawLevels = msgspec.field(name="b")
    asks: RawLevels = msgspec.field(name="a")
    prev_last_update_id: int = msgspec.field(name="pu", default=NO_PREVIOUS_ID)
    transaction_time_ms: int = msgspec.field(name="T", default=0)
    pair: str = msgspec.field(name="ps", default="")
    recv_time_ms: int = 0


class DepthSnapshot(msgspec.Struct, frozen=True, gc=False):
    """A REST depth answer (``/api/v3/depth``, ``/fapi/v1/depth``, ``/dapi/v1/depth``)."""

    last_update_id: int = msgspec.field(name="lastUpdateId")
    bids: RawLevels
    asks: RawLevels


class OtherEvent(msgspec.Struct, frozen=True, gc=False):
    """A well-formed combined-stream frame that is not a depth update (e.g. ``serverShutdown``)."""

    stream: str
    event_type: str


class _DepthFrame(msgspec.Struct, gc=False):
    stream: str
    data: DepthUpdate


SERVER_SHUTDOWN = "serverShutdown"
_DEPTH_FRAME = msgspec.json.Decoder(_DepthFrame, strict=False)  # lax: "160" -> 160
_DEPTH_SNAPSHOT = msgspec.json.Decoder(DepthSnapshot)


def decode_frame(raw: str | bytes, recv_time_ms: int) -> DepthUpdate | OtherEvent:
    """Decode one combined-stream frame ``{"stream": ..., "data": {...}}``.

    A ``serverShutdown`` notice is accepted in every form Binance documents: inside ``data``,
    bare (``{"e": ...}``) or as the WebSocket API's ``{"event": {"e": ...}}``.
    """
    try:
        update = _DEPTH_FRAME.decode(raw).data
    except msgspec.DecodeError as exc:
        return _decode_other(raw, exc)
    if update.first_update_id > update.last_update_id:
        raise MalformedMessageError(f"depthUpdate with U > u: {_excerpt(raw)}")
    update.recv_time_ms = recv_time_ms
    return update


def _decode_other(raw: str | bytes, depth_error: msgspec.DecodeError) -> OtherEvent:
    """A frame that is not a valid depth update: another event, or malformed."""
    try:
        frame = orjson.loads(raw)
        data = frame["data"] if "data" in frame else frame.get("event", frame)
        event_type = data["e"]
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedMessageError(f"malformed stream frame: {_excerpt(raw)}") from exc
    if data is not frame.get("data") and event_type != SERVER_SHUTDOWN:
        raise MalformedMessageError(f"stream frame without data: {_excerpt(raw)}")
    if event_type == "depthUpdate":
        raise MalformedMessageError(
            f"depthUpdate not as documented ({depth_error}): {_excerpt(raw)}"
        )
    return OtherEvent(stream=str(frame.get("stream", "")), event_type=str(event_type))


def decode_depth_snapshot(raw: str | bytes) -> DepthSnapshot:
    """Decode a depth answer's body. Its levels stay text that the book parses and checks, as
    a stream's do: a 5,000-level answer is never turned into 10,000 Python strings."""
    try:
        return _DEPTH_SNAPSHOT.decode(raw)
    except msgspec.DecodeError as exc:
        raise MalformedMessageError(f"depth snapshot not as documented: {exc}") from exc


def decode_trading_symbols(
    body: Any, quote: str | None = None, market: Market = Market.SPOT
) -> frozenset[str]:
    """The trading symbols (with quote asset ``quote``, if given) in a parsed exchangeInfo body.

    Spot and USD-M say ``status``, COIN-M ``contractStatus``; a USD-M symbol "quoted in USDT"
    (``--all-usdt``) is a TRADING perpetual, not a quarterly."""
    status = "contractStatus" if market is Market.COINM else "status"
    try:
        return frozenset(
            s["symbol"]
            for s in body["symbols"]
            if s.get(status) == "TRADING" and (quote is None or _quoted_in(s, quote, market))
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedMessageError(f"exchangeInfo is not as documented: {exc}") from exc


def _quoted_in(entry: dict[str, Any], quote: str, market: Market) -> bool:
    perpetual = market is Market.SPOT or entry.get("contractType") == "PERPETUAL"
    return perpetual and entry.get("quoteAsset") == quote


def _excerpt(raw: str | bytes, limit: int = 80) -> str:
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    return repr(text[:limit] + ("…" if len(text) > limit else ""))
