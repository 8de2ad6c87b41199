"""The live panel on a terminal: one screen, redrawn about once a second, on stderr.

A header holds the run's totals, wrapped to the terminal's width; below, one row per symbol,
the ones that are not live first (resyncing, then syncing), then the rest in symbol order, cut
to the terminal's height with a "+N more" line, so 1,500 symbols stay readable. Log records go
through the same rich console (``RichHandler``), which prints them above the panel instead of
tearing it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from recorder.observe.summary import Observed, Summary, format_delay, summarize
from recorder.read.render import human_bytes
from recorder.runstats import SymbolState

REFRESH_S = 1.0
_ORDER = {SymbolState.RESYNCING: 0, SymbolState.SYNCING: 1, SymbolState.LIVE: 2}
_STYLE = {
    SymbolState.RESYNCING: "bold yellow",
    SymbolState.SYNCING: "cyan",
    SymbolState.LIVE: "green",
}
_TABLE_LINES = 3
"""The table's header and rule, and one line left for the cursor."""


class EventRates:
    """Events per second of each symbol between two readings."""

    def __init__(self) -> None:
        self.per_s: dict[str, float] = {}
        self._events: dict[str, int] = {}
        self._at_s: float | None = None

    def update(self, events: Mapping[str, int], now_s: float) -> None:
        if self._at_s is not None and now_s > self._at_s:
            elapsed = now_s - self._at_s
            self.per_s = {s: (n - self._events.get(s, 0)) / elapsed for s, n in events.items()}
        self._events = dict(events)
        self._at_s = now_s


def render_panel(
    observed: Observed, rates: Mapping[str, float], now_s: float, console: Console
) -> RenderableType:
    """The whole panel, fitted to the console's size."""
    summary = summarize(observed)
    header = _header(observed, summary, now_s)
    if not summary.ready:
        return header
    width, height = console.size
    order = sorted(
        observed.symbols, key=lambda s: (_ORDER[summary.not_live.get(s, SymbolState.LIVE)], s)
    )
    room = max(1, height - len(header.wrap(console, width)) - _TABLE_LINES)
    shown = order if len(order) <= room else order[: room - 1]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("symbol", no_wrap=True)
    table.add_column("state", no_wrap=True)
    for name in ("events/s", "lag", "stored (UTC)", "resyncs", "gaps"):
        table.add_column(name, justify="right", no_wrap=True)
    for symbol in shown:
        stats = observed.stats[symbol]
        state = summary.not_live.get(symbol, SymbolState.LIVE)
        rate = rates.get(symbol)
        table.add_row(
            symbol,
            Text(state.value, style=_STYLE[state]),
            "-" if rate is None else f"{rate:.1f}",
            "-" if stats.lag_ms is None else f"{stats.lag_ms} ms",
            "-" if stats.last_stored_s is None else _clock(stats.last_stored_s),
            str(observed.syncs[symbol].resyncs),
            f"{stats.gaps} ({stats.gap_seconds} s)" if stats.gaps else "0",
        )
    if len(shown) == len(order):
        return Group(header, table)
    hidden = order[len(shown) :]
    hidden_live = sum(1 for s in hidden if s not in summary.not_live)
    more = f"+{len(hidden)} more ({hidden_live} live, {len(hidden) - hidden_live} not live)"
    return Group(header, table, Text(more, style="dim"))


def _header(observed: Observed, summary: Summary, now_s: float) -> Text:
    """The run's totals as " · "-separated items, wrapped to the terminal's width."""
    if not summary.ready:
        return Text("obrec record: starting (checking the symbols, opening the store)")
    totals = observed.totals
    last = totals.last_write_s
    written = f"{summary.snapshots_written:,} snapshots written"
    if last is not None:
        written += f" (last {max(0.0, now_s - last):.1f} s ago)"
    disk = observed.disk_bytes()
    exchange = "-" if totals.exchange_used_weight_1m is None else totals.exchange_used_weight_1m
    items = (
        f"{summary.live}/{summary.symbols} live",
        f"up {_duration(now_s - summary.started_s)}",
        written,
        f"p99 delay {format_delay(summary.p99_delay_s)}",
        f"disk {'-' if disk is None else human_bytes(disk)}",
        f"gaps {summary.gaps} ({summary.gap_seconds} s)",
        f"resyncs {summary.resyncs}",
        f"reconnects {totals.reconnects}",
        f"rollovers {totals.rollovers}",
        f"malformed frames {totals.malformed_frames}",
        f"REST weight {totals.rest_weight:,} (exchange 1m: {exchange})",
    )
    header = Text("obrec record: ", style="bold")
    header.append(" · ".join(items))
    return header


def _clock(ts_s: int) -> str:
    return datetime.fromtimestamp(ts_s, UTC).strftime("%H:%M:%S")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


async def show_panel(
    observed: Observed,
    console: Console,
) -> None:
    """Redraw until cancelled; the last frame stays on the screen."""
    rates = EventRates()

    def frame() -> RenderableType:
        rates.update({s: observed.stats[s].events for s in observed.symbols}, time.monotonic())
        return render_panel(observed, rates.per_s, time.time(), console)

    with Live(frame(), console=console, auto_refresh=False, redirect_stdout=False) as live:
        try:
            while True:
                await asyncio.sleep(REFRESH_S)
                live.update(frame(), refresh=True)
        finally:
            live.update(frame(), refresh=True)


def panel_log_handler(console: Console) -> logging.Handler:
    """Log records printed by the panel's console, above the panel."""
    handler = RichHandler(
        console=console, show_path=False, markup=False, rich_tracebacks=False, log_time_format="%X"
    )
    handler.setFormatter(logging.Formatter("%(message)s"))  # RichHandler shows time and level
    return handler
