"""RocksDB's side of the store: how a directory is opened and tuned, how its errors read, and
the merged scan that aligns a copy. With ``store.py``, the only modules that import rocksdict.

Tuning (measured, see docs/benchmarks.md): zstd everywhere with a stronger level (15) for the
bottom level, where data settles, and 64 KiB blocks so that consecutive snapshots of a symbol
compress against each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rocksdict import BlockBasedOptions, DBCompressionType, Options, Rdict, WriteBatch

from recorder.errors import DatabaseLockedError, StorageError

META_CF = "meta"
_BLOCK_SIZE = 64 * 1024
_TABLE_FILE_BYTES = 8 * 1024 * 1024
_ZSTD_LEVEL = 3
_ZSTD_BOTTOM_LEVEL = 15
_ALIGN_BATCH_WRITES = 10_000


def options() -> Options:
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
        return DatabaseLockedError(path)
    if "link file" in text and "Operation not permitted" in text:  # a checkpoint's hard links
        return StorageError(
            f"cannot hard-link the files of {path} as this user (Linux links only "
            "files you own); run obrec backup as the database's owner, or back up to "
            "another filesystem (a copy)"
        )
    return StorageError(f"RocksDB error at {path}: {text}")


@contextlib.contextmanager
def translated(path: Path) -> Iterator[None]:
    """Around every rocksdict call: it raises bare ``Exception``s, translated here, once."""
    try:
        yield
    except StorageError:
        raise
    except Exception as exc:
        raise _translate(path, exc) from exc


def is_database(path: Path) -> bool:
    return (path / "CURRENT").is_file()


def align_copy(copy: Rdict, view: Rdict, family: Any) -> tuple[int, int]:
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
