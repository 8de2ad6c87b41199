"""Every number Binance can send (an int64 of 1e-8 units) is stored exactly or refused: a number
with more significant digits than a double holds is decoded as the level the book refuses
(a ``bad_level`` loss), never rounded to a nearby decimal."""

from __future__ import annotations

import math
from decimal import Decimal

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.binance.wire import (
    UNHOLDABLE,
    DepthUpdate,
    decode_depth_snapshot,
    decode_frame,
    fits_double,
)
from recorder.book.orderbook import OrderBook

INT64_MAX = 2**63 - 1


def units_text(units: int, decimals: int = 8) -> str:
    """Binance's spelling of ``units`` of ``10**-decimals``: always that many decimals."""
    whole, frac = divmod(units, 10**decimals)
    return f"{whole}.{frac:0{decimals}d}" if decimals else str(whole)


def frame(bids: list[list[str]]) -> str:
    data = {"e": "depthUpdate", "E": 1, "s": "X", "U": 1, "u": 2, "b": bids, "a": []}
    return orjson.dumps({"stream": "x@depth@100ms", "data": data}).decode()


def decoded(quantity: str) -> DepthUpdate:
    update = decode_frame(frame([["1.50000000", quantity]]), 0)
    assert isinstance(update, DepthUpdate)
    return update


def poisoned(levels: list[tuple[float, float]]) -> bool:
    return any(math.isnan(p) and math.isnan(q) for p, q in levels)


def stored_or_refused(quantity: str) -> str | None:
    """What the book would store for a level of this quantity, or None if it refuses it."""
    book = OrderBook()
    book.replace([(1.0, 1.0)], [(1e12, 1.0)])
    book.apply(decoded(quantity).bids, [])
    try:
        return dict(book.bids.top(5)).get("1.5")
    except ValueError:
        return None


@pytest.mark.parametrize(
    ("quantity", "holdable"),
    [
        ("0.00123000", True),
        ("97006.67000000", True),
        ("1234567.12345678", True),  # 15 significant digits
        ("123456789012.00000000", True),  # PEPE-sized, 12 significant digits
        ("77986501365.0847", True),
        ("77986501365.08470054", False),  # its double reads back as 77986501365.0847
        ("1230527355.65245744", False),  # a 1e-8 lot on a large quantity: 18 digits
        ("12345678.12345678", False),  # 16 digits
        ("92233720368.54775807", False),  # the domain's largest
        ("0.000000001", True),  # nine decimals, yet one digit: held exactly
        ("1234567.123456789", False),  # nine decimals, 16 digits: refused when formatted
        ("1234567890123456", False),  # 16 digits, no point: refused when formatted
    ],
)
def test_a_number_is_stored_exactly_or_refused(quantity: str, holdable: bool) -> None:
    assert fits_double(quantity) is holdable
    stored = stored_or_refused(quantity)
    if holdable:
        assert stored is not None
        assert Decimal(stored) == Decimal(quantity)
    else:
        assert stored is None


def test_a_number_with_eight_integer_digits_is_checked_at_decode() -> None:
    assert poisoned(decoded("77986501365.08470054").bids)
    assert not poisoned(decoded("77986501365.0847").bids)
    assert not poisoned(decoded("0.00123000").bids)


def test_a_refused_number_makes_the_book_refuse_its_side() -> None:
    book = OrderBook()
    book.replace([(1.0, 1.0)], [(2.0, 1.0)])
    book.apply(decoded("77986501365.08470054").bids, [])
    with pytest.raises(ValueError, match="non-finite"):
        book.top(20)


def test_a_snapshot_with_a_refused_number_cannot_be_loaded() -> None:
    body = {"lastUpdateId": 7, "bids": [["1.0", "1230527355.65245744"]], "asks": [["2", "1"]]}
    snapshot = decode_depth_snapshot(body)
    assert snapshot.bids[-1] is UNHOLDABLE
    with pytest.raises(ValueError, match="non-finite"):
        OrderBook().replace(snapshot.bids, snapshot.asks)
    fine = decode_depth_snapshot(body | {"bids": [["1.0", "123456789012.00000000"]]})
    assert not poisoned(fine.bids)


@given(
    st.one_of(
        st.integers(min_value=0, max_value=INT64_MAX),
        st.integers(min_value=10**15, max_value=10**19 - 1).map(lambda u: min(u, INT64_MAX)),
        st.sampled_from([0, 1, 10**8, INT64_MAX, INT64_MAX - 1, 10**18 + 1]),
    ),
    st.sampled_from([8, 8, 3]),
)
def test_every_number_of_the_domain_is_stored_exactly_or_refused(units: int, decimals: int) -> None:
    """Whole int64 range, spot's 8 decimals and USD-M's fewer: what the book would store for
    the decoded level equals the exchange's decimal, or the level is refused."""
    text = units_text(units, decimals)
    stored = stored_or_refused(text)
    if not fits_double(text):
        assert stored is None  # refused: never rounded
    elif Decimal(text) == 0:
        assert stored is None  # quantity 0 removes the level
    else:
        assert stored is not None
        assert Decimal(stored) == Decimal(text)
