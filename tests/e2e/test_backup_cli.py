"""``obrec backup`` through the real CLI, beside a running ``obrec record``."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import orjson
import pytest

from recorder.storage.layout import MAX_TS_S
from recorder.storage.store import Store
from tests.e2e.conftest import assert_one_line_error, obrec, spawn, start_simulator, stop

pytestmark = pytest.mark.e2e


def stored(db: Path) -> dict[bytes, bytes]:
    """Every snapshot of a directory, raw, as a reader sees it now."""
    with Store.open_reader(db) as reader:
        return {
            bytes(k): bytes(v) for s in reader.symbols() for k, v in reader.scan(s, 0, MAX_TS_S)
        }


def inodes(db: Path) -> set[int]:
    return {f.stat().st_ino for f in db.glob("*.sst")}


def test_backup_while_recording_holds_every_second_stored_before_it(
    demo_db: Path, tmp_path: Path
) -> None:
    db, copy = tmp_path / "db", tmp_path / "backups" / "copy"
    shutil.copytree(demo_db, db)  # earlier seconds, in table files
    earlier = len(stored(db))
    sim = start_simulator(tmp_path, "--symbols", "BTCUSDT,ETHUSDT")
    recorder = spawn(
        "record", "--symbols", "BTCUSDT,ETHUSDT", "--db", str(db), *sim.endpoint_args()
    )
    try:
        # Wait for new seconds: the recorder holds them in memory (and its WAL) only.
        deadline = time.monotonic() + 60
        while len(before := stored(db)) < earlier + 6:
            assert recorder.poll() is None, recorder.communicate()[1]
            assert time.monotonic() < deadline, "the recorder stored no new seconds"
            time.sleep(0.2)
        result = obrec("backup", str(copy), "--db", str(db))
        assert result.returncode == 0, result.stderr
        assert f"backed up {db} to {copy}" in result.stderr
        assert inodes(copy) & inodes(db)  # table files hard-linked, not copied
        code, _, err = stop(recorder)
        assert code == 0, err
    finally:
        for process in (recorder, sim.process):
            if process.poll() is None:
                process.kill()
                process.communicate()

    backed_up = stored(copy)
    assert {key: backed_up.get(key) for key in before} == before  # each one, identical
    final = stored(db)
    assert {key: final.get(key) for key in backed_up} == backed_up  # nothing the recorder lacks
    stats = obrec("stats", "--db", str(copy), "--format", "json")
    assert stats.returncode == 0, stats.stderr
    doc = orjson.loads(stats.stdout)
    assert sum(s["snapshots"] for s in doc["symbols"]) == len(backed_up)


def test_backup_refuses_an_existing_destination(demo_db: Path, tmp_path: Path) -> None:
    (tmp_path / "copy").mkdir()
    result = obrec("backup", str(tmp_path / "copy"), "--db", str(demo_db))
    assert_one_line_error(result, 2, "exists")
    assert list((tmp_path / "copy").iterdir()) == []


def test_backup_of_a_missing_database_is_a_usage_error(tmp_path: Path) -> None:
    result = obrec("backup", str(tmp_path / "copy"), "--db", str(tmp_path / "nothing"))
    assert_one_line_error(result, 2, "no obrec database", "nothing")
    assert list(tmp_path.iterdir()) == []


def test_backup_has_help() -> None:
    result = obrec("backup", "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout
