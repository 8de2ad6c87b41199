"""The RocksDB directory: the only module that imports rocksdict.

Layout: column family ``default`` holds snapshots only (``SYMBOL:seconds`` -> codec value);
column family ``meta`` holds everything else (``format``, ``gap:SYMBOL:from_s``,
``session:start_s``), so a scan of ``SYMBOL:`` keys sees snapshots only. One process writes
(RocksDB's LOCK file enforces it); readers open read-only, which needs no lock and sees the
data as of opening. A reader's ``checkpoint`` then ``align`` make a consistent copy beside a
running writer (``storage/backup.py``). Every rocksdict error is translated here into a
``StorageError``.

Tuning (measured, see docs/benchmarks.md): zstd everywhere with a stronger level (15) for the
bottom level, where data settles, and 64 KiB blocks so that consecutive snapshots of a symbol
compress against each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import ormsgpack
from rocksdict import (
    AccessType,
    BlockBasedOptions,
    BottommostLevelCompaction,
    Checkpoint,
    CompactOptions,
    DBCompressionType,
    Options,
    Rdict,
    ReadOptions,
    WriteBatch,
)

from recorder.errors import DatabaseLockedError, DatabaseMissingError, StorageError
from recorder.storage.codec import (
    FORMAT_VERSION,
    MAX_TS_S,
    snapshot_key,
    symbol_end,
    symbol_prefix,
)

META_CF = "meta"
FORMAT_KEY = b"format"
GAP_PREFIX = b"gap:"
SESSION_PREFIX = b"session:"
_BLOCK_SIZE = 64 * 1024
_TABLE_FILE_BYTES = 8 * 1024 * 1024
_ZSTD_LEVEL = 3
_ZSTD_BOTTOM_LEVEL = 15
_ALIGN_BATCH_WRITES = 10_000


def _options() -> Options:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    options.create_missing_column_families(True)
    options.set_compression_type(DBCompressionType.zstd())
    options.set_compression_options(-14, _ZSTD_LEVEL, 0, 0)
    options.set_bottommost_compression_type(DBCompressionType.zstd())
    options.set_bottommost_compression_options(-14, _ZSTD_BOTTOM_LEVEL, 0, 0, True)
    table = BlockBasedOptions()
    table.set_block_size(_BLOCK_SIZE)
    options.set_block_based_table_factory(table)
    # Small table files: a prune compacts only the files that overlap the deleted range.
    options.set_target_file_size_base(_TABLE_FILE_BYTES)
    options.set_keep_log_file_num(5)
    return options


def _translate(path: Path, exc: Exception) -> StorageError:
    text = str(exc)
    if "Permission denied" in text:  # first: an unwritable LOCK file is not another process
        return StorageError(
            f"{path}: permission denied; run as the user that records it, or see "
            "docs/operations.md for reading it as another user"
        )
    if "lock" in text.lower():
        return DatabaseLockedError(
            f"{path} is in use by another obrec process (RocksDB lock held); "
            "stop the other recorder or choose another --db"
        )
    return StorageError(f"RocksDB error at {path}: {text}")


def _missing(path: Path) -> DatabaseMissingError:
    return DatabaseMissingError(
        f"no obrec database at {path}; pass --db (or set OBREC_DB) to a directory "
        "written by `obrec record`"
    )


def _is_database(path: Path) -> bool:
    return (path / "CURRENT").is_file()


@dataclass(frozen=True, slots=True)
class GapRecord:
    symbol: str
    from_s: int
    to_s: int
    reason: str


@dataclass(slots=True)
class PendingWrites:
    """What the recorder wants written in the next batch."""

    puts: list[tuple[bytes, bytes]] = field(default_factory=list)
    meta_puts: list[tuple[bytes, bytes]] = field(default_factory=list)
    delete_ranges: list[tuple[bytes, bytes]] = field(default_factory=list)  # [begin, end) keys
    meta_deletes: list[bytes] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.puts or self.meta_puts or self.delete_ranges or self.meta_deletes)


class Store:
    """An open obrec directory. Use ``Store.open_writer`` or ``Store.open_reader``."""

    def __init__(self, path: Path, db: Rdict, *, writable: bool) -> None:
        self.path = path
        self._db = db
        self._writable = writable

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open_writer(cls, path: Path, *, create: bool = True) -> Store:
        """Open for writing: create the directory if needed (and asked), refuse a non-obrec one."""
        if not create and not _is_database(path):
            raise _missing(path)
        if path.exists() and not path.is_dir():
            raise StorageError(f"{path} is a file, not a directory; choose another --db")
        if path.is_dir() and any(path.iterdir()) and not _is_database(path):
            raise StorageError(
                f"{path} is not empty and is not an obrec database; "
                "choose an empty or new directory for --db"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
            db = Rdict(str(path), _options(), column_families={META_CF: _options()})
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            raise _translate(path, exc) from exc
        store = cls(path, db, writable=True)
        store._check_format(create=True)
        return store

    @classmethod
    def open_reader(cls, path: Path) -> Store:
        """Open read-only; never creates anything. Sees the data as of opening."""
        if not _is_database(path):
            raise _missing(path)
        try:
            db = Rdict(str(path), Options(raw_mode=True), access_type=AccessType.read_only())
            db.get_column_family(META_CF)
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            raise _translate(path, exc) from exc
        store = cls(path, db, writable=False)
        store._check_format(create=False)
        return store

    def _meta(self) -> Rdict:
        """The ``meta`` column family; not kept, since a kept one holds the DB open after close."""
        return self._db.get_column_family(META_CF)

    def _check_format(self, *, create: bool) -> None:
        raw = self._meta().get(FORMAT_KEY)
        if raw is None:
            if not create:
                raise DatabaseMissingError(f"{self.path} is a RocksDB directory but not obrec's")
            self._meta()[FORMAT_KEY] = ormsgpack.packb({"format_version": FORMAT_VERSION})
            return
        version = ormsgpack.unpackb(raw).get("format_version")
        if version != FORMAT_VERSION:
            raise StorageError(
                f"{self.path} holds format version {version}; this obrec reads {FORMAT_VERSION}"
            )

    def close(self) -> None:
        """Flush (a writer) and close; the database is closed even when the flush fails."""
        try:
            if self._writable:
                self._db.flush()
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            self._db.close()
            raise _translate(self.path, exc) from exc
        try:
            self._db.close()
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            raise _translate(self.path, exc) from exc

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
        try:
            self._db.write(batch)
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            raise _translate(self.path, exc) from exc

    def compact(
        self, begin: bytes | None = None, end: bytes | None = None, *, recompress: bool = False
    ) -> None:
        """Compact ``[begin, end)`` of the snapshots (everything by default), which reclaims
        deleted ranges; ``recompress`` also rewrites the bottom level at its stronger zstd level
        (slow; benchmarks use it to measure settled sizes). rocksdict releases the GIL."""
        options = CompactOptions()
        if recompress:
            options.set_bottommost_level_compaction(BottommostLevelCompaction.force())
        try:
            self._db.compact_range(begin, end, options)
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            raise _translate(self.path, exc) from exc

    def flush(self) -> None:
        try:
            self._db.flush()
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            raise _translate(self.path, exc) from exc

    def table_bytes(self) -> int:
        """Bytes of the live table files: the data itself, without logs and manifests."""
        return sum(int(f["size"]) for f in self.live_files())

    def size_on_disk(self) -> int:
        """Bytes of every file in the directory (SST files, WAL, manifest, logs)."""
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())

    def put_meta(self, key: bytes, doc: dict[str, Any]) -> None:
        self.write(PendingWrites(meta_puts=[(key, ormsgpack.packb(doc))]))

    def live_files(self) -> list[dict[str, Any]]:
        """RocksDB's table files with their size and key range (for per-symbol disk estimates)."""
        files: list[dict[str, Any]] = self._db.live_files()
        return files

    def checkpoint(self, dest: Path) -> None:
        """RocksDB's checkpoint at the new directory ``dest``: table files hard-linked (copied
        across filesystems). A reader's checkpoint lacks what the reader holds only in memory
        (a running writer's latest writes, replayed from its log); ``align`` adds that."""
        try:
            Checkpoint(self._db).create_checkpoint(str(dest))
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            if "link file" in str(exc) and "Operation not permitted" in str(exc):
                raise StorageError(
                    f"cannot hard-link the files of {self.path} as this user (Linux links only "
                    "files you own); run obrec backup as the database's owner, or back up to "
                    "another filesystem (a copy)"
                ) from exc
            raise _translate(self.path, exc) from exc

    def align(self, view: Store) -> tuple[int, int]:
        """Make this (writable) store hold exactly ``view``'s keys and values, in both column
        families, writing only the difference. Returns ``view``'s snapshots and the writes."""
        try:
            snapshots, writes = _align(self._db, view._db, None)
            meta = self._db.get_column_family_handle(META_CF)
            return snapshots, writes + _align(self._meta(), view._meta(), meta)[1]
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            raise _translate(self.path, exc) from exc

    # -- reading ----------------------------------------------------------------------------

    def scan(self, symbol: str, from_s: int, to_s: int) -> Iterator[tuple[bytes, bytes]]:
        """Raw (key, value) pairs of ``symbol`` for seconds ``from_s..to_s`` inclusive."""
        read_opt = ReadOptions()
        end = snapshot_key(symbol, to_s + 1) if to_s < MAX_TS_S else symbol_end(symbol)
        read_opt.set_iterate_upper_bound(end)
        start = snapshot_key(symbol, min(max(from_s, 0), MAX_TS_S))
        try:
            yield from self._db.items(from_key=start, read_opt=read_opt)
        except Exception as exc:  # rocksdict raises bare Exception; translated once, here
            raise _translate(self.path, exc) from exc

    def count(self, symbol: str, from_s: int, to_s: int) -> int:
        """How many snapshots of ``symbol`` lie in ``from_s..to_s`` (keys only are compared)."""
        if to_s < from_s:
            return 0
        read_opt = ReadOptions()
        end = snapshot_key(symbol, to_s + 1) if to_s < MAX_TS_S else symbol_end(symbol)
        read_opt.set_iterate_upper_bound(end)
        it = self._db.iter(read_opt)
        it.seek(snapshot_key(symbol, min(max(from_s, 0), MAX_TS_S)))
        found = 0
        while it.valid():
            found += 1
            it.next()
        return found

    def meta_items(self, prefix: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        read_opt = ReadOptions()
        read_opt.set_iterate_upper_bound(prefix[:-1] + bytes([prefix[-1] + 1]))
        for key, raw in self._meta().items(from_key=prefix, read_opt=read_opt):
            yield cast(bytes, key), ormsgpack.unpackb(raw)

    def gaps(self) -> list[GapRecord]:
        records = []
        for key, doc in self.meta_items(GAP_PREFIX):
            symbol, _, from_s = key[len(GAP_PREFIX) :].decode().rpartition(":")
            records.append(GapRecord(symbol, int(from_s), doc["to"], doc["reason"]))
        return records

    def last_at_or_before(self, symbol: str, ts_s: int) -> tuple[bytes, bytes] | None:
        """The raw snapshot of ``symbol`` at ``ts_s``, or the latest one before it."""
        it = self._db.iter()
        it.seek_for_prev(snapshot_key(symbol, min(max(ts_s, 0), MAX_TS_S)))
        if it.valid() and bytes(it.key()).startswith(symbol_prefix(symbol)):
            return bytes(it.key()), bytes(it.value())
        return None

    def first_at_or_after(self, symbol: str, ts_s: int) -> bytes | None:
        """The key of ``symbol``'s first snapshot at or after ``ts_s``."""
        it = self._db.iter()
        it.seek(snapshot_key(symbol, min(max(ts_s, 0), MAX_TS_S)))
        if it.valid() and bytes(it.key()).startswith(symbol_prefix(symbol)):
            return bytes(it.key())
        return None

    def symbols(self) -> list[str]:
        """Every symbol with at least one snapshot, by seeking from symbol to symbol."""
        found: list[str] = []
        it = self._db.iter()
        it.seek_to_first()
        while it.valid():
            symbol = bytes(it.key()).partition(b":")[0].decode()
            found.append(symbol)
            it.seek(symbol_end(symbol))
        return found


def gap_key(symbol: str, from_s: int) -> bytes:
    return GAP_PREFIX + f"{symbol}:{from_s:010d}".encode()


def gap_entry(symbol: str, from_s: int, to_s: int, reason: str) -> tuple[bytes, bytes]:
    """The ``meta`` key and value of a gap record (docs/format.md); ``gaps()`` reads it back."""
    return gap_key(symbol, from_s), ormsgpack.packb({"to": to_s, "reason": reason})


def session_key(start_s: int) -> bytes:
    return SESSION_PREFIX + f"{start_s:010d}".encode()


def _align(copy: Rdict, view: Rdict, family: Any) -> tuple[int, int]:
    """Make ``copy`` hold exactly ``view``'s keys and values by one merged scan of both,
    writing only the difference: a put for each missing or different value, a range delete
    for each run of keys the view does not have. Returns the view's keys and the writes."""
    have, want = copy.iter(), view.iter()  # each iterator reads a fixed snapshot of its DB
    have.seek_to_first()
    want.seek_to_first()
    batch = WriteBatch(raw_mode=True)
    keys = writes = 0
    while want.valid():
        keys += 1
        key = bytes(want.key())
        if have.valid() and (extra := bytes(have.key())) < key:
            batch.delete_range(extra, key, family)
            writes += 1
            have.seek(key)
        if have.valid() and bytes(have.key()) == key:
            if have.value() != want.value():
                batch.put(key, want.value(), family)
                writes += 1
            have.next()
        else:
            batch.put(key, want.value(), family)
            writes += 1
        want.next()
        if batch.len() >= _ALIGN_BATCH_WRITES:
            copy.write(batch)
            batch = WriteBatch(raw_mode=True)
    if have.valid():  # the copy's keys past the view's last one
        extra = bytes(have.key())
        have.seek_to_last()
        batch.delete_range(extra, bytes(have.key()) + b"\0", family)
        writes += 1
    copy.write(batch)
    return keys, writes
