"""Storage: bytes on disk per snapshot, encode + write cost, and scan + decode of one day.

Snapshots are what the recorder itself samples (simulator frames through decode -> sync -> book)
for a BTCUSDT-like and an ETHUSDT-like symbol. Generating a week of market takes too long, so
--distinct-hours of distinct data are generated and repeated (with the right timestamps) to fill
--days; a repeat is hours away from its original, far beyond one 64 KiB block, so it cannot
flatter compression.

    uv run python bench/storage.py [--days 7] [--distinct-hours 2] [--batch 100]
        [--market spot|usdm|coinm]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import DAY_S, START_S, write_days
from recorder.binance.market import Market
from recorder.read import Database
from recorder.storage.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--distinct-hours", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100, help="snapshots per write batch")
    parser.add_argument("--market", choices=[m.value for m in Market], default="spot")
    args = parser.parse_args()

    kind = Market(args.market)
    path = Path(tempfile.mkdtemp(prefix="obrec-bench-")) / "db"
    count, encode_write_s = write_days(path, args.days, args.distinct_hours, args.batch, kind)
    with Store.open_writer(path) as store:
        sst = store.table_bytes()
        total = store.size_on_disk()
    with Database.open(path) as db:
        started = time.perf_counter()
        first = db.symbols()[0]
        day = sum(1 for _ in db.snapshots(first, START_S, START_S + DAY_S - 1))
        scan_s = time.perf_counter() - started
    shutil.rmtree(path.parent)

    print(
        f"{kind.value}: {count:,} snapshots ({args.days} days x 2 symbols, depth 20), "
        f"{args.distinct_hours} distinct hours repeated, batches of {args.batch}"
    )
    print(f"encode + write: {encode_write_s / count * 1e6:.1f} µs per snapshot")
    print(
        f"after compaction: table files {sst / count:.1f} B per snapshot, "
        f"whole directory {total / count:.1f} B per snapshot"
    )
    print(f"scan + decode one day of {first} ({day:,} snapshots): {scan_s:.2f} s")


if __name__ == "__main__":
    main()
