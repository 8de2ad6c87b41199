"""Ship one busy symbol to a real S3-compatible store on 127.0.0.1 (SeaweedFS, the tests' own
``tests/s3server.py``): the time and bytes of one hour and of one day.

    uv run python -m bench.ship [--distinct-hours 2]

Builds a one-day, 2-symbol directory at depth 20 (``bench/common.py``), closes its session so
every hour is final, then ships BTCUSDT: in-process, hour by hour (no Python start-up), and as
``obrec ship`` in a subprocess into a fresh bucket (start-up included); the reference of the
same sitting is ``obrec export --format parquet`` of that day to the local disk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import DAY_S, START_S, write_days
from recorder.lake.layout import LakeUrl
from recorder.lake.ship import HourShipped, Shipper, ShipRequest
from recorder.storage.store import Store
from tests.s3server import S3Server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distinct-hours", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="obrec-bench-ship-"))
    db = work / "db"
    count, _ = write_days(db, 1, args.distinct_hours)
    with Store.open_writer(db) as store:
        end_s = START_S + DAY_S - 1
        store.put_session(
            START_S, {"symbols": ["BTCUSDT", "ETHUSDT"], "start": START_S, "end": end_s}
        )
    print(f"directory: {count:,} snapshots, 1 day x 2 symbols, depth 20")
    server = S3Server(work / "s3")
    (work / "s3").mkdir()
    server.start()
    try:
        os.environ.update(server.env)
        bucket = server.new_root()
        request = ShipRequest(db, LakeUrl.parse(f"s3://{bucket}/lake"), symbols=("BTCUSDT",))
        hours: list[tuple[float, HourShipped]] = []
        started = time.perf_counter()

        def shipped(hour: HourShipped) -> None:
            hours.append((time.perf_counter(), hour))

        Shipper(request).ship(shipped, threading.Event())
        elapsed = time.perf_counter() - started
        ends = [t for t, _ in hours]
        per_hour = [b - a for a, b in zip([started, *ends[:-1]], ends, strict=True)]
        total = sum(h.bytes for _, h in hours)
        print(
            f"in-process: {len(hours)} hours in {elapsed:.2f} s; one hour {min(per_hour):.3f}-"
            f"{max(per_hour):.3f} s (median {sorted(per_hour)[len(per_hour) // 2]:.3f} s), "
            f"{total / len(hours) / 1e6:.2f} MB per hour, {total / 1e6:.1f} MB per day "
            f"({total / (len(hours) * 3600):.0f} B per snapshot)"
        )
        second = server.new_root()
        began = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "recorder",
                "ship",
                "--to",
                f"s3://{second}/lake",
                "--db",
                str(db),
                "--symbols",
                "BTCUSDT",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        summary = result.stderr.strip().splitlines()[-1]
        print(f"obrec ship, one day:      {time.perf_counter() - began:5.2f} s: {summary}")
        began = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "recorder",
                "export",
                "BTCUSDT",
                "--db",
                str(db),
                "--from",
                str(START_S),
                "--to",
                str(end_s),
                "--format",
                "parquet",
                "-o",
                str(work / "day.parquet"),
            ],
            capture_output=True,
            check=True,
        )
        size = (work / "day.parquet").stat().st_size
        print(
            f"reference, obrec export --format parquet of the same day to local disk: "
            f"{time.perf_counter() - began:5.2f} s, {size:,} bytes"
        )
    finally:
        server.stop()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
