"""Retention: delete snapshots and metadata older than a cut-off and give the disk space back.

Used by ``obrec prune`` (the recorder must not be running: RocksDB has one writer) and by
``obrec record --retain`` (inside the running recorder, from a worker thread). Deletion is one
``delete_range`` per symbol, then a compaction of exactly those ranges, so the space really
returns. Gap records that end before the cut-off go too; one that straddles it is trimmed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from recorder.errors import UsageError
from recorder.storage.codec import snapshot_key
from recorder.storage.store import SESSION_PREFIX, PendingWrites, Store, gap_entry, gap_key

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
    gap_deletes: list[bytes] = field(default_factory=list)
    gap_puts: list[tuple[bytes, bytes]] = field(default_factory=list)
    session_deletes: list[bytes] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.snapshots.values())


def plan_prune(store: Store, cutoff_s: int, symbols: Sequence[str] | None = None) -> PrunePlan:
    """What a prune at ``cutoff_s`` would delete (counts every snapshot; changes nothing)."""
    gaps = store.gaps()
    chosen = list(symbols) if symbols is not None else store.symbols()
    counts = {s: store.count(s, 0, cutoff_s - 1) for s in chosen}
    plan = PrunePlan(cutoff_s, counts)
    for gap in gaps:
        if (symbols is not None and gap.symbol not in symbols) or gap.from_s >= cutoff_s:
            continue
        plan.gap_deletes.append(gap_key(gap.symbol, gap.from_s))
        if gap.to_s >= cutoff_s:  # straddles the cut-off: keep its recent part
            plan.gap_puts.append(gap_entry(gap.symbol, cutoff_s, gap.to_s, gap.reason))
    if symbols is None:
        for key, session in store.meta_items(SESSION_PREFIX):
            if session.get("end") is not None and session["end"] < cutoff_s:
                plan.session_deletes.append(key)
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
    store.write(
        PendingWrites(meta_deletes=plan.gap_deletes + plan.session_deletes, meta_puts=plan.gap_puts)
    )
    for symbol in plan.snapshots:
        begin, end = snapshot_key(symbol, 0), snapshot_key(symbol, plan.cutoff_s)
        store.write(PendingWrites(delete_ranges=[(begin, end)]))
        if compact:
            store.flush()
            store.compact(begin, end)
    return max(0, before - store.table_bytes())
