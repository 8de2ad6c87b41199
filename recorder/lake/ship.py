"""Ship every final hour of a database to a lake, once, resumably; and say what is waiting.

``Shipper.ship`` is the whole of ``obrec ship`` (and of ``record --ship-to``, which calls it
again and again beside the recorder). Per symbol, oldest hour first: the hour's snapshots become
``part-0.parquet`` (written by the read side's ``write_partition``, as ``export --partition``
writes), its gap records ``_gaps.parquet``, each one PUT; then the symbol's state object in the
bucket moves past the hour, then the local marks prune reads (``storage/shipmarks.py``).

- Idempotent: object names are fixed by symbol and hour, and a final hour never changes, so a
  run killed between an upload and its state write uploads the same bytes again next time.
- Resumable: the state object says where to go on; any machine can read it (``--status``).
- Disjoint: a state object names the database that ships the symbol (host and path); another
  database shipping that symbol to the same prefix is refused before anything is uploaded.
- ``force`` re-ships every final hour still stored, each replaced whole (a gap file the hour no
  longer has is deleted).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from recorder.errors import LakeAccessError, LakeConflictError, LakeError
from recorder.lake.layout import (
    GAPS,
    HOUR_S,
    SNAPSHOTS,
    LakeUrl,
    due_hours,
    final_before,
)
from recorder.lake.objects import Endpoint, Objects
from recorder.read.database import Database
from recorder.read.export import write_partition
from recorder.storage.layout import MAX_TS_S, GapRecord
from recorder.storage.shipmarks import forget_marks, read_marks, write_marks

log = logging.getLogger("obrec")
GAP_SCHEMA = pa.schema([("from_ts", pa.int64()), ("to_ts", pa.int64()), ("reason", pa.string())])


@dataclass(frozen=True, slots=True)
class ShipRequest:
    db_path: Path
    url: LakeUrl
    endpoint: Endpoint = field(default_factory=Endpoint)
    symbols: tuple[str, ...] | None = None
    """None: every recorded symbol."""
    force: bool = False


@dataclass(frozen=True, slots=True)
class HourShipped:
    symbol: str
    hour_s: int
    rows: int
    gaps: int
    bytes: int


@dataclass(slots=True)
class SymbolPlan:
    symbol: str
    shipped_to_s: int
    """Every second below it is in the lake (0: nothing yet)."""
    hours: range
    """Final hours to ship now."""
    final_before_s: int
    """Seconds from here on may still change; their hours wait."""


@dataclass(slots=True)
class ShipReport:
    hours: int = 0
    rows: int = 0
    bytes: int = 0
    plans: list[SymbolPlan] = field(default_factory=list)


Progress = Callable[[HourShipped], None]


def owner_id(db_path: Path) -> str:
    """Who ships a symbol: this host and database directory."""
    return f"{socket.gethostname()}:{db_path.expanduser().resolve()}"


class Shipper:
    def __init__(self, request: ShipRequest) -> None:
        self.request = request
        self.objects = Objects(request.url, request.endpoint)
        self.owner = owner_id(request.db_path)

    @property
    def target(self) -> str:
        return str(self.request.url)

    def ship(
        self, progress: Progress | None = None, halt: threading.Event | None = None
    ) -> ShipReport:
        """Upload every final hour not shipped (all of them with ``force``); stops between
        hours once ``halt`` is set."""
        with Database.open(self.request.db_path) as db:
            # Taken on locally before the store is reached, so that prune keeps these symbols'
            # hours even while the store has never been reachable.
            local = read_marks(self.request.db_path).get(self.target, {})
            fresh = {s: 0 for s in self._symbols(db) if s not in local}
            if fresh:
                write_marks(self.request.db_path, self.target, fresh)
            market = db.market.value
            try:
                self.objects.check()
                plans = self._plans(db, market, check_owners=True)
            except (LakeAccessError, LakeConflictError):  # a mistaken target, not a lake
                forget_marks(self.request.db_path, self.target, fresh)
                raise
            write_marks(
                self.request.db_path, self.target, {p.symbol: p.shipped_to_s for p in plans}
            )
            report = ShipReport(plans=plans)
            for plan in plans:
                gaps = db.gaps(plan.symbol)
                for hour_s in plan.hours:
                    if halt is not None and halt.is_set():
                        return report
                    done = self._ship_hour(db, market, plan.symbol, hour_s, gaps)
                    plan.shipped_to_s = max(plan.shipped_to_s, hour_s + HOUR_S)
                    self._save(market, plan)
                    report.hours += 1
                    report.rows += done.rows
                    report.bytes += done.bytes
                    if progress is not None:
                        progress(done)
                plan.hours = range(0)
        return report

    def status(self) -> list[SymbolPlan]:
        """Per symbol: how far the lake has it and which final hours wait (reads the bucket)."""
        self.objects.check()
        with Database.open(self.request.db_path) as db:
            return self._plans(db, db.market.value, check_owners=False)

    def _plans(self, db: Database, market: str, *, check_owners: bool) -> list[SymbolPlan]:
        closed_end_s = _closed_end_s(db)
        plans = []
        for symbol in self._symbols(db):
            state = self._state(market, symbol)
            if check_owners and state and state.get("owner") != self.owner:
                raise LakeConflictError(
                    self.target,
                    f"{symbol} is shipped here by {state.get('owner')}; recorders share a prefix "
                    "only with disjoint symbols: ship other symbols or to another prefix",
                )
            shipped_to_s = int(state.get("shipped_to_s", 0)) if state else 0
            first_s, frontier_s = _extent(db, symbol, closed_end_s)
            from_s = 0 if self.request.force else shipped_to_s
            plans.append(
                SymbolPlan(symbol, shipped_to_s, due_hours(first_s, frontier_s, from_s), frontier_s)
            )
        return plans

    def _symbols(self, db: Database) -> tuple[str, ...]:
        for symbol in self.request.symbols or ():
            db.require_symbol(symbol)
        return self.request.symbols or tuple(db.symbols())

    def _state(self, market: str, symbol: str) -> dict[str, Any] | None:
        path = self.request.url.state_path(market, symbol)
        raw = self.objects.get(path)
        try:
            return None if raw is None else dict(orjson.loads(raw))
        except (orjson.JSONDecodeError, TypeError, ValueError):
            raise LakeError(
                self.target, f"{path} is not a state object; delete it and ship again"
            ) from None

    def _save(self, market: str, plan: SymbolPlan) -> None:
        doc = {
            "format": 1,
            "market": market,
            "symbol": plan.symbol,
            "owner": self.owner,
            "shipped_to_s": plan.shipped_to_s,
        }
        self.objects.put(self.request.url.state_path(market, plan.symbol), orjson.dumps(doc))
        write_marks(self.request.db_path, self.target, {plan.symbol: plan.shipped_to_s})

    def _ship_hour(
        self, db: Database, market: str, symbol: str, hour_s: int, gaps: list[GapRecord]
    ) -> HourShipped:
        folder = self.request.url.hour_dir(market, symbol, hour_s)
        end_s = hour_s + HOUR_S - 1
        sink = pa.BufferOutputStream()
        rows = write_partition(db, symbol, hour_s, end_s, sink)
        data = sink.getvalue().to_pybytes()
        clipped = [
            (max(g.from_s, hour_s), min(g.to_s, end_s), g.reason)
            for g in gaps
            if g.from_s <= end_s and g.to_s >= hour_s
        ]
        gap_data = _gap_parquet(clipped) if clipped else b""
        for name, payload in ((SNAPSHOTS, data), (GAPS, gap_data)):
            if payload:
                self.objects.put(f"{folder}/{name}", payload)
            elif self.request.force:  # replace the hour whole
                self.objects.delete(f"{folder}/{name}")
        log.info(
            "shipped %s: %d snapshot(s), %d gap record(s), %d bytes",
            folder.removeprefix(self.request.url.root + "/"),
            rows,
            len(clipped),
            len(data) + len(gap_data),
        )
        return HourShipped(symbol, hour_s, rows, len(clipped), len(data) + len(gap_data))


def _gap_parquet(gaps: list[tuple[int, int, str]]) -> bytes:
    table = pa.table(
        {
            "from_ts": pa.array([g[0] for g in gaps], pa.int64()),
            "to_ts": pa.array([g[1] for g in gaps], pa.int64()),
            "reason": pa.array([g[2] for g in gaps], pa.string()),
        },
        schema=GAP_SCHEMA,
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def waiting_hours(db: Database, db_path: Path, target: str) -> dict[str, int]:
    """Per symbol, final hours not shipped to ``target`` by the local marks: the lag, known
    without reaching the store (so it grows while the store is away)."""
    marks = read_marks(db_path).get(target, {})
    closed_end_s = _closed_end_s(db)
    out = {}
    for symbol, shipped_to_s in marks.items():
        if db.span(symbol) is not None:
            first_s, frontier_s = _extent(db, symbol, closed_end_s)
            out[symbol] = len(due_hours(first_s, frontier_s, shipped_to_s))
    return out


def _closed_end_s(db: Database) -> int | None:
    """The end of the newest session, if it ended (None while recording or after a crash)."""
    latest = max(db.sessions(), key=lambda doc: doc.get("start", 0), default={})
    end_s = latest.get("end")
    return None if end_s is None else int(end_s)


def _extent(db: Database, symbol: str, closed_end_s: int | None) -> tuple[int, int]:
    """(first second the symbol has, snapshot or gap; first second that may still change)."""
    span = db.span(symbol)
    assert span is not None
    newest = db.at(symbol, MAX_TS_S)
    frontier_s = final_before(newest.event_time_ms if newest else None, closed_end_s)
    return min([span[0]] + [g.from_s for g in db.gaps(symbol)]), frontier_s
