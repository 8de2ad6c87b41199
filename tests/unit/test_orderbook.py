"""The book against a naive model: sorted Decimal levels, recomputed from scratch."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.book.orderbook import BookSide, OrderBook


def naive_top(levels: dict[str, str], n: int, *, is_bid: bool) -> list[tuple[str, str]]:
    ordered = sorted(levels, key=Decimal, reverse=is_bid)
    return [(p, levels[p]) for p in ordered[:n]]


def test_apply_sets_updates_and_removes_levels() -> None:
    side = BookSide(is_bid=True)
    side.apply([["100.0", "1"], ["101.0", "2"], ["99.5", "3"]])
    side.apply([["100.0", "5"], ["101.0", "0.000"]])
    assert side.top(5) == [("100.0", "5"), ("99.5", "3")]


def test_removing_an_unknown_level_is_harmless() -> None:
    side = BookSide(is_bid=False)
    side.apply([["10", "1"]])
    side.apply([["11", "0"]])
    assert side.top(5) == [("10", "1")]


def test_asks_are_best_lowest_first_and_bids_best_highest_first() -> None:
    book = OrderBook()
    book.replace(bids=[["1.5", "1"], ["2.5", "1"], ["0.5", "1"]], asks=[["4", "1"], ["3", "1"]])
    bids, asks = book.top(2)
    assert [p for p, _ in bids] == ["2.5", "1.5"]
    assert [p for p, _ in asks] == ["3", "4"]


def test_replace_drops_zero_quantities_and_old_levels() -> None:
    side = BookSide(is_bid=True)
    side.apply([["5", "1"]])
    side.replace([["1", "1"], ["2", "0.00000000"]])
    assert side.top(5) == [("1", "1")]


@pytest.mark.parametrize(
    ("bids", "asks", "crossed"),
    [
        ([["10", "1"]], [["11", "1"]], False),
        ([["11", "1"]], [["11", "1"]], True),
        ([["12", "1"]], [["11", "1"]], True),
        ([], [["11", "1"]], False),
        ([["10", "1"]], [], False),
    ],
)
def test_crossed_book(bids: list[list[str]], asks: list[list[str]], crossed: bool) -> None:
    book = OrderBook()
    book.replace(bids, asks)
    assert book.is_crossed() is crossed


def test_bad_number_raises_value_error() -> None:
    with pytest.raises(ValueError, match="could not convert"):
        BookSide(is_bid=True).apply([["1.0", "lots"]])


prices = st.integers(min_value=1, max_value=300).map(lambda t: f"{t / 100:.8f}")
quantities = st.one_of(
    st.just("0.00000000"),
    st.integers(min_value=1, max_value=10**6).map(lambda q: f"{q / 1000:.8f}"),
)
batches = st.lists(st.lists(st.tuples(prices, quantities), max_size=30), max_size=60)


@settings(max_examples=300, deadline=None)
@given(batches=batches, is_bid=st.booleans(), cache_size=st.integers(min_value=1, max_value=8))
def test_top_levels_match_a_naive_book(
    batches: list[list[tuple[str, str]]], is_bid: bool, cache_size: int
) -> None:
    """Small caches force every trim and rebuild path; the result must never differ."""
    side = BookSide(is_bid=is_bid, cache_size=cache_size)
    model: dict[str, str] = {}
    for batch in batches:
        side.apply(batch)
        for price, qty in batch:
            if Decimal(qty) == 0:
                model.pop(price, None)
            else:
                model[price] = qty
        for n in (1, 3, 20):
            assert side.top(n) == naive_top(model, n, is_bid=is_bid)
        best = side.best_price()
        assert best == (float(naive_top(model, 1, is_bid=is_bid)[0][0]) if model else None)
