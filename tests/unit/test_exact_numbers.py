"""Every number Binance can send (an int64 count of 1e-8) is held exactly, from the wire to the
stored value; anything outside that domain is refused, never rounded (docs/architecture.md,
"The book and its numbers")."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.binance.wire import DepthUpdate, decode_depth_snapshot, decode_frame
from recorder.book.fixedpoint import MALFORMED, MAX_UNITS, parse_levels
from recorder.book.orderbook import OrderBook
from recorder.book.snapshot import DECIMALS, Sample
from recorder.storage.codec import Decoder, encode, format_decimal

LARGEST = "92233720368.54775807"


def spelled(units: int, decimals: int = DECIMALS) -> str:
    """``units`` as Binance writes it with ``decimals`` places (spot: always 8), if it can be."""
    whole, frac = divmod(units, 10**DECIMALS)
    places = f"{frac:08d}"
    if places[decimals:].strip("0"):
        decimals = DECIMALS
    return f"{whole}.{places[:decimals]}" if decimals else str(whole)


def parsed(*numbers: str) -> list[int] | None:
    """What the book's parser makes of ``[["1", n], ...]``: each quantity's units, or None."""
    text = orjson.dumps([["1", n] for n in numbers])
    prices = np.empty(len(numbers), np.int64)
    qtys = np.empty(len(numbers), np.int64)
    count = parse_levels(text, prices, qtys, 0)
    return None if count == MALFORMED else qtys[:count].tolist()


def frame(bids: list[list[str]]) -> str:
    data = {"e": "depthUpdate", "E": 1, "s": "X", "U": 1, "u": 2, "b": bids, "a": []}
    return orjson.dumps({"stream": "x@depth@100ms", "data": data}).decode()


def stored(quantity: str) -> str | None:
    """The quantity of price 1.5 as stored after a frame sets it, or None if the book refuses it."""
    update = decode_frame(frame([["1.50000000", quantity]]), 0)
    assert isinstance(update, DepthUpdate)
    book = OrderBook()
    try:
        book.apply(update.bids, update.asks)
    except ValueError:
        return None
    value = encode(Sample("X", 0, 0, 0, 0, *book.top(5)))
    (level,) = Decoder().decode(b"X:0000000000", value).bids
    return level[1]


@pytest.mark.parametrize(
    "quantity",
    [
        "0.00123000",
        "97006.67000000",
        "77986501365.08470054",  # a double reads it back as 77986501365.0847
        "1230527355.65245744",  # a 1e-8 lot on a large quantity: 18 significant digits
        "12345678.12345678",
        LARGEST,
        "0.00000001",
        "3",  # COIN-M: whole contracts
        "0.001",  # USD-M: the lot's decimals only
    ],
)
def test_a_number_of_the_domain_is_stored_exactly(quantity: str) -> None:
    text = stored(quantity)
    assert text is not None
    assert Decimal(text) == Decimal(quantity)


@pytest.mark.parametrize(
    "quantity",
    [
        "92233720368.54775808",  # beyond int64
        "100000000000",
        "0.000000001",  # nine decimals
        "1234567.123456789",
        "-1",
        "1e5",
        "1.",
        ".5",
        "",
        "0x10",
        " 1",
    ],
)
def test_a_number_outside_the_domain_is_refused_never_rounded(quantity: str) -> None:
    assert stored(quantity) is None


def test_the_parser_refuses_levels_that_are_not_string_pairs() -> None:
    for text in (b'[["1"]]', b'[["1","2","3"]]', b"[[1,2]]", b'[["1","2"]', b"{}", b""):
        assert parse_levels(text, np.empty(4, np.int64), np.empty(4, np.int64), 0) == MALFORMED
    assert parse_levels(b' [ [ "1" , "2" ] ] ', *(np.empty(4, np.int64),) * 2, 0) == 1


@given(
    st.one_of(
        st.integers(min_value=0, max_value=MAX_UNITS),
        st.integers(min_value=10**15, max_value=MAX_UNITS),  # 16 to 19 significant digits
        st.sampled_from([0, 1, 10**8, MAX_UNITS - 1, MAX_UNITS, 10**18 + 1]),
    ),
    st.integers(min_value=0, max_value=DECIMALS),
)
def test_every_number_of_the_domain_parses_to_its_own_units(units: int, decimals: int) -> None:
    """The whole int64 range, in every spelling the markets use (spot's 8 decimals, futures'
    fewer, COIN-M's none)."""
    assert parsed(spelled(units, decimals)) == [units]


@given(st.integers(min_value=MAX_UNITS + 1, max_value=10**21))
def test_every_number_beyond_the_domain_is_refused(units: int) -> None:
    assert parsed(spelled(units)) is None


@given(st.integers(min_value=1, max_value=MAX_UNITS), st.integers(min_value=1, max_value=9))
def test_a_ninth_decimal_is_refused(units: int, last: int) -> None:
    assert parsed(spelled(units) + str(last)) is None


def test_a_snapshot_holds_the_whole_domain_and_refuses_the_rest() -> None:
    body = {"lastUpdateId": 7, "bids": [["1.0", "1230527355.65245744"]], "asks": [[LARGEST, "1"]]}
    snapshot = decode_depth_snapshot(orjson.dumps(body))
    book = OrderBook()
    book.replace(snapshot.bids, snapshot.asks)
    assert [format_decimal(q, -DECIMALS) for q in book.top(1)[1]] == ["1230527355.65245744"]
    bad = decode_depth_snapshot(orjson.dumps(body | {"asks": [["92233720368.54775808", "1"]]}))
    with pytest.raises(ValueError, match="not Binance's numbers"):
        book.replace(bad.bids, bad.asks)
