"""Charts of a window of snapshots (the ``plot`` extra): mid price, spread and a depth heatmap.

Two steps, so each can be used and tested alone:

- ``bin_book`` (pure numpy) folds snapshots into at most ``MAX_COLUMNS`` time columns of
  ``bin_s`` seconds each. A column is the mean over the snapshots stored in it; a column with
  none stays NaN, so a gap in the recording is a gap in the chart, never a line drawn across it.
  Heatmap cells hold the mean quantity per stored second resting at that price.
- ``chart`` draws a ``BookImage`` on a matplotlib ``Figure`` with the Agg canvas (no pyplot, no
  window, safe in servers and tests); ``save`` writes it as PNG or SVG.

Levels are read as exact integer columns (``Database.columns``) and become floats only here,
for drawing. Memory stays bounded on long windows: each chunk of snapshots is reduced to one
entry per (column, price) before the next is read. numpy and matplotlib are imported at the
top: callers check the extra first (``extras.require(PLOT)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from recorder.errors import UsageError
from recorder.read.database import Database
from recorder.storage.codec import Columns
from recorder.timeparse import format_time

if TYPE_CHECKING:
    import numpy.typing as npt
    from matplotlib.axes import Axes

    Floats = npt.NDArray[np.float64]
    Ints = npt.NDArray[np.int64]

MAX_COLUMNS = 2000
"""Time columns at most: wide enough for a 2,400-pixel chart, small enough to draw at once."""
MAX_ROWS = 300
"""Price rows at most in the heatmap; fewer when the prices span fewer ticks."""
CHUNK = 4096
"""Snapshots gathered before they are reduced to (column, price) sums."""
DECIMALS = 10
"""Means are rounded to this many decimals: past Binance's 8, within a float's precision."""
QUOTES = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "DAI", "BTC", "ETH", "BNB", "EUR", "TRY")
"""Quote assets recognised in symbols, for axis units; others are labelled generically."""


class PlotFormat(Enum):
    PNG = "png"
    SVG = "svg"


@dataclass(frozen=True, slots=True)
class BookImage:
    """A window folded into time columns: what ``chart`` draws."""

    symbol: str
    from_s: int
    to_s: int
    bin_s: int
    snapshots: int
    time_edges_s: Ints
    """Column boundaries (columns + 1), unix seconds; the last is ``to_s + 1``."""
    mid: Floats
    """Mean mid price per column; NaN where no snapshot (or no two-sided book) was stored."""
    spread: Floats
    price_edges: Floats
    """Heatmap row boundaries (rows + 1), ascending prices."""
    bid_qty: Floats
    """(rows, columns) mean quantity per stored second; NaN where nothing rested."""
    ask_qty: Floats

    @property
    def columns(self) -> int:
        return len(self.mid)


def load(
    db: Database,
    symbol: str,
    from_s: int,
    to_s: int,
    levels: int | None = None,
    *,
    skip_corrupt: bool = False,
) -> BookImage:
    """The window as a ``BookImage``, its time axis trimmed to the seconds actually stored
    (so ``from_s=0`` does not squeeze the data into one column)."""
    db.require_symbol(symbol)
    span = db.span(symbol, from_s, to_s)
    if span is None:
        first_s, last_s = db.span(symbol) or (0, 0)
        raise UsageError(
            f"no snapshots of {symbol} between {format_time(from_s)} and {format_time(to_s)} "
            f"(stored: {format_time(first_s)} to {format_time(last_s)}); "
            "widen {from_s}/{to_s}",
            parameters=("from_s", "to_s"),
        )
    rows = db.columns(symbol, span[0], span[1], skip_corrupt=skip_corrupt)
    return bin_book(symbol, rows, span[0], span[1], levels)


def bin_book(
    symbol: str,
    snapshots: Iterable[tuple[int, Columns]],
    from_s: int,
    to_s: int,
    levels: int | None = None,
) -> BookImage:
    """Fold ``(second, columns)`` pairs of the window ``from_s..to_s`` (oldest first) into
    columns; ``levels`` limits the levels per side in the heatmap (default: all stored).
    ``UsageError`` if there are none."""
    seconds = to_s - from_s + 1
    bin_s = -(-seconds // MAX_COLUMNS)
    folder = _Folder(from_s, bin_s, -(-seconds // bin_s), levels)
    for ts_s, columns in snapshots:
        folder.add(ts_s, columns)
    return folder.finish(symbol, to_s)


class _Folder:
    """Gathers snapshots in chunks and folds each chunk into per-column sums."""

    def __init__(self, from_s: int, bin_s: int, columns: int, levels: int | None) -> None:
        self.from_s, self.bin_s, self.levels = from_s, bin_s, levels
        self.count = np.zeros(columns, np.int64)
        self.two_sided = np.zeros(columns, np.int64)
        self.mid_sum = np.zeros(columns)
        self.spread_sum = np.zeros(columns)
        self.bids: list[tuple[Ints, Floats, Floats]] = []  # reduced (column, price, qty) runs
        self.asks: list[tuple[Ints, Floats, Floats]] = []
        self.min_tick = np.inf
        self._clear()

    def _clear(self) -> None:
        self.column: list[int] = []
        self.price_exp: list[int] = []
        self.qty_exp: list[int] = []
        self.n_bids: list[int] = []
        self.n_asks: list[int] = []
        self.bid_px: list[int] = []
        self.bid_qty: list[int] = []
        self.ask_px: list[int] = []
        self.ask_qty: list[int] = []

    def add(self, ts_s: int, c: Columns) -> None:
        n = self.levels
        bid_px, ask_px = c.bid_prices[:n], c.ask_prices[:n]
        self.column.append((ts_s - self.from_s) // self.bin_s)
        self.price_exp.append(c.price_exponent)
        self.qty_exp.append(c.qty_exponent)
        self.n_bids.append(len(bid_px))
        self.n_asks.append(len(ask_px))
        self.bid_px.extend(bid_px)
        self.bid_qty.extend(c.bid_qtys[:n])
        self.ask_px.extend(ask_px)
        self.ask_qty.extend(c.ask_qtys[:n])
        if len(self.column) == CHUNK:
            self._fold()

    def _fold(self) -> None:
        if not self.column:
            return
        column = np.array(self.column, np.int64)
        price_exp, qty_exp = np.array(self.price_exp), np.array(self.qty_exp)
        bests = []
        for runs, counts, mantissas, qty_mantissas in (
            (self.bids, self.n_bids, self.bid_px, self.bid_qty),
            (self.asks, self.n_asks, self.ask_px, self.ask_qty),
        ):
            n = np.array(counts, np.int64)
            prices = _scaled(mantissas, np.repeat(price_exp, n))
            qtys = _scaled(qty_mantissas, np.repeat(qty_exp, n))
            self._learn_tick(_level_steps(prices, n))
            runs.append(_reduce(np.repeat(column, n), prices, qtys))
            bests.append((n > 0, prices, _starts(n)))
        (has_bid, bid_px, bid_at), (has_ask, ask_px, ask_at) = bests
        two_sided = has_bid & has_ask
        best_bid, best_ask = bid_px[bid_at[two_sided]], ask_px[ask_at[two_sided]]
        self._learn_tick(best_ask - best_bid)
        at, size = column[two_sided], len(self.count)
        self.count += np.bincount(column, minlength=size)
        self.two_sided += np.bincount(at, minlength=size)
        self.mid_sum += np.bincount(at, weights=(best_bid + best_ask) / 2, minlength=size)
        self.spread_sum += np.bincount(at, weights=best_ask - best_bid, minlength=size)
        self._clear()

    def _learn_tick(self, steps: Floats) -> None:
        """Keep the smallest positive price step seen (between neighbouring levels, or across
        the spread): the heatmap's rows are whole ticks, so no row holds more levels than its
        neighbours."""
        steps = steps[steps > 0]
        if len(steps):
            self.min_tick = min(self.min_tick, float(steps.min()))

    def finish(self, symbol: str, to_s: int) -> BookImage:
        self._fold()
        if not self.count.any():
            raise UsageError(f"no snapshots of {symbol} in the window")
        bid_col, bid_px, bid_qty = _concat(self.bids)
        ask_col, ask_px, ask_qty = _concat(self.asks)
        prices = np.concatenate((bid_px, ask_px))
        low, high = (float(prices.min()), float(prices.max())) if len(prices) else (0.0, 0.0)
        tick = self.min_tick if np.isfinite(self.min_tick) else max(high - low, 1.0)
        ticks_per_row = max(1, int(np.ceil((high - low) / tick / MAX_ROWS)))
        rows = round((high - low) / tick) // ticks_per_row + 1
        row_h = tick * ticks_per_row
        price_edges = low - tick / 2 + np.arange(rows + 1, dtype=np.float64) * row_h
        per_second = np.where(self.count > 0, self.count, 1)

        def grid(column: Ints, price: Floats, qty: Floats) -> Floats:
            cells = np.zeros((rows, len(self.count)))
            row = np.rint((price - low) / tick).astype(np.int64) // ticks_per_row
            np.add.at(cells, (np.minimum(row, rows - 1), column), qty)
            return np.where(cells > 0, cells / per_second, np.nan)

        def mean(total: Floats) -> Floats:
            # Rounded so that a constant 0.01 spread is 0.01, not 0.0100000000002 on the axis.
            means = np.round(total / np.maximum(self.two_sided, 1), DECIMALS)
            return np.where(self.two_sided > 0, means, np.nan)

        edges = self.from_s + np.arange(len(self.count) + 1, dtype=np.int64) * self.bin_s
        edges[-1] = to_s + 1
        return BookImage(
            symbol=symbol,
            from_s=self.from_s,
            to_s=to_s,
            bin_s=self.bin_s,
            snapshots=int(self.count.sum()),
            time_edges_s=edges,
            mid=mean(self.mid_sum),
            spread=mean(self.spread_sum),
            price_edges=price_edges,
            bid_qty=grid(bid_col, bid_px, bid_qty),
            ask_qty=grid(ask_col, ask_px, ask_qty),
        )


def _scaled(mantissas: list[int], exponents: Ints) -> Floats:
    """``m * 10**e`` as the nearest float (dividing by an exact power of ten), so one price
    stored at two exponents becomes one float."""
    m = np.array(mantissas, np.float64)
    return np.where(exponents < 0, m / 10.0 ** -np.minimum(exponents, 0), m * 10.0**exponents)


def _starts(counts: Ints) -> Ints:
    """Index of each snapshot's first level in the flat level arrays."""
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def _level_steps(prices: Floats, counts: Ints) -> Floats:
    """Distances between neighbouring levels of the same snapshot."""
    same_snapshot = np.ones(len(prices), bool)
    same_snapshot[_starts(counts)[counts > 0]] = False
    steps: Floats = np.abs(np.diff(prices))[same_snapshot[1:]]
    return steps


def _reduce(column: Ints, price: Floats, qty: Floats) -> tuple[Ints, Floats, Floats]:
    """One entry per (column, price) with the summed quantity."""
    order = np.lexsort((price, column))
    column, price, qty = column[order], price[order], qty[order]
    first = np.ones(len(column), bool)
    first[1:] = (column[1:] != column[:-1]) | (price[1:] != price[:-1])
    starts = np.flatnonzero(first)
    if not len(starts):
        return column, price, qty
    return column[starts], price[starts], np.add.reduceat(qty, starts)


def _concat(runs: list[tuple[Ints, Floats, Floats]]) -> tuple[Ints, Floats, Floats]:
    return (
        np.concatenate([r[0] for r in runs]),
        np.concatenate([r[1] for r in runs]),
        np.concatenate([r[2] for r in runs]),
    )


# -- drawing ---------------------------------------------------------------------------------


def assets(symbol: str) -> tuple[str, str]:
    """(base, quote) for axis units: ``BTCUSDT`` -> ``("BTC", "USDT")``; generic if unknown."""
    for quote in QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return "base units", "quote units"


def chart(image: BookImage) -> Figure:
    """Mid price on top, spread below it, the depth heatmap at the bottom; shared UTC time axis."""
    base, quote = assets(image.symbol)
    fig = Figure(figsize=(16, 9), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(3, 3, height_ratios=(3, 1, 5), width_ratios=(1, 0.012, 0.012))
    ax_mid = fig.add_subplot(grid[0, 0])
    ax_spread = fig.add_subplot(grid[1, 0], sharex=ax_mid)
    ax_heat = fig.add_subplot(grid[2, 0], sharex=ax_mid)
    x = mdates.date2num(image.time_edges_s.astype("datetime64[s]"))  # type: ignore[no-untyped-call]

    ax_mid.stairs(image.mid, x, baseline=None, color="black", linewidth=1)
    ax_mid.set_ylabel(f"mid price ({quote})")
    mids = _finite_range(image.mid)
    if mids:  # a flat line gets a quarter of the book's span, not matplotlib's +-5 % of it
        margin = (mids[1] - mids[0]) * 0.05 or (image.price_edges[-1] - image.price_edges[0]) / 4
        ax_mid.set_ylim(mids[0] - margin, mids[1] + margin)
    ax_spread.stairs(image.spread, x, baseline=None, color="tab:purple", linewidth=1)
    ax_spread.set_ylabel(f"spread ({quote})")
    spreads = _finite_range(image.spread)
    ax_spread.set_ylim(0, spreads[1] * 1.15 if spreads and spreads[1] > 0 else 1)

    low, high = _finite_range(np.concatenate((image.bid_qty, image.ask_qty))) or (1.0, 10.0)
    norm = LogNorm(low, high if high > low else low * 10)
    extent = (x[0], x[-1], image.price_edges[0], image.price_edges[-1])
    for k, (side, cells, colours) in enumerate(
        (("bid", image.bid_qty, "Blues"), ("ask", image.ask_qty, "Reds"))
    ):
        # The palest tints are skipped: the smallest quantities stay visible on white.
        shown = ListedColormap(mpl.colormaps[colours](np.linspace(0.3, 1, 256)))
        heat = ax_heat.imshow(
            np.ma.masked_invalid(cells),
            extent=extent,
            origin="lower",
            aspect="auto",
            interpolation="nearest",
            cmap=shown,
            norm=norm,
        )
        bar = fig.colorbar(heat, cax=fig.add_subplot(grid[2, 1 + k]))
        bar.set_label(f"{side} qty ({base}), mean per second")
    ax_heat.stairs(image.mid, x, baseline=None, color="black", linewidth=0.6)
    ax_heat.set_ylabel(f"price ({quote})")
    ax_heat.set_xlabel("time (UTC)")

    locator = mdates.AutoDateLocator(tz="UTC")  # type: ignore[no-untyped-call]
    ax_heat.xaxis.set_major_locator(locator)
    concise = mdates.ConciseDateFormatter(locator, tz="UTC")  # type: ignore[no-untyped-call]
    ax_heat.xaxis.set_major_formatter(concise)
    ax_heat.set_xlim(x[0], x[-1])
    for ax in (ax_mid, ax_spread, ax_heat):
        _plain_numbers(ax)
    for ax in (ax_mid, ax_spread):
        ax.grid(True, color="0.9", linewidth=0.5)
        ax.tick_params(labelbottom=False)
    fig.suptitle(title(image), fontsize="large")
    ax_mid.set_title(
        f"{image.snapshots:,} snapshot(s), {image.bin_s:,} s per column "
        "(means; blank where nothing was stored)",
        fontsize="small",
        loc="right",
    )
    return fig


def title(image: BookImage) -> str:
    return f"{image.symbol}  {format_time(image.from_s)} to {format_time(image.to_s)} (UTC)"


def _finite_range(values: Floats) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if len(finite) else None


def _plain_numbers(ax: Axes) -> None:
    """Prices as 97123.5, not as 1e-2 + 9.71e4."""
    formatter = ScalarFormatter(useOffset=False)
    formatter.set_scientific(False)
    ax.yaxis.set_major_formatter(formatter)


def save(image: BookImage, path: Path, fmt: PlotFormat) -> None:
    """Draw ``image`` into ``path`` (the CLI passes an ``atomic_target``). SVG keeps its text
    as text: searchable and smaller."""
    with mpl.rc_context({"svg.fonttype": "none"}):
        chart(image).savefig(path, format=fmt.value, metadata={"Title": title(image)})
