"""Binance spot market-data wire schemas and their decoders.

Pure: bytes or parsed JSON in, typed values out, ``MalformedMessageError`` for anything that is not
what Binance documents. Level lists are kept as the parsed ``[price, qty]`` string pairs: they go
straight into the book, which validates the numbers as it applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from recorder.errors import ExchangeError

RawLevels = list[list[str]]


class MalformedMessageError(ExchangeError):
    """A frame or REST body that does not match the documented schema."""


@dataclass(frozen=True, slots=True)
class DepthUpdate:
    """One ``depthUpdate`` event of a diff-depth stream."""

    symbol: str
    event_time_ms: int
    first_update_id: int
    last_update_id: int
    bids: RawLevels
    asks: RawLevels
    recv_time_ms: int


@dataclass(frozen=True, slots=True)
class DepthSnapshot:
    """A REST ``/api/v3/depth`` answer."""

    last_update_id: int
    bids: RawLevels
    asks: RawLevels


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """A well-formed combined-stream frame that is not a depth update (e.g. ``serverShutdown``)."""

    stream: str
    event_type: str


SERVER_SHUTDOWN = "serverShutdown"


def decode_frame(raw: str | bytes, recv_time_ms: int) -> DepthUpdate | OtherEvent:
    """Decode one combined-stream frame ``{"stream": ..., "data": {...}}``.

    A ``serverShutdown`` notice is accepted in every form Binance documents: inside ``data``,
    bare (``{"e": ...}``) or as the WebSocket API's ``{"event": {"e": ...}}``.
    """
    try:
        frame = orjson.loads(raw)
        data = frame["data"] if "data" in frame else frame.get("event", frame)
        event_type = data["e"]
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedMessageError(f"malformed stream frame: {_excerpt(raw)}") from exc
    if data is not frame.get("data") and event_type != SERVER_SHUTDOWN:
        raise MalformedMessageError(f"stream frame without data: {_excerpt(raw)}")
    if event_type != "depthUpdate":
        return OtherEvent(stream=str(frame.get("stream", "")), event_type=str(event_type))
    try:
        update = DepthUpdate(
            symbol=data["s"],
            event_time_ms=data["E"],
            first_update_id=data["U"],
            last_update_id=data["u"],
            bids=data["b"],
            asks=data["a"],
            recv_time_ms=recv_time_ms,
        )
    except KeyError as exc:
        raise MalformedMessageError(f"depthUpdate without {exc}: {_excerpt(raw)}") from exc
    if not (
        type(update.event_time_ms) is int
        and type(update.first_update_id) is int
        and type(update.last_update_id) is int
        and type(update.symbol) is str
        and type(update.bids) is list
        and type(update.asks) is list
        and update.first_update_id <= update.last_update_id
    ):
        raise MalformedMessageError(f"depthUpdate with bad field types: {_excerpt(raw)}")
    return update


def decode_depth_snapshot(body: Any) -> DepthSnapshot:
    """Decode a parsed ``/api/v3/depth`` JSON body."""
    try:
        snapshot = DepthSnapshot(
            last_update_id=body["lastUpdateId"], bids=body["bids"], asks=body["asks"]
        )
    except (KeyError, TypeError) as exc:
        raise MalformedMessageError(f"depth snapshot without {exc}") from exc
    if not (
        type(snapshot.last_update_id) is int
        and type(snapshot.bids) is list
        and type(snapshot.asks) is list
    ):
        raise MalformedMessageError("depth snapshot with bad field types")
    return snapshot


def decode_trading_symbols(body: Any, quote: str | None = None) -> frozenset[str]:
    """The symbols with status TRADING (and quote asset ``quote``, if given) in a parsed
    ``/api/v3/exchangeInfo`` body."""
    try:
        return frozenset(
            s["symbol"]
            for s in body["symbols"]
            if s.get("status") == "TRADING" and (quote is None or s.get("quoteAsset") == quote)
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedMessageError(f"exchangeInfo is not as documented: {exc}") from exc


def _excerpt(raw: str | bytes, limit: int = 80) -> str:
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    return repr(text[:limit] + ("…" if len(text) > limit else ""))
