"""Storage: bytes on disk per snapshot, encode + write cost, and scan + decode of one day.

Snapshots are what the recorder itself samples (simulator frames through decode -> sync -> book)
for a BTCUSDT-like and an ETHUSDT-like symbol. Generating a week of market takes too long, so
--distinct-hours of distinct data are generated and repeated (with the right timestamps) to fill
--days; a repeat is hours away from its original, far beyond one 64 KiB block, so it cannot
flatter compression.

    uv run python bench/storage.py [--days 7] [--distinct-hours 2] [--batch 100]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import recorded_snapshots
from recorder.database import Database
from recorder.storage.codec import Encoder, snapshot_key
from recorder.storage.store import PendingWrites, Store

DAY_S = 86_400
START_S = 1_800_000_000 - 1_800_000_000 % DAY_S
SYMBOLS = ("BTCUSDT", "ETHUSDT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--distinct-hours", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100, help="snapshots per write batch")
    args = parser.parse_args()

    books = recorded_snapshots(list(SYMBOLS), args.distinct_hours * 3600)
    period = min(len(b) for b in books.values())
    seconds = args.days * DAY_S
    path = Path(tempfile.mkdtemp(prefix="obrec-bench-")) / "db"
    rng = random.Random(1)
    encoder = Encoder()
    update_id = dict.fromkeys(SYMBOLS, 10**10)
    encode_write_s = 0.0
    store = Store.open_writer(path)
    pending = PendingWrites.empty()
    for offset in range(seconds):
        ts_s = START_S + offset
        for symbol in SYMBOLS:
            snap = books[symbol][offset % period]
            update_id[symbol] += rng.randint(200, 500)
            event_ms = ts_s * 1000 + snap.event_time_ms % 1000
            started = time.perf_counter()
            value = encoder.encode(
                event_ms, update_id[symbol], event_ms + rng.randint(3, 40), snap.bids, snap.asks
            )
            pending.puts.append((snapshot_key(symbol, ts_s), value))
            if len(pending.puts) >= args.batch:
                store.write(pending)
                pending = PendingWrites.empty()
            encode_write_s += time.perf_counter() - started
    store.write(pending)
    count = seconds * len(SYMBOLS)
    started = time.perf_counter()
    store.compact()
    compact_s = time.perf_counter() - started
    sst = sum(f.stat().st_size for f in path.glob("*.sst"))
    total = store.size_on_disk()
    store.close()

    with Database.open(path) as db:
        started = time.perf_counter()
        day = sum(1 for _ in db.snapshots("BTCUSDT", START_S, START_S + DAY_S - 1))
        scan_s = time.perf_counter() - started
    shutil.rmtree(path.parent)

    print(
        f"{count:,} snapshots ({args.days} days x {len(SYMBOLS)} symbols, depth 20), "
        f"{args.distinct_hours} distinct hours repeated, batches of {args.batch}"
    )
    print(f"encode + write: {encode_write_s / count * 1e6:.1f} µs per snapshot")
    print(
        f"after compaction ({compact_s:.1f} s): SST files {sst / count:.1f} B per snapshot, "
        f"whole directory {total / count:.1f} B per snapshot"
    )
    print(f"scan + decode one day of BTCUSDT ({day:,} snapshots): {scan_s:.2f} s")


if __name__ == "__main__":
    main()
