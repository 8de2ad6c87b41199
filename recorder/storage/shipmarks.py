"""Which hours of this database have been shipped to a lake: a small JSON file in the directory.

The lake's own state objects are the truth any machine can read (docs/lake.md); this file is a
local copy of it, kept so that ``prune`` and ``record --retain`` can refuse to delete an hour
that was due to be shipped and was not, without any network access. ``{"targets": {URL:
{SYMBOL: shipped_to_s}}}``: every second of SYMBOL below ``shipped_to_s`` is in the lake at URL.
A symbol appears as soon as a ship run takes it on (with 0 until its first hour is shipped).

The file is replaced atomically (written beside it, then renamed), so a killed ship leaves the
old or the new version, never half of one. RocksDB ignores files it does not own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from recorder.errors import StorageError

FILE_NAME = "obrec-shipped.json"


def read_marks(db_path: Path) -> dict[str, dict[str, int]]:
    """{target URL: {symbol: shipped_to_s}}; empty when this database was never shipped."""
    try:
        doc = orjson.loads((db_path / FILE_NAME).read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, orjson.JSONDecodeError) as exc:
        raise StorageError(
            f"cannot read {db_path / FILE_NAME} ({exc}); delete it and run obrec ship again "
            "to rebuild it from the lake"
        ) from None
    return {str(t): {str(s): int(v) for s, v in m.items()} for t, m in doc["targets"].items()}


def write_marks(db_path: Path, target: str, marks: Mapping[str, int]) -> None:
    """Set these symbols' marks for ``target`` (other symbols and targets are kept)."""
    doc = read_marks(db_path)
    doc[target] = {**doc.get(target, {}), **marks}
    _write(db_path, doc)


def forget_marks(db_path: Path, target: str, symbols: Iterable[str]) -> None:
    """Drop these symbols' marks for ``target`` (a target that turned out to be a mistake)."""
    doc = read_marks(db_path)
    kept = {s: v for s, v in doc.get(target, {}).items() if s not in set(symbols)}
    if kept:
        doc[target] = kept
    else:
        doc.pop(target, None)
    _write(db_path, doc)


def _write(db_path: Path, doc: dict[str, dict[str, int]]) -> None:
    path = db_path / FILE_NAME
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    try:
        tmp.write_bytes(orjson.dumps({"targets": doc}, option=orjson.OPT_INDENT_2))
        tmp.replace(path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from None


def unshipped_from(db_path: Path) -> dict[str, int]:
    """Per symbol, the first second not yet in every lake it is shipped to: what prune keeps."""
    held: dict[str, int] = {}
    for marks in read_marks(db_path).values():
        for symbol, shipped_to_s in marks.items():
            held[symbol] = min(held.get(symbol, shipped_to_s), shipped_to_s)
    return held
