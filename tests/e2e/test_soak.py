"""Soak: 50 symbols for two and a half minutes with the faults all at once, as separate processes.

Books have 1,000 levels a side, what a REST snapshot holds, so that memory is at its steady
size once every symbol is in sync: a 5,000-level book would keep growing for minutes as the
stream fills in what the snapshot left out, which is not a leak.

Faults: dropped events, garbage frames, stale and slow REST snapshots, pings with a pong
deadline, and a serverShutdown on every connection once it is 40 s old (so three make-before-
break rollovers under load). The age-based close and abort faults are set too but, as on
Binance, a connection replaced every 40 s never reaches them; they are covered by their own
tests (tests/integration/test_record_simulator.py).

The coverage bound follows from the REST budget: at 50 weight per snapshot and the recorder's
default 4,800/min (600 at once, then 1.6 a second) the cold start of 50 symbols takes about
24 s, slow answers add a little, and stale ones cost a second snapshot. Each dropped event costs
one symbol a resync: 0.02 % of 500 events/s is one every 10 s, well within the budget. Drops must
stay rarer than the budget: each costs a snapshot, and 0.2 % would use 50 of the 80 weight/s.
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from recorder.read import Database
from tests.e2e.conftest import spawn, start_simulator, stop
from tests.helpers import mismatches, truth_from_lines

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(400)]
SYMBOLS = [f"S{i:02d}USDT" for i in range(50)]
SECONDS = 150


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_fifty_symbols_with_every_fault_stay_exact_covered_and_flat(tmp_path: Path) -> None:
    sim = start_simulator(
        tmp_path,
        "--symbols", ",".join(SYMBOLS),
        "--book-levels", "1000",  # what a snapshot holds: books are full size from the start
        "--drop-rate", "0.0002",
        "--malformed-rate", "0.01",
        "--stale-snapshot-rate", "0.3",
        "--stale-by", "3",
        "--rest-delay", "0.1",
        "--rest-jitter", "0.4",
        "--ping-interval", "5",
        "--pong-timeout", "15",
        "--shutdown-after", "40",
        "--shutdown-grace", "10",
        "--close-after", "100",
        "--abort-after", "170",
    )  # fmt: skip
    db = tmp_path / "db"
    recorder = spawn(
        "record", "--symbols", ",".join(SYMBOLS), "--db", str(db), *sim.endpoint_args()
    )
    try:
        started = time.time()
        time.sleep(60)
        early = rss_kib(recorder.pid)
        time.sleep(SECONDS - 60)
        late = rss_kib(recorder.pid)
        code, _, err = stop(recorder)
        assert code == 0, err[-2000:]
        assert stop(sim.process)[0] == 0  # it writes its truth as it exits
    finally:
        for process in (recorder, sim.process):  # only after a failure above
            if process.poll() is None:
                process.kill()

    assert late < early * 1.15 + 10_000, f"recorder memory grew from {early} to {late} KiB"
    truth = truth_from_lines(orjson.loads(line) for line in sim.truth.read_bytes().splitlines())
    with Database.open(db) as database:
        stored = [
            (s.symbol, s.ts_s, s.bids, s.asks)
            for symbol in database.symbols()
            for s in database.snapshots(symbol)
        ]
        stats = {s.symbol: s for s in database.stats().symbols}
        reasons = {gap.reason for gap in database.gaps()}
    assert mismatches(stored, truth) == []
    assert reasons <= {"startup", "sequence_gap"}, "no connection was lost: rollovers only"
    assert err.count("rolled over to a new connection") >= 3, err[-2000:]
    assert set(stats) == set(SYMBOLS)
    first = {symbol: s.first_s or 0 for symbol, s in stats.items()}
    last = {symbol: s.last_s or 0 for symbol, s in stats.items()}
    summary = ", ".join(
        f"{s.symbol} {s.coverage:.0%} from +{first[s.symbol] - started:.0f}s"
        for s in stats.values()
    )
    for symbol, s in stats.items():
        assert s.coverage > 0.9, f"{symbol}: coverage {s.coverage:.1%}; {summary}"
        assert first[symbol] < started + 60, f"{symbol}: first synced too late; {summary}"
        assert last[symbol] > started + SECONDS - 45, (
            f"{symbol}: stopped recording early; {summary}"
        )
    mean = sum(s.coverage for s in stats.values()) / len(stats)
    print(  # the report docs/benchmarks.md quotes (pytest -s)
        f"\nsoak: {len(stored):,} seconds stored, every one equal to the truth; coverage mean "
        f"{mean:.2%}, lowest {min(s.coverage for s in stats.values()):.2%}; "
        f"{err.count('rolled over to a new connection')} rollovers; gaps: {sorted(reasons)}; "
        f"recorder RSS {early:,} KiB at +60 s, {late:,} KiB at +{SECONDS} s"
    )
    assert mean > 0.97, f"mean coverage {mean:.1%}; {summary}"
