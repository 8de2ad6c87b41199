"""Folding snapshots into chart columns, and drawing them, in process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recorder.book.snapshot import Level
from recorder.cli.common import error_message
from recorder.errors import UsageError
from recorder.read import Database
from recorder.read.plot import (
    MAX_COLUMNS,
    MAX_ROWS,
    PlotFormat,
    assets,
    bin_book,
    chart,
    load,
    save,
)
from recorder.storage.codec import Columns, decode_columns
from tests.helpers import encoded
from tests.unit.test_database import book, write_store


def columns(bids: list[Level], asks: list[Level]) -> Columns:
    """What Database.columns yields for this book: encoded and decoded by the real codec."""
    return decode_columns(encoded(0, 0, 0, bids, asks))


def simple(bid: str, ask: str, qty: str = "1") -> Columns:
    return columns([(bid, qty)], [(ask, qty)])


def test_a_gap_stays_empty_and_is_not_interpolated() -> None:
    stored = [s for s in range(100, 110) if not 103 <= s <= 105]
    image = bin_book("BTCUSDT", [(s, simple(f"{s}", f"{s + 1}")) for s in stored], 100, 109)
    assert (image.bin_s, image.columns, image.snapshots) == (1, 10, 7)
    assert list(image.time_edges_s) == list(range(100, 111))
    expected = [s + 0.5 if s in stored else np.nan for s in range(100, 110)]
    np.testing.assert_array_equal(image.mid, expected)
    np.testing.assert_array_equal(
        image.spread, [1 if s in stored else np.nan for s in range(100, 110)]
    )
    for cells in (image.bid_qty, image.ask_qty):
        assert np.isnan(cells[:, 3:6]).all()
        assert (np.isfinite(cells).sum(axis=0)[[0, 1, 2, 6, 7, 8, 9]] == 1).all()


def test_long_windows_fold_into_at_most_max_columns_of_means() -> None:
    rows = [
        (s, simple("10", "12", "1" if s % 2 else "3")) for s in [*range(10), *range(9990, 10000)]
    ]
    image = bin_book("BTCUSDT", rows, 0, 9999)
    assert image.bin_s == 5
    assert image.columns == MAX_COLUMNS
    assert image.time_edges_s[-1] == 10_000
    finite = np.flatnonzero(np.isfinite(image.mid))
    assert list(finite) == [0, 1, MAX_COLUMNS - 2, MAX_COLUMNS - 1]
    assert image.mid[0] == 11
    # Column 0 holds seconds 0..4: quantities 3, 1, 3, 1, 3 at each price -> 2.2 per second.
    bid_row = int(np.flatnonzero(np.isfinite(image.bid_qty[:, 0]))[0])
    assert image.bid_qty[bid_row, 0] == pytest.approx(2.2)
    assert np.isnan(image.bid_qty[:, 2:-2]).all()


def test_a_price_absent_in_some_seconds_counts_as_zero_there() -> None:
    with_level = columns([("10", "1"), ("9", "4")], [("11", "1")])
    without = columns([("10", "1")], [("11", "1")])
    image = bin_book("BTCUSDT", [(0, with_level), (1, without)], 0, 3999)
    assert image.bin_s == 2
    rows = image.price_edges
    nine = int(np.searchsorted(rows, 9)) - 1
    assert image.bid_qty[nine, 0] == 2  # 4 in one of the two stored seconds


def test_rows_are_whole_ticks_and_at_most_max_rows() -> None:
    fine = bin_book("X", [(0, simple("100.01", "100.02")), (1, simple("100.00", "100.05"))], 0, 1)
    assert np.diff(fine.price_edges) == pytest.approx(0.01)
    assert fine.price_edges[0] == pytest.approx(99.995)
    wide = bin_book("X", [(0, simple("100.00", "100.01")), (1, simple("190", "200"))], 0, 1)
    assert len(wide.price_edges) - 1 <= MAX_ROWS + 1
    steps = np.diff(wide.price_edges) / 0.01
    assert steps == pytest.approx(np.round(steps))  # a whole number of ticks per row


def test_levels_limits_the_heatmap_to_the_best_n() -> None:
    deep = columns([("10", "1"), ("9", "1"), ("8", "1")], [("11", "1"), ("12", "1")])
    image = bin_book("BTCUSDT", [(0, deep)], 0, 0, levels=1)
    assert np.isfinite(image.bid_qty).sum() == 1
    assert np.isfinite(image.ask_qty).sum() == 1
    assert image.price_edges[0] == pytest.approx(9.5)


def test_a_one_sided_book_has_no_mid_but_still_its_levels() -> None:
    image = bin_book("BTCUSDT", [(0, columns([("10", "1")], []))], 0, 0)
    assert np.isnan(image.mid).all()
    assert np.isfinite(image.bid_qty).sum() == 1


def test_no_snapshots_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no snapshots"):
        bin_book("BTCUSDT", [], 0, 10)


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("BTCUSDT", ("BTC", "USDT")),
        ("ETHBTC", ("ETH", "BTC")),
        ("BTCFDUSD", ("BTC", "FDUSD")),
        ("USDT", ("base units", "quote units")),
        ("ABCXYZ", ("base units", "quote units")),
    ],
)
def test_assets_give_the_axis_units(symbol: str, expected: tuple[str, str]) -> None:
    assert assets(symbol) == expected


def test_load_trims_the_window_to_stored_seconds_and_keeps_the_gap(tmp_path: Path) -> None:
    seconds = [*range(100, 110), *range(115, 120)]
    write_store(tmp_path, {"BTCUSDT": {s: book(s) for s in seconds}})
    with Database.open(tmp_path) as db:
        image = load(db, "BTCUSDT", 0, 10**9)
        with pytest.raises(UsageError, match=r"stored: .* widen from_s/to_s") as info:
            load(db, "BTCUSDT", 0, 50)
    assert "widen --from/--to" in error_message(info.value)
    assert (image.from_s, image.to_s, image.columns) == (100, 119, 20)
    assert list(np.flatnonzero(np.isnan(image.mid))) == [10, 11, 12, 13, 14]
    assert image.mid[0] == pytest.approx(100.75)  # bids 100.5, asks 101


def test_chart_and_save_draw_without_warnings(tmp_path: Path) -> None:
    stored = [s for s in range(30) if s != 10]
    image = bin_book("BTCUSDT", [(s, simple(f"{100 + s}", f"{101 + s}")) for s in stored], 0, 29)
    assert len(chart(image).axes) == 5  # mid, spread, heatmap and its two colour bars
    for fmt in PlotFormat:
        target = tmp_path / f"chart.{fmt.value}"
        save(image, target, fmt)
        assert target.stat().st_size > 1000
