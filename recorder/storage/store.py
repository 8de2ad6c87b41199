"""The RocksDB directory: with ``rocks.py`` (opening, tuning, errors), the only module that
imports rocksdict.

What goes where is ``layout.py``'s (snapshots in ``default``, everything else in ``meta``); this
module speaks to RocksDB in the layout's terms and offers intent-level reads (a window, a span,
the gaps, the sessions). One process writes (RocksDB's LOCK file enforces it); readers open
read-only, which needs no lock and sees the data as of opening. A reader's ``checkpoint`` then
``align`` make a consistent copy beside a running writer (``read/backup.py``). Every call into
rocksdict runs inside ``rocks.translated(path)``, the one place its errors become a
``StorageError``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from rocksdict import (
    AccessType,
    BottommostLevelCompaction,
    Checkpoint,
    CompactOptions,
    Options,
    Rdict,
    ReadOptions,
    WriteBatch,
)

from recorder.binance.market import Market
from recorder.errors import (
    DatabaseMissingError,
    MarketMismatchError,
    StorageError,
)
from recorder.storage.layout import (
    FORMAT_KEY,
    FORMAT_VERSION,
    GAP_PREFIX,
    SESSION_PREFIX,
    GapRecord,
    PendingWrites,
    SessionRecord,
    clamped_key,
    end_key,
    format_doc,
    gap_record,
    holds_symbol,
    market_of,
    prefix_end,
    second_of,
    session_record,
    symbol_end,
    symbol_of,
    symbol_prefix,
    unpack_doc,
)
from recorder.storage.rocks import META_CF, align_copy, is_database, options, translated


class Store:
    """An open obrec directory. Use ``Store.open_writer`` or ``Store.open_reader``."""

    def __init__(self, path: Path, db: Rdict, *, writable: bool) -> None:
        self.path = path
        self._db = db
        self._writable = writable
        self.market = Market.SPOT
        """The one market this database holds (read from its ``format`` value on opening)."""

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open_writer(cls, path: Path, *, create: bool = True, market: Market | None = None) -> Store:
        """Open for writing: create the directory if needed (and asked), refuse a non-obrec one,
        and one that holds another ``market`` than the one to record (None: any)."""
        if not create and not is_database(path):
            raise DatabaseMissingError(path)
        if market is not None and is_database(path):
            check_market(path, market)  # read-only: refused before the writer touches anything
        if path.exists() and not path.is_dir():
            raise StorageError(
                f"{path} is a file, not a directory; choose another {{db_path}}",
                parameters=("db_path",),
            )
        if path.is_dir() and any(path.iterdir()) and not is_database(path):
            raise StorageError(
                f"{path} is not empty and is not an obrec database; "
                "choose an empty or new directory for {db_path}",
                parameters=("db_path",),
            )
        with translated(path):
            path.mkdir(parents=True, exist_ok=True)
            db = Rdict(str(path), options(), column_families={META_CF: options()})
        store = cls(path, db, writable=True)
        store._check_format(create=market or Market.SPOT)
        return store

    @classmethod
    def open_reader(cls, path: Path) -> Store:
        """Open read-only; never creates anything. Sees the data as of opening."""
        if not is_database(path):
            raise DatabaseMissingError(path)
        with translated(path):
            db = Rdict(str(path), Options(raw_mode=True), access_type=AccessType.read_only())
            db.get_column_family(META_CF)
        store = cls(path, db, writable=False)
        store._check_format(create=None)
        return store

    def _meta(self) -> Rdict:
        """The ``meta`` column family; not kept, since a kept one holds the DB open after close."""
        return self._db.get_column_family(META_CF)

    def _check_format(self, *, create: Market | None) -> None:
        """Check the format and read the market; a new database is written for ``create``."""
        with translated(self.path):
            raw = self._meta().get(FORMAT_KEY)
            if raw is None and create is not None:
                self._meta()[FORMAT_KEY] = format_doc(create)
                self.market = create
                return
        if raw is None:
            raise DatabaseMissingError(self.path, problem="is a RocksDB directory but not obrec's")
        doc = unpack_doc(raw)
        version = doc.get("format_version")
        if version != FORMAT_VERSION:
            raise StorageError(
                f"{self.path} holds format version {version}; this obrec reads {FORMAT_VERSION}"
            )
        market = market_of(doc)
        if market is None:
            raise StorageError(
                f"{self.path} holds the market {doc.get('market')!r}, unknown to this obrec; "
                "upgrade obrec to read it"
            )
        self.market = market

    def close(self) -> None:
        """Flush (a writer) and close; the database is closed even when the flush fails."""
        try:
            if self._writable:
                with translated(self.path):
                    self._db.flush()
        finally:
            with translated(self.path):
                self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None and issubclass(exc_type, StorageError):
            with contextlib.suppress(StorageError):  # keep the first storage error, not this one
                self.close()
            return
        self.close()

    # -- writing ----------------------------------------------------------------------------

    def write(self, pending: PendingWrites) -> None:
        """Write one atomic batch: deletes first, then puts (so a re-stored second survives)."""
        with translated(self.path):
            batch = WriteBatch(raw_mode=True)
            for begin, end in pending.delete_ranges:
                batch.delete_range(begin, end)
            for key, value in pending.puts:
                batch.put(key, value)
            if pending.meta_puts or pending.meta_deletes:
                meta = self._db.get_column_family_handle(META_CF)
                for key in pending.meta_deletes:
                    batch.delete(key, meta)
                for key, value in pending.meta_puts:
                    batch.put(key, value, meta)
            self._db.write(batch)

    def put_session(self, start_s: int, doc: dict[str, Any]) -> None:
        """Record (or update) the session that started at ``start_s``."""
        pending = PendingWrites()
        pending.put_session(start_s, doc)
        self.write(pending)

    def compact_symbol(self, symbol: str, *, before_s: int) -> None:
        """Flush, then compact ``symbol``'s seconds before ``before_s``: reclaims a prune."""
        with translated(self.path):
            self._db.flush()
            self._db.compact_range(clamped_key(symbol, 0), clamped_key(symbol, before_s))

    def compact(self, *, recompress: bool = False) -> None:
        """Compact every snapshot, which reclaims deleted ranges; ``recompress`` also rewrites
        the bottom level at its stronger zstd level (slow; benchmarks use it to measure settled
        sizes). rocksdict releases the GIL."""
        options = CompactOptions()
        if recompress:
            options.set_bottommost_level_compaction(BottommostLevelCompaction.force())
        with translated(self.path):
            self._db.compact_range(None, None, options)

    def flush(self) -> None:
        with translated(self.path):
            self._db.flush()

    def table_bytes(self) -> int:
        """Bytes of the live table files: the data itself, without logs and manifests."""
        return sum(int(f["size"]) for f in self.live_files())

    def size_on_disk(self) -> int:
        """Bytes of every file in the directory (SST files, WAL, manifest, logs)."""
        return directory_bytes(self.path)

    def live_files(self) -> list[dict[str, Any]]:
        """RocksDB's table files with their size and key range."""
        with translated(self.path):
            files: list[dict[str, Any]] = self._db.live_files()
        return files

    def bytes_by_symbol(self) -> dict[str, int]:
        """Estimated table bytes per symbol: each file's size shared among the symbols whose
        keys it may hold."""
        symbols = self.symbols()
        shares: dict[str, float] = dict.fromkeys(symbols, 0.0)
        for table in self.live_files():
            holders = [s for s in symbols if holds_symbol(table["start_key"], table["end_key"], s)]
            for symbol in holders:
                shares[symbol] += table["size"] / len(holders)
        return {s: round(b) for s, b in shares.items()}

    def checkpoint(self, dest: Path) -> None:
        """RocksDB's checkpoint at the new directory ``dest``: table files hard-linked (copied
        across filesystems). A reader's checkpoint lacks what the reader holds only in memory
        (a running writer's latest writes, replayed from its log); ``align`` adds that."""
        with translated(self.path):
            Checkpoint(self._db).create_checkpoint(str(dest))

    def align(self, view: Store) -> tuple[int, int]:
        """Make this (writable) store hold exactly ``view``'s keys and values, in both column
        families, writing only the difference. Returns ``view``'s snapshots and the writes."""
        with translated(self.path):
            snapshots, writes = align_copy(self._db, view._db, None)
            meta = self._db.get_column_family_handle(META_CF)
            return snapshots, writes + align_copy(self._meta(), view._meta(), meta)[1]

    # -- reading ----------------------------------------------------------------------------

    def scan(self, symbol: str, from_s: int, to_s: int) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) of ``symbol``'s snapshots for seconds ``from_s..to_s`` inclusive; keys
        are opaque outside ``storage/`` (``layout.second_of`` reads their second)."""
        read_opt = ReadOptions()
        read_opt.set_iterate_upper_bound(end_key(symbol, to_s))
        with translated(self.path):
            yield from self._db.items(from_key=clamped_key(symbol, from_s), read_opt=read_opt)

    def count(self, symbol: str, from_s: int, to_s: int) -> int:
        """How many snapshots of ``symbol`` lie in ``from_s..to_s`` (keys only are compared)."""
        if to_s < from_s:
            return 0
        read_opt = ReadOptions()
        read_opt.set_iterate_upper_bound(end_key(symbol, to_s))
        found = 0
        with translated(self.path):
            it = self._db.iter(read_opt)
            it.seek(clamped_key(symbol, from_s))
            while it.valid():
                found += 1
                it.next()
        return found

    def meta_items(self, prefix: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        read_opt = ReadOptions()
        read_opt.set_iterate_upper_bound(prefix_end(prefix))
        with translated(self.path):
            for key, raw in self._meta().items(from_key=prefix, read_opt=read_opt):
                yield cast(bytes, key), unpack_doc(raw)

    def gaps(self) -> list[GapRecord]:
        return [gap_record(key, doc) for key, doc in self.meta_items(GAP_PREFIX)]

    def sessions(self) -> list[SessionRecord]:
        return [session_record(key, doc) for key, doc in self.meta_items(SESSION_PREFIX)]

    def last_at_or_before(self, symbol: str, ts_s: int) -> tuple[bytes, bytes] | None:
        """The (key, value) of ``symbol``'s snapshot at ``ts_s``, or of the latest before it."""
        with translated(self.path):
            it = self._db.iter()
            it.seek_for_prev(clamped_key(symbol, ts_s))
            if it.valid() and bytes(it.key()).startswith(symbol_prefix(symbol)):
                return bytes(it.key()), bytes(it.value())
        return None

    def first_at_or_after(self, symbol: str, ts_s: int) -> int | None:
        """The second of ``symbol``'s first snapshot at or after ``ts_s``."""
        with translated(self.path):
            it = self._db.iter()
            it.seek(clamped_key(symbol, ts_s))
            if it.valid() and bytes(it.key()).startswith(symbol_prefix(symbol)):
                return second_of(bytes(it.key()))
        return None

    def span(self, symbol: str, from_s: int, to_s: int) -> tuple[int, int] | None:
        """(first, last) stored second of ``symbol`` within ``from_s..to_s``, None if none."""
        first_s = self.first_at_or_after(symbol, from_s)
        last = self.last_at_or_before(symbol, to_s)
        if first_s is None or last is None:
            return None
        last_s = second_of(last[0])
        return (first_s, last_s) if first_s <= last_s else None

    def symbols(self) -> list[str]:
        """Every symbol with at least one snapshot, by seeking from symbol to symbol."""
        found: list[str] = []
        with translated(self.path):
            it = self._db.iter()
            it.seek_to_first()
            while it.valid():
                symbol = symbol_of(bytes(it.key()))
                found.append(symbol)
                it.seek(symbol_end(symbol))
        return found


def check_market(path: Path, market: Market) -> None:
    """Refuse to record ``market`` into the database at ``path`` if it holds another (a missing
    or empty directory holds none yet). Read-only: safe beside a running recorder."""
    if not is_database(path):
        return
    with Store.open_reader(path) as store:
        stored = store.market
    if stored is not market:
        raise MarketMismatchError(path, stored.value, market.value)


def directory_bytes(path: Path) -> int:
    """Bytes of every file directly in ``path``: what a database directory holds on disk."""
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())
