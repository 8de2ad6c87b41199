"""Read side through the real CLI (Python start-up included): one day of one symbol at depth 20
from a 7-day, 2-symbol directory, then a prune of the oldest day with its compaction.

    uv run python -m bench.read [--days 7] [--distinct-hours 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import DAY_S, START_S, write_days
from recorder.storage.store import Store

OBREC = [sys.executable, "-m", "recorder"]
# As installed, Python caches bytecode; some sandboxes turn that off, which would time compiling.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(label: str, *args: str) -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [*OBREC, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        env=ENV,
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    print(f"{label:34} {elapsed:5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--distinct-hours", type=int, default=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="obrec-bench-"))
    db = work / "db"
    count, _ = write_days(db, args.days, args.distinct_hours)
    print(f"directory: {count:,} snapshots, {args.days} days x 2 symbols, depth 20")
    subprocess.run([*OBREC, "stats", "--db", str(db)], capture_output=True, check=True, env=ENV)
    day = ["BTCUSDT", "--db", str(db), "--from", str(START_S), "--to", str(START_S + DAY_S - 1)]
    timed("query --format jsonl > /dev/null", "query", *day, "--format", "jsonl")
    timed(
        "export --format parquet",
        "export",
        *day,
        "--format",
        "parquet",
        "-o",
        str(work / "d.parquet"),
    )
    timed("export --format csv", "export", *day, "--format", "csv", "-o", str(work / "d.csv"))
    with Store.open_writer(db) as store:
        before = store.table_bytes()
    started = time.perf_counter()
    result = subprocess.run(
        [*OBREC, "prune", "--db", str(db), "--before", str(START_S + DAY_S)],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    elapsed = time.perf_counter() - started
    with Store.open_writer(db) as store:
        after = store.table_bytes()
    print(f"{'prune oldest day (with compaction)':34} {elapsed:5.2f} s: {result.stdout.strip()}")
    print(f"table files {before:,} -> {after:,} bytes ({(before - after) / before:.1%} less)")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
