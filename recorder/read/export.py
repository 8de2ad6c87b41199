"""Write windows of snapshots to files: Tardis-style CSV, JSONL, and Parquet.

Files appear atomically (written beside the target, then renamed), never overwrite without
``force``, and an interrupted export leaves nothing behind. Rows go symbol by symbol, oldest first.

CSV follows Tardis's ``book_snapshot_N`` layout so existing readers work unchanged:
``exchange,symbol,timestamp,local_timestamp`` then ``asks[i].price,asks[i].amount,bids[i].price,
bids[i].amount`` for i = 0..N-1, timestamps in microseconds. ``timestamp`` is the exchange event
time of the last event applied (Tardis: "timestamp provided by exchange"), ``local_timestamp``
when obrec received that event; the stored second is ``floor(timestamp / 1e6)``. Missing levels
(a thinner book) are empty cells.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING

import orjson

from recorder.binance.market import Market, spec
from recorder.book.snapshot import Snapshot
from recorder.errors import UsageError
from recorder.read.database import Database
from recorder.read.extras import PARQUET, require

if TYPE_CHECKING:
    import pyarrow

DAY_S = 86_400


class ExportFormat(Enum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


@dataclass(frozen=True, slots=True)
class ExportRequest:
    symbols: tuple[str, ...]
    from_s: int
    to_s: int
    format: ExportFormat
    output: Path | None
    """None writes to stdout (csv and jsonl only)."""
    levels: int = 20
    partition: bool = False
    force: bool = False
    skip_corrupt: bool = False

    def __post_init__(self) -> None:
        if self.output is None and self.format is ExportFormat.PARQUET:
            raise UsageError(
                "parquet cannot go to stdout; pass {output} FILE (or {output} DIR {partition})",
                parameters=("output", "partition"),
            )
        if self.partition and self.format is not ExportFormat.PARQUET:
            raise UsageError(
                "{partition} is for {format} parquet only", parameters=("partition", "format")
            )
        check_levels(self.levels)
        if self.output is not None and not self.partition:
            _check_suffix(self.output, self.format)


MAX_LEVELS = 5000
SUFFIXES = {
    ExportFormat.CSV: (".csv",),
    ExportFormat.JSONL: (".jsonl", ".ndjson", ".json"),
    ExportFormat.PARQUET: (".parquet", ".pq"),
}
"""The file name suffixes each format is known by: a file named for another format is refused,
since readers pick their parser by the name (a name no format claims is taken as given)."""


def check_levels(levels: int) -> None:
    """Levels per side are 1 to 5,000 (Binance's deepest book); 0 or less is a mistake."""
    if not 1 <= levels <= MAX_LEVELS:
        raise UsageError(
            f"{{levels}} {levels} is out of range; use 1 to {MAX_LEVELS}", parameters=("levels",)
        )


def _check_suffix(output: Path, fmt: ExportFormat) -> None:
    suffix = output.suffix.lower()
    for other, suffixes in SUFFIXES.items():
        if other is not fmt and suffix in suffixes:
            raise UsageError(
                f"{{output}} {output} is named like {other.value} but {{format}} is {fmt.value}; "
                f"name it {output.with_suffix(SUFFIXES[fmt][0])} or pass {{format}} {other.value}",
                parameters=("output", "format"),
            )


Progress = Callable[[int], None]
"""Told how many more snapshots were written (the CLI's bar counts snapshots)."""
_PROGRESS_EVERY = 1024


def snapshot_doc(snapshot: Snapshot) -> dict[str, object]:
    """The JSON shape scripts rely on (docs/format.md, "JSON lines"): extend, never break."""
    return {
        "symbol": snapshot.symbol,
        "ts": snapshot.ts_s,
        "event_time": snapshot.event_time_ms,
        "update_id": snapshot.update_id,
        "recv_time": snapshot.recv_time_ms,
        "bids": snapshot.bids,
        "asks": snapshot.asks,
    }


def tardis_header(levels: int) -> str:
    fields = ["exchange", "symbol", "timestamp", "local_timestamp"]
    for i in range(levels):
        fields += [f"asks[{i}].price", f"asks[{i}].amount", f"bids[{i}].price", f"bids[{i}].amount"]
    return ",".join(fields)


def tardis_row(snapshot: Snapshot, levels: int, market: Market = Market.SPOT) -> str:
    """One row; ``exchange`` is the market's Tardis id (binance, binance-futures,
    binance-delivery)."""
    fields = [
        spec(market).tardis_exchange,
        snapshot.symbol,
        str(snapshot.event_time_ms * 1000),
        str(snapshot.recv_time_ms * 1000),
    ]
    bids, asks = snapshot.bids, snapshot.asks
    for i in range(levels):
        ask = asks[i] if i < len(asks) else ("", "")
        bid = bids[i] if i < len(bids) else ("", "")
        fields += [ask[0], ask[1], bid[0], bid[1]]
    return ",".join(fields)


def export(db: Database, request: ExportRequest, progress: Progress | None = None) -> int:
    """Write the window; returns the number of snapshots written (0 writes no file)."""
    for symbol in request.symbols:
        db.require_symbol(symbol)
    if request.format is ExportFormat.PARQUET:
        assert request.output is not None
        if request.partition:
            return _parquet_partitioned(db, request, request.output, progress)
        return _parquet_file(db, request, request.output, progress)
    if request.output is None:
        count = _write_text(db, request, sys.stdout.buffer, progress)
        sys.stdout.flush()
        return count
    with atomic_target(request.output, request.force) as tmp:
        with tmp.open("wb") as out:
            count = _write_text(db, request, out, progress)
        if not count:
            raise _NothingWritten
    return count


def _snapshots(
    db: Database, request: ExportRequest, progress: Progress | None
) -> Iterator[Snapshot]:
    done = 0
    for symbol in request.symbols:
        for snapshot in db.snapshots(
            symbol, request.from_s, request.to_s, skip_corrupt=request.skip_corrupt
        ):
            yield snapshot
            done += 1
            if progress and done % _PROGRESS_EVERY == 0:
                progress(_PROGRESS_EVERY)
    if progress:
        progress(done % _PROGRESS_EVERY)


def write_snapshots(
    snapshots: Iterable[Snapshot],
    fmt: str,
    levels: int,
    out: IO[bytes],
    market: Market = Market.SPOT,
) -> int:
    """Write ``csv`` (Tardis layout), ``jsonl`` or ``json``; returns how many were written.
    Used by ``export`` and ``query`` alike."""
    count = 0
    if fmt == "json":
        out.write(b"[")
    for snapshot in snapshots:
        if fmt == "csv":
            if not count:
                out.write(tardis_header(levels).encode() + b"\n")
            out.write(tardis_row(snapshot, levels, market).encode() + b"\n")
        elif fmt == "json":
            out.write((b"," if count else b"") + orjson.dumps(snapshot_doc(snapshot)))
        else:
            out.write(orjson.dumps(snapshot_doc(snapshot)) + b"\n")
        count += 1
    if fmt == "json":
        out.write(b"]\n")
    return count


def _write_text(
    db: Database, request: ExportRequest, out: IO[bytes], progress: Progress | None
) -> int:
    snapshots = _snapshots(db, request, progress)
    return write_snapshots(snapshots, request.format.value, request.levels, out, db.market)


def _parquet_file(
    db: Database, request: ExportRequest, target: Path, progress: Progress | None
) -> int:
    require(PARQUET)
    import pyarrow.parquet as pq

    from recorder.read.arrow import SCHEMA, batches, market_metadata

    count = 0
    schema = SCHEMA.with_metadata(market_metadata(db.market))
    with atomic_target(target, request.force) as tmp:
        with (
            pq.ParquetWriter(tmp, schema, compression="zstd", compression_level=1) as writer,
            ThreadPoolExecutor(max_workers=1) as pool,
        ):
            # Encoding and compressing a batch releases the GIL: it overlaps decoding the next.
            pending: Future[None] | None = None
            for symbol in request.symbols:
                docs = db.docs(
                    symbol, request.from_s, request.to_s, skip_corrupt=request.skip_corrupt
                )
                for batch in batches(symbol, docs):
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(writer.write_batch, batch)
                    count += batch.num_rows
                    if progress:
                        progress(batch.num_rows)
            if pending is not None:
                pending.result()
        if not count:
            raise _NothingWritten
    return count


def _parquet_partitioned(
    db: Database, request: ExportRequest, target: Path, progress: Progress | None
) -> int:
    """Hive layout ``symbol=S/date=YYYY-MM-DD/part-0.parquet``; the partition columns live in
    the paths, as DuckDB, Polars and Spark expect."""
    count = 0
    with atomic_target(target, request.force, directory=True) as tmp:
        for symbol in request.symbols:
            day = request.from_s - request.from_s % DAY_S
            while day <= request.to_s:
                lo, hi = max(day, request.from_s), min(day + DAY_S - 1, request.to_s)
                date = datetime.fromtimestamp(day, UTC).strftime("%Y-%m-%d")
                path = tmp / f"symbol={symbol}" / f"date={date}" / "part-0.parquet"
                written = write_partition(db, symbol, lo, hi, path, request.skip_corrupt)
                count += written
                if progress:
                    progress(written)
                day += DAY_S
        if not count:
            raise _NothingWritten
    return count


def write_partition(
    db: Database,
    symbol: str,
    from_s: int,
    to_s: int,
    sink: Path | pyarrow.NativeFile,
    skip_corrupt: bool = False,
) -> int:
    """One symbol's window as the Parquet file of a Hive partition: the symbol is in the path,
    so not a column. Returns the rows written; an empty window writes nothing to ``sink``.
    A path's folders are made when the first row comes. ``export --partition`` and the lake
    (``recorder/lake/``) write their files with this."""
    require(PARQUET)
    import pyarrow.parquet as pq

    from recorder.read.arrow import batches, market_metadata

    count = 0
    writer: pq.ParquetWriter | None = None
    try:
        for batch in batches(symbol, db.docs(symbol, from_s, to_s, skip_corrupt=skip_corrupt)):
            part = batch.drop_columns(["symbol"])
            if writer is None:
                if isinstance(sink, Path):  # its folder, only once there is something to write
                    sink.parent.mkdir(parents=True, exist_ok=True)
                schema = part.schema.with_metadata(market_metadata(db.market))
                writer = pq.ParquetWriter(sink, schema, compression="zstd", compression_level=1)
            writer.write_batch(part)
            count += part.num_rows
    finally:
        if writer is not None:
            writer.close()
    return count


class _NothingWritten(Exception):
    """Internal: the window was empty, so the target is not created."""


@contextlib.contextmanager
def atomic_target(target: Path, force: bool, *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` at once."""
    if target.exists() and not force:
        raise UsageError(
            f"{target} already exists; pass {{force}} to replace it", parameters=("force",)
        )
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent} is not a directory; create it first")
    tmp = target.parent / f".{target.name}.obrec-tmp-{os.getpid()}"
    if directory:
        tmp.mkdir()
    try:
        yield tmp
    except _NothingWritten:
        _remove(tmp)
        return
    except BaseException:
        _remove(tmp)
        raise
    old = target.parent / f".{target.name}.obrec-old-{os.getpid()}"
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
