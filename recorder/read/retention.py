"""Retention: delete snapshots and metadata older than a cut-off and give the disk space back.

Used by ``obrec prune`` (the recorder must not be running: RocksDB has one writer) and by
``obrec record --retain`` (inside the running recorder, from a worker thread). Deletion is one
``delete_range`` per symbol, then a compaction of exactly those ranges, so the space really
returns. Gap records that end before the cut-off go too; one that straddles it is trimmed.
``prune`` is the whole of ``obrec prune`` as one call: open the directory for writing, plan, and
apply unless asked for a dry run.

A database that ships to a lake (docs/lake.md) keeps, per symbol, everything from the first
second not yet shipped (``storage/shipmarks.py``), whatever the cut-off, unless told otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from recorder.errors import UsageError
from recorder.storage.layout import GapRecord, PendingWrites
from recorder.storage.shipmarks import unshipped_from
from recorder.storage.store import Store

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(text: str, *, option: str) -> int:
    """``"7d"`` -> seconds; UsageError naming ``option`` otherwise."""
    match = _DURATION.match(text.strip())
    if not match or int(match[1]) == 0:
        raise UsageError(f"{option} {text!r} is not a duration; use e.g. 7d, 12h or 30m")
    return int(match[1]) * _UNIT_S[match[2]]


@dataclass(frozen=True, slots=True)
class PrunePlan:
    cutoff_s: int
    """Everything before this second goes."""
    snapshots: dict[str, int]
    gap_deletes: list[GapRecord] = field(default_factory=list)
    gap_puts: list[GapRecord] = field(default_factory=list)
    """The recent parts of gaps that straddle the cut-off."""
    session_deletes: list[int] = field(default_factory=list)
    """Start seconds of sessions that ended before the cut-off."""
    held: dict[str, int] = field(default_factory=dict)
    """Symbols whose cut-off was lowered to this second: what follows is not shipped yet."""

    def cutoff_for(self, symbol: str) -> int:
        return self.held.get(symbol, self.cutoff_s)

    @property
    def total(self) -> int:
        return sum(self.snapshots.values())


@dataclass(frozen=True, slots=True)
class PruneResult:
    plan: PrunePlan
    reclaimed_bytes: int | None
    """Table bytes given back; None for a dry run, which changes nothing."""


def plan_prune(
    store: Store,
    cutoff_s: int,
    symbols: Sequence[str] | None = None,
    *,
    keep_from: Mapping[str, int] | None = None,
) -> PrunePlan:
    """What a prune at ``cutoff_s`` would delete (counts every snapshot; changes nothing).
    ``keep_from`` lowers the cut-off of some symbols (their unshipped seconds)."""
    gaps = store.gaps()
    chosen = list(symbols) if symbols is not None else store.symbols()
    held = {s: t for s, t in (keep_from or {}).items() if t < cutoff_s}
    plan = PrunePlan(cutoff_s, {}, held=held)
    plan.snapshots.update({s: store.count(s, 0, plan.cutoff_for(s) - 1) for s in chosen})
    for gap in gaps:
        cut_s = plan.cutoff_for(gap.symbol)
        if (symbols is not None and gap.symbol not in symbols) or gap.from_s >= cut_s:
            continue
        plan.gap_deletes.append(gap)
        if gap.to_s >= cut_s:  # straddles the cut-off: keep its recent part
            plan.gap_puts.append(GapRecord(gap.symbol, cut_s, gap.to_s, gap.reason))
    if symbols is None:
        for session in store.sessions():
            end_s = session.doc.get("end")
            if end_s is not None and end_s < cutoff_s:
                plan.session_deletes.append(session.start_s)
    return plan


def apply_prune(store: Store, plan: PrunePlan, *, compact: bool = True) -> int:
    """Delete what ``plan`` says; returns table bytes reclaimed so far (>= 0).

    With ``compact``, one symbol at a time: its range tombstone is flushed alone and only its
    range is compacted, so RocksDB rewrites little beyond the files it drops (a tombstone file
    spanning several symbols would drag every file in between into the compaction). A running
    recorder passes ``compact=False``: its memtable holds recent keys of every symbol, so any
    manual compaction would rewrite nearly everything; the background compactions reclaim the
    space as they reach the tombstones instead.
    """
    before = store.table_bytes()
    meta = PendingWrites()
    for gap in plan.gap_deletes:
        meta.delete_gap(gap)
    for start_s in plan.session_deletes:
        meta.delete_session(start_s)
    for gap in plan.gap_puts:
        meta.record_gap(gap)
    store.write(meta)
    for symbol in plan.snapshots:
        snapshots = PendingWrites()
        snapshots.delete_before(symbol, plan.cutoff_for(symbol))
        store.write(snapshots)
        if compact:
            store.compact_symbol(symbol, before_s=plan.cutoff_for(symbol))
    return max(0, before - store.table_bytes())


def prune(
    db_path: Path,
    cutoff_s: int,
    symbols: Sequence[str] | None = None,
    *,
    dry_run: bool = False,
    unshipped: bool = False,
) -> PruneResult:
    """Delete what is older than ``cutoff_s`` (of ``symbols``, or of all) from the directory
    at ``db_path`` and compact it; the recorder must not be running (``DatabaseLockedError``).
    Seconds due to be shipped to a lake and not shipped yet are kept unless ``unshipped``."""
    with Store.open_writer(db_path, create=False) as store:
        keep_from = None if unshipped else unshipped_from(db_path)
        plan = plan_prune(store, cutoff_s, symbols, keep_from=keep_from)
        return PruneResult(plan, None if dry_run else apply_prune(store, plan))
