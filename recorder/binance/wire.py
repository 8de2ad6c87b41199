"""Binance market-data wire schemas and their decoders (spot, USD-M and COIN-M futures).

Pure: bytes or parsed JSON in, typed values out, ``MalformedMessageError`` for anything that is not
what Binance documents. Depth frames are decoded and checked in one C pass by msgspec, straight
into ``DepthUpdate``: prices and quantities become doubles as they are parsed (the book's
``recorder.book.orderbook`` says why that is exact), for less than orjson would take to parse
the frame and convert its numbers, unchecked (``bench/decode.py``, ``docs/benchmarks.md``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import msgspec
import orjson

from recorder.binance.market import Market
from recorder.errors import MalformedMessageError

Levels = list[tuple[float, float]]
"""(price, quantity) pairs, as the exchange's decimal strings decode."""

MAX_SIGNIFICANT_DIGITS = 15
"""Decimals up to this many significant digits survive a round trip through a double."""
UNHOLDABLE = (math.nan, math.nan)
"""Stands in a decoded side for a number with more significant digits than a double holds: the
book refuses it when next read (rule S5, a ``bad_level`` loss), so it is never rounded."""
_DIGITS_AS_ONES = bytes.maketrans(b"0123456789", b"1111111111")
_LONG_NUMBER = re.compile(r'"([0-9]{8,}\.[0-9]*|[0-9]*\.[0-9]{9,}|[0-9]{16,})"')


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
    bids: Levels = msgspec.field(name="b")
    asks: Levels = msgspec.field(name="a")
    prev_last_update_id: int = msgspec.field(name="pu", default=NO_PREVIOUS_ID)
    transaction_time_ms: int = msgspec.field(name="T", default=0)
    pair: str = msgspec.field(name="ps", default="")
    recv_time_ms: int = 0


class DepthSnapshot(msgspec.Struct, frozen=True, gc=False):
    """A REST depth answer (``/api/v3/depth``, ``/fapi/v1/depth``, ``/dapi/v1/depth``)."""

    last_update_id: int = msgspec.field(name="lastUpdateId")
    bids: Levels
    asks: Levels


class OtherEvent(msgspec.Struct, frozen=True, gc=False):
    """A well-formed combined-stream frame that is not a depth update (e.g. ``serverShutdown``)."""

    stream: str
    event_type: str


class _DepthFrame(msgspec.Struct, gc=False):
    stream: str
    data: DepthUpdate


SERVER_SHUTDOWN = "serverShutdown"
_DEPTH_FRAME = msgspec.json.Decoder(_DepthFrame, strict=False)  # lax: "97000.01" -> 97000.01


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
    if _may_be_inexact(raw):
        text = raw.decode() if isinstance(raw, bytes) else raw
        if any(not fits_double(m) for m in _LONG_NUMBER.findall(text)):
            update.bids.append(UNHOLDABLE)
    update.recv_time_ms = recv_time_ms
    return update


def fits_double(text: str) -> bool:
    """Whether the decimal ``text`` has few enough significant digits to come back from its
    double unchanged (docs/architecture.md, "The book and its numbers")."""
    return len(text.replace(".", "").strip("0")) <= MAX_SIGNIFICANT_DIGITS


def _may_be_inexact(raw: str | bytes) -> bool:
    """Whether a number in ``raw`` has 8 or more digits before its point: within Binance's
    wire format (at most 8 decimals) only such a number can carry more than 15 significant
    digits. 1.6 µs a frame, all in C (a regular expression over every frame took 20 µs, more
    than decoding it); the rare frame it flags is then checked number by number. A longer
    number with fewer integer digits (9 or more decimals) is caught when the book formats it."""
    data = raw.encode() if isinstance(raw, str) else raw
    return b"11111111." in data.translate(_DIGITS_AS_ONES)


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


def decode_depth_snapshot(body: Any) -> DepthSnapshot:
    """Decode a parsed ``/api/v3/depth`` JSON body."""
    try:
        snapshot = msgspec.convert(body, DepthSnapshot, strict=False)
    except msgspec.ValidationError as exc:
        raise MalformedMessageError(f"depth snapshot not as documented: {exc}") from exc
    levels = (body["bids"], body["asks"])
    if _has_unholdable(text for side in levels for level in side for text in level):
        snapshot.bids.append(UNHOLDABLE)
    return snapshot


def _has_unholdable(texts: Iterable[object]) -> bool:
    """Any number a double cannot hold exactly (16 characters or more may be one)."""
    return any(isinstance(t, str) and len(t) >= 16 and not fits_double(t) for t in texts)


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
