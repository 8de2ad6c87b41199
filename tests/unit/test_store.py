"""The RocksDB directory, on a real database under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recorder.errors import DatabaseLockedError, DatabaseMissingError, StorageError, UsageError
from recorder.read.backup import backup
from recorder.storage.layout import (
    MAX_TS_S,
    GapRecord,
    PendingWrites,
    gap_key,
    snapshot_key,
    symbol_end,
)
from recorder.storage.rocks import _translate
from recorder.storage.store import Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db"


@pytest.fixture
def writer(db_path: Path) -> Iterator[Store]:
    with Store.open_writer(db_path) as store:
        yield store


def _value(symbol: str, ts_s: int, tag: str = "") -> bytes:
    return f"{symbol}@{ts_s}{tag}".encode()


def _put(store: Store, symbol: str, *seconds: int, tag: str = "") -> None:
    store.write(
        PendingWrites(puts=[(snapshot_key(symbol, s), _value(symbol, s, tag)) for s in seconds])
    )


def _put_gap(store: Store, gap: GapRecord) -> None:
    pending = PendingWrites()
    pending.record_gap(gap)
    store.write(pending)


def _seconds(store: Store, symbol: str, from_s: int = 0, to_s: int = MAX_TS_S) -> list[int]:
    out = []
    for key, value in store.scan(symbol, from_s, to_s):
        symbol_of_key, _, seconds = bytes(key).decode().rpartition(":")
        assert symbol_of_key == symbol
        assert bytes(value).decode().startswith(f"{symbol}@{int(seconds)}")
        out.append(int(seconds))
    return out


# -- opening ------------------------------------------------------------------------------------


def test_open_writer_creates_missing_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "db"
    with Store.open_writer(path) as store:
        assert store.path == path
    assert (path / "CURRENT").is_file()
    with Store.open_reader(path) as reader:
        assert reader.symbols() == []


def test_open_writer_accepts_an_empty_directory(tmp_path: Path) -> None:
    with Store.open_writer(tmp_path) as store:
        _put(store, "BTCUSDT", 1)
        assert _seconds(store, "BTCUSDT") == [1]


def _record(path: Path, symbol: str, *seconds: int) -> None:
    """Write in a writer that is closed and no longer referenced on return."""
    with Store.open_writer(path) as store:
        _put(store, symbol, *seconds)


def test_reopened_writer_keeps_earlier_data(db_path: Path) -> None:
    _record(db_path, "BTCUSDT", 1, 2)
    _record(db_path, "BTCUSDT", 3)
    with Store.open_reader(db_path) as reader:
        assert _seconds(reader, "BTCUSDT") == [1, 2, 3]


def test_close_releases_the_write_lock(db_path: Path) -> None:
    """A regression: kept column-family objects held the DB (and its lock) open after close."""
    store = Store.open_writer(db_path)
    _put(store, "BTCUSDT", 1)
    store.close()
    with Store.open_writer(db_path) as again:
        assert _seconds(again, "BTCUSDT") == [1]


def test_open_writer_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "sub").mkdir()
    with pytest.raises(StorageError, match="not an obrec database"):
        Store.open_writer(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "sub"]
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert list((tmp_path / "sub").iterdir()) == []


def test_open_writer_refuses_a_file(tmp_path: Path) -> None:
    path = tmp_path / "db"
    path.write_bytes(b"data")
    with pytest.raises(StorageError, match="is a file"):
        Store.open_writer(path)
    assert path.read_bytes() == b"data"


def test_open_reader_on_a_missing_path_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "missing"
    with pytest.raises(DatabaseMissingError, match="no obrec database"):
        Store.open_reader(path)
    assert not path.exists()


def test_open_reader_on_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatabaseMissingError):
        Store.open_reader(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_second_writer_is_refused_while_the_first_is_open(db_path: Path, writer: Store) -> None:
    _put(writer, "BTCUSDT", 5)
    with pytest.raises(DatabaseLockedError, match="in use by another obrec process"):
        Store.open_writer(db_path)
    _put(writer, "BTCUSDT", 6)  # the first writer is unaffected
    assert _seconds(writer, "BTCUSDT") == [5, 6]


def test_reader_beside_a_writer_sees_data_as_of_opening(db_path: Path, writer: Store) -> None:
    _put(writer, "BTCUSDT", 1, 2)
    with Store.open_reader(db_path) as reader:
        _put(writer, "BTCUSDT", 3)
        assert _seconds(reader, "BTCUSDT") == [1, 2]
        assert reader.symbols() == ["BTCUSDT"]
    assert _seconds(writer, "BTCUSDT") == [1, 2, 3]


# -- writing and scanning -----------------------------------------------------------------------


def test_scan_window_is_inclusive_and_ordered(writer: Store) -> None:
    _put(writer, "BTCUSDT", 1737158405, 1737158401, 1737158403, 1737158402, 1737158404)
    _put(writer, "BTC", 1737158402)
    _put(writer, "BTCUSDTX", 1737158402)
    _put(writer, "ETHBTC", 1737158402)
    assert _seconds(writer, "BTCUSDT", 1737158402, 1737158404) == [
        1737158402,
        1737158403,
        1737158404,
    ]
    assert _seconds(writer, "BTCUSDT", 1737158403, 1737158403) == [1737158403]
    assert _seconds(writer, "BTCUSDT", 1737158404, 1737158403) == []
    assert _seconds(writer, "BTCUSDT", 0, 1737158400) == []
    assert _seconds(writer, "BTCUSDT", 1737158406, MAX_TS_S) == []
    assert _seconds(writer, "BTC") == [1737158402]
    assert _seconds(writer, "NOPE") == []


def test_scan_to_max_ts_covers_the_whole_symbol(writer: Store) -> None:
    """Regression: ``to_s + 1`` at MAX_TS_S used to be an 11-digit upper bound."""
    _put(writer, "BTCUSDT", 0, 1737158400, MAX_TS_S - 1, MAX_TS_S)
    _put(writer, "BTCUSDTX", 5)
    assert _seconds(writer, "BTCUSDT", 0, MAX_TS_S) == [0, 1737158400, MAX_TS_S - 1, MAX_TS_S]
    assert _seconds(writer, "BTCUSDT", MAX_TS_S, MAX_TS_S) == [MAX_TS_S]
    assert _seconds(writer, "BTCUSDT", 1, MAX_TS_S - 1) == [1737158400, MAX_TS_S - 1]
    assert _seconds(writer, "BTCUSDT", -100, 0) == [0]


def test_later_put_of_a_second_overwrites(writer: Store) -> None:
    _put(writer, "BTCUSDT", 7)
    writer.write(PendingWrites(puts=[(snapshot_key("BTCUSDT", 7), b"BTCUSDT@7 again")]))
    assert [bytes(v) for _, v in writer.scan("BTCUSDT", 0, MAX_TS_S)] == [b"BTCUSDT@7 again"]


def test_deletes_apply_before_puts_of_the_same_batch(writer: Store) -> None:
    _put(writer, "BTCUSDT", 10, 11, 12, 13, 14)
    _put(writer, "ETHBTC", 12, 13)
    writer.write(
        PendingWrites(
            puts=[(snapshot_key("BTCUSDT", 12), _value("BTCUSDT", 12, " restored"))],
            delete_ranges=[(snapshot_key("BTCUSDT", 12), symbol_end("BTCUSDT"))],
        )
    )
    assert _seconds(writer, "BTCUSDT") == [10, 11, 12]
    assert bytes(dict(writer.scan("BTCUSDT", 12, 12))[snapshot_key("BTCUSDT", 12)]) == (
        b"BTCUSDT@12 restored"
    )
    assert _seconds(writer, "ETHBTC") == [12, 13]


def test_delete_range_does_not_reach_prefix_named_symbols(writer: Store) -> None:
    _put(writer, "BTC", 1, 2)
    _put(writer, "BTCUSDT", 1, 2)
    writer.write(PendingWrites(delete_ranges=[(snapshot_key("BTC", 0), symbol_end("BTC"))]))
    assert _seconds(writer, "BTC") == []
    assert _seconds(writer, "BTCUSDT") == [1, 2]


def test_empty_pending_writes_is_falsy() -> None:
    assert not PendingWrites()
    assert PendingWrites(delete_ranges=[(b"X:0", b"X;")])
    assert PendingWrites(meta_puts=[(b"k", b"v")])
    assert PendingWrites(meta_deletes=[b"k"])


def test_symbols_lists_recorded_symbols_in_order(writer: Store) -> None:
    assert writer.symbols() == []
    _put(writer, "ETHBTC", 1, 2, 3)
    _put(writer, "BTCUSDT", 1, 2)
    _put(writer, "BTC", 9)
    _put(writer, "BTC-X", 4)
    _put_gap(writer, GapRecord("ZZZ", 1, 2, "r"))  # meta is not a symbol
    assert writer.symbols() == ["BTC-X", "BTC", "BTCUSDT", "ETHBTC"]


def test_gaps_round_trip(db_path: Path) -> None:
    with Store.open_writer(db_path) as store:
        _put_gap(store, GapRecord("ETHBTC", 1737158400, 1737158460, "reconnect"))
        store.write(
            PendingWrites(
                [],
                [(gap_key("BTCUSDT", 5), b"\x82\xa2to\x07\xa6reason\xa5limit")],
                [],
            )
        )
        store.put_session(1737158000, {"pid": 1})
        assert gap_key("BTCUSDT", 5) == b"gap:BTCUSDT:0000000005"
    with Store.open_reader(db_path) as reader:
        assert reader.gaps() == [
            GapRecord("BTCUSDT", 5, 7, "limit"),
            GapRecord("ETHBTC", 1737158400, 1737158460, "reconnect"),
        ]
        assert list(reader.meta_items(b"session:")) == [(b"session:1737158000", {"pid": 1})]
        assert reader.symbols() == []


# -- backup -------------------------------------------------------------------------------------


def _everything(path: Path) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, object]]]:
    """Every snapshot (raw) and every meta record of a directory, through a reader."""
    with Store.open_reader(path) as reader:
        snapshots = [
            (bytes(k), bytes(v)) for s in reader.symbols() for k, v in reader.scan(s, 0, MAX_TS_S)
        ]
        return snapshots, [*reader.meta_items(b"format"), *reader.meta_items(b"gap:")]


def _inodes(path: Path) -> set[int]:
    return {f.stat().st_ino for f in path.glob("*.sst")}


def test_backup_beside_an_open_writer_holds_exactly_what_a_reader_sees(
    db_path: Path, writer: Store, tmp_path: Path
) -> None:
    _put(writer, "BTCUSDT", *range(1, 11))
    _put(writer, "ETHUSDT", 1, 2, 3)
    _put_gap(writer, GapRecord("BTCUSDT", 0, 0, "startup"))
    _put_gap(writer, GapRecord("ETHUSDT", 5, 6, "disconnect"))
    writer.flush()  # into table files; what follows stays in the writer's memory (and WAL)
    writer.write(
        PendingWrites(
            delete_ranges=[
                (snapshot_key("BTCUSDT", 3), snapshot_key("BTCUSDT", 6)),
                (snapshot_key("ETHUSDT", 2), symbol_end("ETHUSDT")),  # the last keys of all
            ],
            meta_deletes=[gap_key("ETHUSDT", 5)],  # the last meta key
        )
    )
    _put(writer, "BTCUSDT", 7, tag="-repaired")
    _put(writer, "BTCUSDT", 11, 12)
    expected = _everything(db_path)
    assert [k for k, _ in expected[0]][:3] == [snapshot_key("BTCUSDT", s) for s in (1, 2, 6)]

    result = backup(db_path, tmp_path / "copy")

    assert _everything(tmp_path / "copy") == expected
    assert result.snapshots == len(expected[0]) == 10
    assert result.writes == 6  # two ranges and a meta record deleted, three seconds put
    assert _inodes(tmp_path / "copy") & _inodes(db_path)  # hard links, not copies
    assert not (tmp_path / "copy.partial").exists()
    _put(writer, "BTCUSDT", 13)  # the source goes on; the copy is its own database
    assert _everything(tmp_path / "copy") == expected


def test_backup_of_a_closed_directory_is_the_checkpoint_alone(
    db_path: Path, tmp_path: Path
) -> None:
    with Store.open_writer(db_path) as store:
        _put(store, "BTCUSDT", 1, 2, 3)
    result = backup(db_path, tmp_path / "a" / "b" / "copy")
    assert result.writes == 0
    assert _everything(tmp_path / "a" / "b" / "copy") == _everything(db_path)


@pytest.mark.parametrize(
    ("existing", "dest", "words"),
    [
        ("copy", "copy", "exists"),
        ("copy.partial", "copy", "copy.partial exists"),  # left by an interrupted backup
        (None, "db/copy", "inside the database"),
    ],
)
def test_backup_refuses_an_existing_or_nested_destination(
    db_path: Path, tmp_path: Path, existing: str | None, dest: str, words: str
) -> None:
    with Store.open_writer(db_path) as store:
        _put(store, "BTCUSDT", 1)
    if existing:
        (tmp_path / existing).mkdir()
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(UsageError, match=words):
        backup(db_path, tmp_path / dest)
    assert sorted(tmp_path.rglob("*")) == before


def test_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(DatabaseMissingError):
        backup(tmp_path / "nothing", tmp_path / "copy")
    assert list(tmp_path.iterdir()) == []


def test_a_lock_file_we_may_not_open_is_a_permission_error_not_another_process(
    tmp_path: Path,
) -> None:
    """RocksDB's words when the LOCK file is not ours (root cannot reproduce it for real)."""
    error = _translate(tmp_path, Exception(f"IO error: lock {tmp_path}/LOCK: Permission denied"))
    assert not isinstance(error, DatabaseLockedError)
    assert "permission denied; run as the user that records it" in str(error)
