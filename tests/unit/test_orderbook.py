"""The book against a naive model: sorted Decimal levels, recomputed from scratch."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.book.orderbook import HEAD_LEVELS, BookSide, OrderBook
from recorder.book.snapshot import DECIMALS
from tests.helpers import decimal_levels, raw_levels

MAX_UNITS = 2**63 - 1
Levels = list[tuple[str, str]]


def top(side: BookSide, n: int = 5) -> Levels:
    """The side's best ``n`` levels as exact decimals."""
    return decimal_levels(*side.top(n))


def apply(book: OrderBook, levels: Levels, *, is_bid: bool) -> int:
    """Apply an event that changes one side only."""
    changes, none = raw_levels(levels), raw_levels([])
    return book.apply(changes, none) if is_bid else book.apply(none, changes)


def side_with(*batches: Levels, is_bid: bool = True) -> BookSide:
    book = OrderBook()
    for batch in batches:
        apply(book, batch, is_bid=is_bid)
    return book.bids if is_bid else book.asks


def test_apply_sets_updates_and_removes_levels() -> None:
    side = side_with(
        [("100", "1"), ("101", "2"), ("99.5", "3")], [("100.00000000", "5"), ("101", "0.0")]
    )
    assert top(side) == [("100", "5"), ("99.5", "3")]
    assert len(side) == 2


def test_apply_counts_the_changes() -> None:
    assert OrderBook().apply(raw_levels([("1", "1"), ("2", "0")]), raw_levels([("3", "1")])) == 3
    assert OrderBook().apply(raw_levels([]), raw_levels([])) == 0


def test_the_last_change_of_a_price_in_a_batch_wins() -> None:
    side = side_with(
        [("10", "1"), ("10", "0"), ("11", "2"), ("11", "3")],
        [("12", "0"), ("12", "4")],
        is_bid=False,
    )
    assert top(side) == [("11", "3"), ("12", "4")]


def test_one_price_spelled_two_ways_is_one_level() -> None:
    """The exchange's spellings differ by market (8 decimals on spot, the tick's on futures):
    the book keys prices by value, never by text."""
    side = side_with([("97000.10000000", "1")], [("97000.1", "2")], is_bid=False)
    assert top(side) == [("97000.1", "2")]


def test_removing_an_unknown_level_is_harmless() -> None:
    side = side_with([("10", "1")], [("11", "0")], is_bid=False)
    assert top(side) == [("10", "1")]


def test_asks_are_best_lowest_first_and_bids_best_highest_first() -> None:
    book = OrderBook()
    book.replace(
        raw_levels([("1.5", "1"), ("2.5", "1"), ("0.5", "1")]),
        raw_levels([("4", "1"), ("3", "1")]),
    )
    bid_prices, _, ask_prices, _ = book.top(2)
    assert bid_prices == [250_000_000, 150_000_000]
    assert ask_prices == [300_000_000, 400_000_000]


def test_replace_drops_zero_quantities_and_old_levels() -> None:
    book = OrderBook()
    apply(book, [("5", "1")], is_bid=True)
    apply(book, [("6", "1")], is_bid=False)
    book.replace(raw_levels([("1", "1"), ("2", "0")]), raw_levels([]))
    assert (top(book.bids), top(book.asks)) == ([("1", "1")], [])


@pytest.mark.parametrize(
    ("bids", "asks", "crossed"),
    [
        ([("10", "1")], [("11", "1")], False),
        ([("11", "1")], [("11.00", "1")], True),
        ([("12", "1")], [("11", "1")], True),
        ([], [("11", "1")], False),
        ([("10", "1")], [], False),
        ([("92233720368.54775806", "1")], [("92233720368.54775807", "1")], False),
    ],
)
def test_crossed_book(bids: Levels, asks: Levels, crossed: bool) -> None:
    book = OrderBook()
    book.replace(raw_levels(bids), raw_levels(asks))
    assert book.is_crossed() is crossed


@pytest.mark.parametrize(
    "level",
    [
        ("1", "-1"),
        ("0", "1"),
        ("-2", "1"),
        ("1", "0.000000001"),
        ("92233720368.54775808", "1"),
        ("1", "1e5"),
        ("1", "NaN"),
    ],
)
def test_a_level_the_book_cannot_hold_is_refused_as_it_is_applied(level: tuple[str, str]) -> None:
    book = OrderBook()
    apply(book, [("2", "1")], is_bid=True)
    with pytest.raises(ValueError, match="not Binance's numbers"):
        book.apply(raw_levels([("1", "5")]), raw_levels([("3", "1"), level]))
    # Nothing of the event is queued, and what was there is kept: the caller decides.
    assert (top(book.bids), top(book.asks)) == ([("2", "1")], [])


def test_a_snapshot_the_book_cannot_hold_leaves_the_book_empty() -> None:
    book = OrderBook()
    apply(book, [("1", "1")], is_bid=False)
    with pytest.raises(ValueError, match="not Binance's numbers"):
        book.replace(raw_levels([("2", "1"), ("3", "1.123456789")]), raw_levels([("4", "1")]))
    assert (top(book.bids), top(book.asks)) == ([], [])


@pytest.mark.parametrize("is_bid", [True, False])
def test_the_queue_grows_past_its_first_size(is_bid: bool) -> None:
    levels = [(str(price), "1") for price in range(1, 5_001)]
    side = side_with(levels[:10], levels[10:3_000], levels[3_000:], is_bid=is_bid)
    assert len(side) == 5_000
    assert top(side, 1) == ([("5000", "1")] if is_bid else [("1", "1")])


def naive_top(model: dict[int, int], n: int, *, is_bid: bool) -> Levels:
    ordered = sorted(model, reverse=is_bid)
    return [(_text(p), _text(model[p])) for p in ordered[:n]]


def _text(units: int) -> str:
    return format(Decimal(units).scaleb(-DECIMALS).normalize(), "f")


def _spelled(units: int, decimals: int) -> str:
    """``units`` written with ``decimals`` places (8 on spot, fewer on futures), if it can be."""
    whole, frac = divmod(units, 10**DECIMALS)
    places = f"{frac:08d}"
    if places[decimals:].strip("0"):
        decimals = DECIMALS
    return f"{whole}.{places[:decimals]}" if decimals else str(whole)


# Every number Binance can send: an int64 count of 1e-8, in any of its spellings.
amounts = st.one_of(
    st.integers(min_value=1, max_value=MAX_UNITS),
    st.integers(min_value=1, max_value=10**4).map(lambda n: n * 10**8),  # whole numbers
    st.sampled_from([1, MAX_UNITS - 1, MAX_UNITS]),
)
quantities = st.one_of(st.just(0), amounts)
spellings = st.integers(0, DECIMALS)
wide = st.lists(st.lists(st.tuples(amounts, quantities, spellings), max_size=30), max_size=40)
narrow = st.lists(  # few prices, changed again and again: every part boundary gets hit
    st.lists(st.tuples(st.integers(1, 12), quantities, spellings), max_size=12), max_size=40
)


@pytest.mark.parametrize(("prices", "head"), [(wide, HEAD_LEVELS), (wide, 3), (narrow, 2)])
@settings(max_examples=300, deadline=None)
@given(data=st.data(), is_bid=st.booleans(), reads=st.lists(st.integers(0, 3), max_size=40))
def test_top_levels_match_a_naive_book(
    prices: st.SearchStrategy[list[list[tuple[int, int, int]]]],
    head: int,
    data: st.DataObject,
    is_bid: bool,
    reads: list[int],
) -> None:
    """Exact text in, integers inside, the same exact decimals out, over the whole domain;
    reading after only some batches merges several at once, which must not change the result.
    Small heads make samples rebuild them, and their tails take changes in between."""
    batches = data.draw(prices)
    book = OrderBook(head)
    side = book.bids if is_bid else book.asks
    model: dict[int, int] = {}
    for i, batch in enumerate(batches):
        apply(book, [(_spelled(p, d), _spelled(q, d)) for p, q, d in batch], is_bid=is_bid)
        for price, qty, _ in batch:
            if qty:
                model[price] = qty
            else:
                model.pop(price, None)
        depth = reads[i] if i < len(reads) else 3  # 0: no read; 1, 2: shallow ones only
        expected = naive_top(model, 20, is_bid=is_bid)
        for n in (1, 3, 20)[:depth]:
            assert top(side, n) == expected[:n]
        if depth == 3:
            assert side.best_price() == ((max if is_bid else min)(model) if model else None)
            assert len(side) == len(model)
