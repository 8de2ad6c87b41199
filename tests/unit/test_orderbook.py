"""The book against a naive model: sorted Decimal levels, recomputed from scratch."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.book.orderbook import BookSide, OrderBook, decimal_text


def naive_top(levels: dict[str, str], n: int, *, is_bid: bool) -> list[tuple[str, str]]:
    ordered = sorted(levels, key=Decimal, reverse=is_bid)
    return [(_plain(p), _plain(levels[p])) for p in ordered[:n]]


def _plain(text: str) -> str:
    """The exact decimal, normalised: no exponent, no trailing zeros."""
    return format(Decimal(text).normalize(), "f")


def test_apply_sets_updates_and_removes_levels() -> None:
    side = BookSide(is_bid=True)
    side.apply([(100.0, 1.0), (101.0, 2.0), (99.5, 3.0)])
    side.apply([(100.0, 5.0), (101.0, 0.0)])
    assert side.top(5) == [("100", "5"), ("99.5", "3")]
    assert len(side) == 2


def test_the_last_change_of_a_price_in_a_batch_wins() -> None:
    side = BookSide(is_bid=False)
    side.apply([(10.0, 1.0), (10.0, 0.0), (11.0, 2.0), (11.0, 3.0)])
    side.apply([(12.0, 0.0), (12.0, 4.0)])
    assert side.top(5) == [("11", "3"), ("12", "4")]


def test_removing_an_unknown_level_is_harmless() -> None:
    side = BookSide(is_bid=False)
    side.apply([(10.0, 1.0)])
    side.apply([(11.0, 0.0)])
    assert side.top(5) == [("10", "1")]


def test_asks_are_best_lowest_first_and_bids_best_highest_first() -> None:
    book = OrderBook()
    book.replace(bids=[(1.5, 1.0), (2.5, 1.0), (0.5, 1.0)], asks=[(4.0, 1.0), (3.0, 1.0)])
    bids, asks = book.top(2)
    assert [p for p, _ in bids] == ["2.5", "1.5"]
    assert [p for p, _ in asks] == ["3", "4"]


def test_replace_drops_zero_quantities_and_old_levels() -> None:
    side = BookSide(is_bid=True)
    side.apply([(5.0, 1.0)])
    side.replace([(1.0, 1.0), (2.0, 0.0)])
    assert side.top(5) == [("1", "1")]


@pytest.mark.parametrize(
    ("bids", "asks", "crossed"),
    [
        ([(10.0, 1.0)], [(11.0, 1.0)], False),
        ([(11.0, 1.0)], [(11.0, 1.0)], True),
        ([(12.0, 1.0)], [(11.0, 1.0)], True),
        ([], [(11.0, 1.0)], False),
        ([(10.0, 1.0)], [], False),
    ],
)
def test_crossed_book(
    bids: list[tuple[float, float]], asks: list[tuple[float, float]], crossed: bool
) -> None:
    book = OrderBook()
    book.replace(bids, asks)
    assert book.is_crossed() is crossed


@pytest.mark.parametrize(
    "level", [(1.0, -1.0), (0.0, 1.0), (-2.0, 1.0), (float("nan"), 1.0), (1.0, float("inf"))]
)
def test_a_level_the_book_cannot_hold_raises_value_error_when_read(
    level: tuple[float, float],
) -> None:
    side = BookSide(is_bid=True)
    side.apply([(2.0, 1.0), level])
    with pytest.raises(ValueError, match="price <= 0, a negative quantity or a non-finite"):
        side.top(5)


def test_a_snapshot_the_book_cannot_hold_leaves_the_side_empty() -> None:
    side = BookSide(is_bid=False)
    side.replace([(1.0, 1.0)])
    with pytest.raises(ValueError, match="non-finite"):
        side.replace([(2.0, 1.0), (3.0, float("nan"))])
    assert side.top(5) == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (97000.05, "97000.05"),
        (3.0, "3"),
        (0.00001, "0.00001"),
        (1.2e-07, "0.00000012"),
        (123456789012.0, "123456789012"),
        (1e16, "10000000000000000"),
        (99999999.99999999, "99999999.99999999"),
    ],
)
def test_decimal_text_is_the_plain_shortest_decimal(value: float, text: str) -> None:
    if len(text.replace(".", "").strip("0")) > 15:
        with pytest.raises(ValueError, match="more than 15 significant digits"):
            decimal_text(value)
    else:
        assert decimal_text(value) == text


# Decimals as Binance writes them: 8 places, at most 15 significant digits.
prices = st.integers(min_value=1, max_value=10**12).map(lambda t: f"{Decimal(t) / 10**8:.8f}")
quantities = st.one_of(
    st.just("0.00000000"),
    st.integers(min_value=1, max_value=10**15 - 1).map(lambda q: f"{Decimal(q) / 10**8:.8f}"),
)
batches = st.lists(st.lists(st.tuples(prices, quantities), max_size=30), max_size=40)


@settings(max_examples=300, deadline=None)
@given(batches=batches, is_bid=st.booleans(), reads=st.lists(st.booleans(), max_size=40))
def test_top_levels_match_a_naive_book(
    batches: list[list[tuple[str, str]]], is_bid: bool, reads: list[bool]
) -> None:
    """Exact strings in, doubles inside, the same exact decimals out; reading after only some
    batches merges several at once, which must not change the result."""
    side = BookSide(is_bid=is_bid)
    model: dict[Decimal, str] = {}
    for i, batch in enumerate(batches):
        side.apply([(float(p), float(q)) for p, q in batch])
        for price, qty in batch:
            if Decimal(qty) == 0:
                model.pop(Decimal(price), None)
            else:
                model[Decimal(price)] = qty
        if i < len(reads) and not reads[i]:
            continue
        expected = naive_top({str(p): q for p, q in model.items()}, 20, is_bid=is_bid)
        for n in (1, 3, 20):
            assert side.top(n) == expected[:n]
        best = side.best_price()
        assert best == (float(expected[0][0]) if model else None)
        assert len(side) == len(model)
