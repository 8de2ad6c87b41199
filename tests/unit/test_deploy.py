"""The systemd units in deploy/, checked by systemd's own tools as shipped (only the path of
``obrec`` is changed, to this environment's): ``systemd-analyze verify`` (syntax, unknown keys,
bad values, missing executables, a timer's service) and ``security`` (the sandbox's exposure)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parents[2] / "deploy"
INSTALLED = "/opt/obrec/bin/obrec"
UNITS = [*sorted(p.name for p in DEPLOY.glob("obrec-*.service")), "obrec-prune.timer"]
MAX_EXPOSURE = 20
"""``systemd-analyze security`` level times 10: 2.0 of 10 is what systemd calls "OK"."""


@pytest.fixture
def units(tmp_path: Path) -> Path:
    obrec = Path(sys.executable).parent / "obrec"
    assert obrec.is_file(), "the project's venv has no obrec script; run uv sync"
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        (tmp_path / name).write_text(text.replace(INSTALLED, str(obrec)))
    return tmp_path


def analyze(units: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def instances(names: list[str]) -> list[str]:
    """A template is checked through an instance of it."""
    return [name.replace("@.", "@test.") for name in names]


def test_every_unit_runs_the_installed_obrec() -> None:
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        assert INSTALLED in text or name.endswith(".timer"), name
    assert set(UNITS) >= {"obrec-record.service", "obrec-record@.service", "obrec-prune.service"}


def test_systemd_analyze_verify_finds_nothing(units: Path) -> None:
    result = analyze(units, "verify", "--man=no", *instances(UNITS))
    assert result.returncode == 0, result.stderr
    about_ours = [line for line in result.stderr.splitlines() if "obrec" in line]
    assert about_ours == []


@pytest.mark.parametrize("name", instances([u for u in UNITS if u.endswith(".service")]))
def test_sandbox_exposure_is_low(units: Path, name: str) -> None:
    result = analyze(units, "security", "--offline=true", f"--threshold={MAX_EXPOSURE}", name)
    assert result.returncode == 0, result.stdout.splitlines()[-1]


RECORDER_UNITS = ["obrec-record.service", "obrec-record@.service"]
APPLY_ONE_EVENT = """
from recorder.binance.wire import RawLevels
from recorder.book.orderbook import OrderBook
book = OrderBook()
book.apply(RawLevels(b'[["1.5","2"]]'), RawLevels(b'[]'))
assert book.top(1) == ([150000000], [200000000], [], [])
"""


def test_the_books_compiled_code_cannot_run_under_memory_deny_write_execute() -> None:
    """What ``MemoryDenyWriteExecute=yes`` does (Linux's PR_SET_MDWE, which systemd uses where
    the kernel has it) stops the book: its kernels are machine code loaded into executable
    memory. So the recorder's units must not set it; ``obrec prune``'s keeps it."""
    code = "import ctypes\nassert ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0\n" + APPLY_ONE_EVENT
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "cannot allocate executable memory" in result.stderr
    for name in RECORDER_UNITS:
        assert "\nMemoryDenyWriteExecute=yes" not in (DEPLOY / name).read_text(), name
    assert "\nMemoryDenyWriteExecute=yes" in (DEPLOY / "obrec-prune.service").read_text()


def test_the_books_compiled_code_is_cached_where_the_units_say(tmp_path: Path) -> None:
    """The units point numba at their ``CacheDirectory=``: a recorder compiles the book there
    once and later starts load it (the package's own directory is read-only to them)."""
    for name in RECORDER_UNITS:
        text = (DEPLOY / name).read_text()
        assert "\nCacheDirectory=obrec\n" in text, name
        assert "\nEnvironment=NUMBA_CACHE_DIR=%C/obrec/numba\n" in text, name
    cache = tmp_path / "numba"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    result = subprocess.run(
        [sys.executable, "-c", APPLY_ONE_EVENT],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert {p.suffix for p in cache.rglob("*")} >= {".nbi", ".nbc"}
