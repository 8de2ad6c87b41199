"""One reading of a running recorder, shared by the status line, systemd, health and the panel.

``Observed`` is what observers may read of a ``recorder.app.Recorder`` (tests pass a fake);
``summarize`` turns it into a frozen ``Summary`` in one pass over the symbols.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from recorder.runstats import DELAY_SECONDS_BOUNDS, RunStats, RunTotals, SymbolState


class _SyncCounters(Protocol):
    @property
    def resyncs(self) -> int: ...
    @property
    def changes(self) -> int: ...


class Observed(Protocol):
    """The parts of ``Recorder`` that observers read; every one is a plain attribute or a
    cheap method, safe to call from the event loop at any time."""

    @property
    def symbols(self) -> tuple[str, ...]: ...
    @property
    def stats(self) -> Mapping[str, RunStats]: ...
    @property
    def totals(self) -> RunTotals: ...
    @property
    def syncs(self) -> Mapping[str, _SyncCounters]: ...
    @property
    def ready(self) -> asyncio.Event: ...
    def state(self, symbol: str) -> SymbolState: ...
    def disk_bytes(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Summary:
    """The run at one moment, as the status line and the health rules see it."""

    ready: bool
    started_s: float
    """Wall time the store opened (0 before)."""
    symbols: int
    not_live: dict[str, SymbolState]
    """Symbols that are syncing or resyncing, in symbol order."""
    snapshots_written: int
    last_write_s: float | None
    gaps: int
    gap_seconds: int
    resyncs: int
    p99_delay_s: float | None
    """99th percentile of end-of-second to written (a bucket bound; inf above the last)."""

    @property
    def live(self) -> int:
        return self.symbols - len(self.not_live)

    def as_dict(self) -> dict[str, object]:
        """The fields a JSON log line or status document carries."""
        return {
            "symbols": self.symbols,
            "live": self.live,
            "snapshots_written": self.snapshots_written,
            "gaps": self.gaps,
            "gap_seconds": self.gap_seconds,
            "resyncs": self.resyncs,
            "p99_snapshot_delay_s": self.p99_delay_s,
        }


def summarize(observed: Observed) -> Summary:
    totals = observed.totals
    not_live: dict[str, SymbolState] = {}
    for symbol in observed.symbols:
        state = observed.state(symbol)
        if state is not SymbolState.LIVE:
            not_live[symbol] = state
    return Summary(
        ready=observed.ready.is_set(),
        started_s=totals.started_s,
        symbols=len(observed.symbols),
        not_live=not_live,
        snapshots_written=totals.snapshots_written,
        last_write_s=totals.last_write_s,
        gaps=sum(totals.gaps_by_reason.values()),
        gap_seconds=sum(totals.gap_seconds_by_reason.values()),
        resyncs=sum(sync.resyncs for sync in observed.syncs.values()),
        p99_delay_s=totals.snapshot_delay_seconds.quantile(0.99),
    )


def status_text(summary: Summary) -> str:
    """One short line: systemd's STATUS= and the periodic log line."""
    return (
        f"{summary.live}/{summary.symbols} live, {summary.snapshots_written:,} snapshots written, "
        f"{summary.gaps} gaps ({summary.gap_seconds} s), {summary.resyncs} resyncs, "
        f"p99 snapshot delay {format_delay(summary.p99_delay_s)}"
    )


def format_delay(delay_s: float | None) -> str:
    """A histogram quantile for people: ``-`` before any, ``>30 s`` above the last bucket."""
    if delay_s is None:
        return "-"
    if delay_s == float("inf"):
        return f">{DELAY_SECONDS_BOUNDS[-1]:g} s"
    return f"{delay_s:g} s"
