"""``obrec backup``: a consistent copy of a database directory, even while a recorder writes it.

A read-only view fixes the moment the backup begins (it replays the recorder's write-ahead log
into memory). RocksDB's checkpoint of that view hard-links the table files (copies them across
filesystems), but a read-only instance cannot flush, so what the view holds only in memory, the
recorder's latest writes, is not in them; one merged scan of view and copy then writes exactly
the difference (``Store.align``). The copy is built under ``<dest>.partial`` and renamed to
``dest`` when complete, so ``dest`` never names a partial backup.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from recorder.errors import StorageError, UsageError
from recorder.storage.store import Store, directory_bytes

log = logging.getLogger("obrec")

CHECKPOINT_ATTEMPTS = 5
_VANISHED = "No such file or directory"  # RocksDB's message for a table file deleted under it


@dataclass(frozen=True, slots=True)
class BackupResult:
    snapshots: int
    writes: int
    """Puts and range deletes over the checkpoint: what the view held only in memory."""
    bytes_on_disk: int
    """What the copy's directory holds (hard-linked files counted in full)."""


def backup(source: Path, dest: Path) -> BackupResult:
    """Copy ``source`` into the new directory ``dest`` as it was when the call began."""
    staging = dest.with_name(dest.name + ".partial")
    for path in (dest, staging):
        if path.exists() or path.is_symlink():
            raise UsageError(f"{path} exists; a backup goes to a new directory")
    if dest.resolve().is_relative_to(source.resolve()):
        raise UsageError(f"{dest} is inside the database {source}; choose a directory outside it")
    try:
        with (
            _checkpointed_view(source, staging) as view,
            Store.open_writer(staging, create=False) as copy,
        ):
            snapshots, writes = copy.align(view)
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # never leave a copy that looks complete
        raise
    return BackupResult(snapshots, writes, directory_bytes(dest))


def _checkpointed_view(source: Path, staging: Path) -> Store:
    """A read-only view of ``source`` whose checkpoint is now at ``staging``.

    A running recorder's compaction may delete a table file while a view opens, or before the
    checkpoint links or copies it; a fresh view no longer lists that file, so try again."""
    attempt = 1
    while True:
        try:
            return _checkpoint(source, staging)
        except StorageError as exc:
            if attempt == CHECKPOINT_ATTEMPTS or _VANISHED not in str(exc):
                raise
            log.warning("backup: attempt %d failed (%s); retrying", attempt, exc)
            attempt += 1


def _checkpoint(source: Path, staging: Path) -> Store:
    view = Store.open_reader(source)  # a missing source is refused before anything is created
    try:
        try:
            staging.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {staging.parent}: {exc.strerror}") from None
        view.checkpoint(staging)
    except BaseException:
        view.close()
        raise
    return view
