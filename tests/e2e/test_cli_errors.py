"""Bad input through the real CLI: one line on stderr, the right exit code, nothing harmed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from recorder.storage.layout import GapRecord, PendingWrites
from recorder.storage.store import Store
from tests.e2e.conftest import Simulator, assert_one_line_error, obrec, start_simulator, stop

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def module_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    sim = start_simulator(tmp_path_factory.mktemp("sim"), "--symbols", "BTCUSDT")
    yield sim
    stop(sim.process)


def test_demo_stores_snapshots_that_query_reads_back(demo_db: Path) -> None:
    result = obrec("query", "BTCUSDT", "--db", str(demo_db), "--from", "-10m", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('[{"symbol":"BTCUSDT"')


def test_unknown_symbol_is_exit_2_and_creates_nothing(
    module_simulator: Simulator, tmp_path: Path
) -> None:
    db = tmp_path / "db"
    result = obrec(
        "record", "--symbols", "BTCUSDT,FOOBAR", "--db", str(db), *module_simulator.endpoint_args()
    )
    assert_one_line_error(result, 2, "FOOBAR")
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--depth", "0"], ["--depth"]),
        (["--snapshot-limit", "7"], ["--snapshot-limit", "1000"]),
        (["--depth", "200", "--snapshot-limit", "100"], ["below --depth"]),
        (["--log-level", "loud"], ["--log-level", "warning"]),
        (["--retain", "7 days"], ["--retain", "7d"]),
    ],
)
def test_bad_record_options_are_exit_2(tmp_path: Path, args: list[str], words: list[str]) -> None:
    result = obrec("record", "--symbols", "BTCUSDT", "--db", str(tmp_path / "db"), *args)
    assert_one_line_error(result, 2, *words)
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize("symbols", ["", " , ", "BTC-USDT"])
def test_bad_symbol_lists_are_exit_2(tmp_path: Path, symbols: str) -> None:
    assert_one_line_error(obrec("record", "--symbols", symbols, "--db", str(tmp_path)), 2, "symbol")


def test_record_refuses_a_directory_that_is_not_a_database(
    module_simulator: Simulator, tmp_path: Path
) -> None:
    (tmp_path / "precious.txt").write_text("keep")
    result = obrec(
        "record", "--symbols", "BTCUSDT", "--db", str(tmp_path), *module_simulator.endpoint_args()
    )
    assert_one_line_error(result, 1, "not an obrec database")
    assert [p.name for p in tmp_path.iterdir()] == ["precious.txt"]


def test_record_reports_an_unreachable_exchange(tmp_path: Path) -> None:
    result = obrec(
        "record",
        "--symbols",
        "BTCUSDT",
        "--db",
        str(tmp_path / "db"),
        "--rest-url",
        "http://127.0.0.1:9",
        "--ws-url",
        "ws://127.0.0.1:9",
    )
    assert_one_line_error(result, 1, "cannot reach")


def test_query_of_a_missing_database_is_exit_2_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "nothing-here"
    result = obrec("query", "BTCUSDT", "--db", str(db), "--from", "0")
    assert_one_line_error(result, 2, "no obrec database", "--db")
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "yesterday"], ["--from", "yesterday", "ISO 8601"]),
        (["--from", "0", "--to", "2026-13-01"], ["--to"]),
        (["--from", "200", "--to", "100"], ["after", "swap"]),
        (["--from", "0", "--format", "xml"], ["--format"]),
        (["--from", "0", "--levels", "0"], ["--levels 0", "1 to 5000"]),
        (["--from", "0", "--levels", "-3", "--format", "csv"], ["--levels -3", "1 to 5000"]),
    ],
)
def test_bad_query_input_is_exit_2(demo_db: Path, args: list[str], words: list[str]) -> None:
    assert_one_line_error(obrec("query", "BTCUSDT", "--db", str(demo_db), *args), 2, *words)


@pytest.mark.parametrize(
    ("fmt", "name", "words"),
    [
        ("parquet", "x.csv", ["-o", "x.csv", "like csv", "--format is parquet", "x.parquet"]),
        ("csv", "x.parquet", ["like parquet", "--format is csv", "--format parquet"]),
        ("jsonl", "x.CSV", ["like csv", "x.jsonl"]),
    ],
)
def test_export_refuses_a_file_named_for_another_format(
    demo_db: Path, tmp_path: Path, fmt: str, name: str, words: list[str]
) -> None:
    result = obrec(
        "export", "BTCUSDT", "--db", str(demo_db), "--from", "0", "--format", fmt,
        "-o", str(tmp_path / name),
    )  # fmt: skip
    assert_one_line_error(result, 2, *words)
    assert list(tmp_path.iterdir()) == []


def test_query_of_a_symbol_never_recorded_lists_the_recorded_ones(demo_db: Path) -> None:
    result = obrec("query", "XRPUSDT", "--db", str(demo_db), "--from", "0")
    assert_one_line_error(result, 2, "XRPUSDT", "BTCUSDT, ETHUSDT")


def test_a_recorded_symbol_with_nothing_stored_is_an_empty_window(
    demo_db: Path, tmp_path: Path
) -> None:
    """A recorder asked for RUNEEUR (a quiet symbol) stored no snapshot of it yet, only a gap."""
    db = tmp_path / "db"
    shutil.copytree(demo_db, db)
    with Store.open_writer(db) as store:
        store.put_session(1_000, {"symbols": ["BTCUSDT", "RUNEEUR"], "start": 1_000})
        pending = PendingWrites()
        pending.record_gap(GapRecord("RUNEEUR", 1_000, 1_006, "startup"))
        store.write(pending)
    result = obrec("query", "RUNEEUR", "--db", str(db), "--from", "0", "--to", "now")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "no snapshots of RUNEEUR" in result.stderr
    stats = obrec("stats", "--db", str(db), "--format", "json")
    assert stats.returncode == 0, stats.stderr
    (rune,) = [s for s in orjson.loads(stats.stdout)["symbols"] if s["symbol"] == "RUNEEUR"]
    assert (rune["snapshots"], rune["gaps"], rune["gap_seconds"]) == (0, 1, 7)


def test_empty_window_is_a_note_and_exit_0(demo_db: Path) -> None:
    result = obrec("query", "BTCUSDT", "--db", str(demo_db), "--from", "0", "--to", "10")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "no snapshots" in result.stderr


def test_bad_flag_is_a_usage_error(demo_db: Path) -> None:
    result = obrec("query", "BTCUSDT", "--db", str(demo_db), "--frm", "0")
    assert result.returncode == 2
    assert "No such option: --frm" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["record", "query", "simulate", "demo"])
def test_every_command_has_help(command: str) -> None:
    result = obrec(command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout
    assert len(result.stdout.splitlines()) > 5
