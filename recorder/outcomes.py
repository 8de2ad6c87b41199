"""What the recorder does with the sync machines' outcomes: outcomes in, writes and counters out.

``Outcomes.handle`` is the one dispatch over the closed set ``book.sync.Outcome``, a ``match``
ending in ``assert_never``, so that mypy refuses a new outcome type nobody handles. Snapshots
are encoded at once and queued for the next batch (identical consecutive quiet seconds reuse one
encoding); ``Invalidate`` drops queued values of the symbol from that second on and deletes the
stored ones; ``Gap`` becomes a ``meta`` record; ``RequestSnapshot`` goes to the snapshot
workers. Pure apart from logging: no clock (``written`` is told the times), no I/O (``app.py``
writes what ``take`` returns).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import assert_never

from recorder.book.snapshot import Sample
from recorder.book.sync import Gap, Invalidate, Outcome, RequestSnapshot, Synced
from recorder.runstats import RunStats, RunTotals
from recorder.storage.codec import encode
from recorder.storage.layout import GapRecord, PendingWrites

log = logging.getLogger("obrec")


class Outcomes:
    """Turns outcomes into the next batch and the run's counters."""

    def __init__(
        self,
        stats: dict[str, RunStats],
        totals: RunTotals,
        request: Callable[[RequestSnapshot], None],
    ) -> None:
        self.stats = stats
        """Per-symbol counters, shared with the recorder (it fills the dict per symbol)."""
        self.totals = totals
        self.pending = PendingWrites()
        self._request = request
        self._last_encoded: tuple[object, object, int, bytes] | None = None

    def handle(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            match outcome:
                case Sample():
                    self._store_snapshot(outcome)
                case RequestSnapshot():
                    self._request(outcome)
                case Invalidate():
                    self._invalidate(outcome)
                case Gap():
                    self._record_gap(outcome)
                case Synced():
                    log.info("%s in sync from update id %d", outcome.symbol, outcome.update_id)
                case _:
                    assert_never(outcome)

    def take(self) -> PendingWrites:
        """What was gathered since the last call, for one batch; starts a new one."""
        pending, self.pending = self.pending, PendingWrites()
        return pending

    def written(self, pending: PendingWrites, *, took_s: float, now_s: float) -> None:
        """Count a batch written at ``now_s`` after ``took_s`` seconds of writing."""
        totals = self.totals
        totals.write_seconds.observe(took_s)
        if pending.snapshots:
            totals.last_write_s = now_s
            totals.snapshots_written += pending.snapshots
            delays = totals.snapshot_delay_seconds
            for ts_s in pending.snapshot_seconds():  # a second ends at ts_s + 1
                delays.observe(now_s - ts_s - 1)

    def _store_snapshot(self, snap: Sample) -> None:
        last = self._last_encoded
        if (
            last is not None
            and last[0] is snap.bid_prices
            and last[1] is snap.ask_prices
            and last[2] == snap.update_id
        ):
            value = last[3]  # the same book over several quiet seconds
        else:
            value = encode(snap)
            self._last_encoded = (snap.bid_prices, snap.ask_prices, snap.update_id, value)
        self.pending.put_snapshot(snap.symbol, snap.ts_s, value)
        stats = self.stats[snap.symbol]
        stats.snapshots += 1
        stats.last_stored_s = snap.ts_s

    def _invalidate(self, outcome: Invalidate) -> None:
        self.pending.invalidate(outcome.symbol, outcome.from_s)
        stats = self.stats[outcome.symbol]
        if stats.last_stored_s is not None and stats.last_stored_s >= outcome.from_s:
            # Finalisation is contiguous, so every second from from_s to last_stored_s was stored.
            stats.snapshots -= stats.last_stored_s - outcome.from_s + 1
            stats.last_stored_s = outcome.from_s - 1
        log.info("%s: seconds from %d invalidated", outcome.symbol, outcome.from_s)

    def _record_gap(self, gap: Gap) -> None:
        reason = gap.reason.value
        self.pending.record_gap(GapRecord(gap.symbol, gap.from_s, gap.to_s, reason))
        seconds = gap.to_s - gap.from_s + 1
        stats = self.stats[gap.symbol]
        stats.gaps += 1
        stats.gap_seconds += seconds
        self.totals.gaps_by_reason[reason] += 1
        self.totals.gap_seconds_by_reason[reason] += seconds
        log.info(
            "%s: no snapshots for %d s (%s), seconds %d..%d",
            gap.symbol,
            seconds,
            reason,
            gap.from_s,
            gap.to_s,
        )
