"""Fixtures that run the real ``obrec`` CLI in subprocesses."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Set
from dataclasses import dataclass
from pathlib import Path

import pytest

from recorder.errors import DatabaseMissingError, StorageError
from recorder.read import Database

OBREC = [sys.executable, "-m", "recorder"]
PATIENCE_S = 60.0
"""How long a recorder may take to store its next second before a test gives up: a sync takes
about a second, but on a loaded machine interpreter start-up alone can take several."""


def obrec(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*OBREC, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*OBREC, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stop(process: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    """SIGTERM, then the exit code and output; fails the test if it does not exit in time."""
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def stored_seconds(db: Path) -> set[tuple[str, int]]:
    """Every (symbol, second) a reader sees now; opening also checks that every value decodes.
    Nothing before the directory exists."""
    try:
        with Database.open(db) as database:
            return {(sym, s.ts_s) for sym in database.symbols() for s in database.snapshots(sym)}
    except DatabaseMissingError:
        return set()


def wait_for_new_seconds(
    recorder: subprocess.Popen[str],
    db: Path,
    symbols: tuple[str, ...],
    before: Set[tuple[str, int]] = frozenset(),
) -> None:
    """Until each of ``symbols`` has a stored second not in ``before``: waiting for what a test
    needs, not for a time that suffices on a fast machine."""
    deadline = time.monotonic() + PATIENCE_S
    while True:
        try:
            new = stored_seconds(db) - before
        except StorageError:
            new = set()  # the recorder is still creating the directory
        if {symbol for symbol, _ in new} >= set(symbols):
            return
        assert recorder.poll() is None, recorder.communicate()[1][-2000:]
        assert time.monotonic() < deadline, f"no new second of {symbols} in {PATIENCE_S:.0f} s"
        time.sleep(0.1)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("obrec: error: ")
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


@dataclass(frozen=True)
class Simulator:
    process: subprocess.Popen[str]
    rest_url: str
    ws_url: str
    truth: Path

    def endpoint_args(self) -> list[str]:
        return ["--rest-url", self.rest_url, "--ws-url", self.ws_url]


def start_simulator(tmp: Path, *extra: str) -> Simulator:
    truth = tmp / "truth.jsonl"
    process = spawn("simulate", "--port", "0", "--truth", str(truth), *extra)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"--rest-url (\S+) --ws-url (\S+)", line)
    assert match, f"simulate printed {line!r}"
    return Simulator(process, match[1], match[2], truth)


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Simulator]:
    sim = start_simulator(tmp_path, "--symbols", "BTCUSDT,ETHUSDT")
    yield sim
    if sim.process.poll() is None:
        sim.process.kill()
        sim.process.communicate()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database filled by ``obrec demo`` (which is also what this checks works)."""
    db = tmp_path_factory.mktemp("demo") / "db"
    result = obrec("demo", "--seconds", "4", "--db", str(db), "--symbols", "BTCUSDT,ETHUSDT")
    assert result.returncode == 0, result.stderr
    assert "Latest stored snapshot" in result.stdout
    assert "BTCUSDT" in result.stdout
    return db
