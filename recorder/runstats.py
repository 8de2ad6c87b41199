"""What a recording run has done so far: plain counters the recorder bumps and observers poll.

The live panel, log lines, Prometheus metrics, ``/healthz`` and the systemd watchdog all read
these at their own pace; none of them is called from the hot path, so watching costs nothing
when nobody looks. Pure: no clock, no I/O (the recorder passes times in).
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum


class SymbolState(Enum):
    SYNCING = "syncing"
    """Never in sync yet in this run."""
    LIVE = "live"
    RESYNCING = "resyncing"
    """Was live, lost the book (gap, disconnect, bad level) and is syncing again."""


@dataclass(slots=True)
class RunStats:
    """One symbol in this run."""

    events: int = 0
    """Depth updates received (including ones buffered or ignored as duplicates)."""
    snapshots: int = 0
    """Seconds stored (less any later invalidated)."""
    last_stored_s: int | None = None
    last_event_time_ms: int = 0
    """Exchange time ``E`` of the last update received."""
    last_recv_ms: int = 0
    """Local receive time of that update; ``last_recv_ms - last_event_time_ms`` is the lag."""
    gaps: int = 0
    gap_seconds: int = 0

    @property
    def lag_ms(self) -> int | None:
        """Receipt minus exchange time of the last update (clock offset included)."""
        return self.last_recv_ms - self.last_event_time_ms if self.last_recv_ms else None


@dataclass(slots=True)
class Histogram:
    """Cumulative-bucket counts in Prometheus's shape, so an exporter can copy them as they are.

    Hand-written because the core must not depend on the optional prometheus-client extra, and
    the recorder needs a quantile for its own logs and benchmarks.
    """

    bounds: tuple[float, ...]
    """Upper bounds, ascending; values above the last one count only in ``count``."""
    counts: list[int] = field(init=False)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.bounds)

    def observe(self, value: float, n: int = 1) -> None:
        index = bisect.bisect_left(self.bounds, value)
        if index < len(self.counts):
            self.counts[index] += n
        self.total += value * n
        self.count += n

    def cumulative(self) -> list[int]:
        """Observations at or below each bound (Prometheus ``le`` buckets, without +Inf)."""
        out, running = [], 0
        for n in self.counts:
            running += n
            out.append(running)
        return out

    def quantile(self, q: float) -> float | None:
        """The smallest bound with at least ``q`` of observations at or below it; ``inf`` when
        the quantile lies above the last bound; None before any observation."""
        if not self.count:
            return None
        rank = q * self.count
        for bound, at_or_below in zip(self.bounds, self.cumulative(), strict=True):
            if at_or_below >= rank:
                return bound
        return float("inf")


WRITE_SECONDS_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
DELAY_SECONDS_BOUNDS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 5.0, 10.0, 30.0)


@dataclass(slots=True)
class RunTotals:
    """The whole run."""

    started_s: float = 0.0
    malformed_frames: int = 0
    reconnects: int = 0
    rollovers: int = 0
    """Connections replaced before they closed (age limit or ``serverShutdown``), without a gap."""
    rest_requests: int = 0
    rest_weight: int = 0
    """Request weight this run has spent."""
    exchange_used_weight_1m: int | None = None
    """The exchange's own count for this IP in the current minute (``X-MBX-USED-WEIGHT-1M``)."""
    weight_waits: int = 0
    """Times the exchange's count neared its limit and every REST call waited for its window."""
    rate_limited: int = 0
    """429 and 418 answers."""
    gaps_by_reason: Counter[str] = field(default_factory=Counter)
    gap_seconds_by_reason: Counter[str] = field(default_factory=Counter)
    snapshots_written: int = 0
    last_write_s: float | None = None
    """Wall time of the last batch that stored at least one snapshot."""
    write_seconds: Histogram = field(default_factory=lambda: Histogram(WRITE_SECONDS_BOUNDS))
    """Duration of each RocksDB batch write."""
    snapshot_delay_seconds: Histogram = field(
        default_factory=lambda: Histogram(DELAY_SECONDS_BOUNDS)
    )
    """From the end of a second to its snapshot being written (readable)."""
    ship_hours_waiting: dict[str, int] | None = None
    """With ``--ship-to``: per symbol, final hours not yet in the lake (None: not shipping)."""
    ship_hours_shipped: int = 0
