"""End to end: the real ``obrec record`` process against a pre-generated feed over loopback
WebSockets, at Binance's real rate (10 events/s per symbol, ~36 changes per event, 5,000-level
books), measuring the recorder process alone.

    uv run python -m bench.e2e [--symbols 1500] [--seconds 120] [--warmup 120]

Three processes: the feed (``bench/feed.py``: generates its tape first, in worker processes, then
serves it at real time), the recorder (``python -m recorder record --symbols @FILE ...``) and this
one, which samples the recorder's ``/proc/PID/stat`` and ``statm`` and reads the database as users
do while a recorder runs: it reopens it read-only about every ``--poll`` seconds (``Database.open``)
and notes, for every new key, when it was first seen minus the end of its second: an upper bound,
late by up to one poll interval.

Phases: cold start until every symbol has a readable snapshot (REST snapshots at
``--snapshot-limit``, paced by the recorder's own weight budget), then ``--warmup`` seconds (a
book synced from a 100-level snapshot grows to the feed's 5,000 levels in about 100 s), then the
steady window of ``--seconds`` over which CPU, memory and latency are reported. Prints a markdown
table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.tape import symbol_names
from recorder.binance.endpoints import depth_weight
from recorder.config import RecordConfig
from recorder.database import Database
from recorder.errors import DatabaseMissingError
from recorder.storage.codec import MAX_TS_S, SECONDS_DIGITS

STARTUP_MARGIN_S = 30
AFTER_WINDOW_S = 10
"""How long the reader keeps looking for the window's last seconds after the window ends."""
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MB = 1e6


def cold_start_s(symbols: int, limit: int) -> int:
    """Seconds the recorder's REST weight budget needs for one depth snapshot of every symbol,
    plus a margin."""
    per_minute = RecordConfig(("BTCUSDT",), Path()).weight_per_minute  # the recorder's default
    burst = per_minute // 6  # as recorder/app.py builds its WeightBudget
    needed = max(0, symbols * depth_weight(limit) - burst)
    return math.ceil(needed * 60 / per_minute) + STARTUP_MARGIN_S


@dataclass(frozen=True, slots=True)
class ProcSample:
    wall_s: float
    cpu_s: float
    """utime + stime of every thread (RocksDB's included)."""
    rss_bytes: int


def sample(pid: int) -> ProcSample:
    stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    # After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
    cpu_s = (int(stat[11]) + int(stat[12])) / TICKS_PER_S
    return ProcSample(time.time(), cpu_s, rss_pages * PAGE_BYTES)


@dataclass(slots=True)
class Reader:
    """Reopens the database like a user's query and times when each second becomes readable."""

    db: Path
    next_s: dict[str, int]
    seen: list[tuple[int, float]] = field(default_factory=list)
    """(second, seen - end of the second) for every key, in order of discovery."""
    polls: list[tuple[float, float]] = field(default_factory=list)
    """(start, seconds spent opening and scanning) per poll."""
    live: int = 0

    def poll(self) -> None:
        started = time.time()
        try:
            database = Database.open(self.db)
        except DatabaseMissingError:
            return  # the recorder has not created it yet
        with database:
            # Conservative: a key is counted as readable only once the open has returned.
            opened = time.time()
            for symbol, next_s in self.next_s.items():
                last = None
                for key, _ in database.store.scan(symbol, next_s, MAX_TS_S):
                    last = int(key[-SECONDS_DIGITS:])
                    self.seen.append((last, opened - last - 1))
                if last is not None:
                    if next_s == 0:
                        self.live += 1
                    self.next_s[symbol] = last + 1
        self.polls.append((started, time.time() - started))


@dataclass(frozen=True, slots=True)
class Mark:
    """Everything measured at one edge of the steady window."""

    recorder: ProcSample
    feed: ProcSample
    feed_stats: dict[str, Any]
    reader_cpu_s: float


def feed_stats(rest_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{rest_url}/bench/stats", timeout=10) as response:
        stats: dict[str, Any] = json.load(response)
        return stats


@dataclass(slots=True)
class Run:
    args: argparse.Namespace
    info: dict[str, Any]
    started_s: float = 0.0
    live_s: float = 0.0
    rss: list[ProcSample] = field(default_factory=list)
    start: Mark | None = None
    end: Mark | None = None
    exit_code: int | None = None


def mark(run: Run, recorder_pid: int, feed_pid: int) -> Mark:
    stats = feed_stats(run.info["rest_url"])
    return Mark(sample(recorder_pid), sample(feed_pid), stats, time.process_time())


def measure(run: Run, recorder: subprocess.Popen[bytes], feed_pid: int, reader: Reader) -> None:
    """Poll and sample until the steady window and the reader's look-behind are over."""
    args = run.args
    symbols = len(reader.next_s)
    window_end = math.inf
    next_sample = next_report = run.started_s = time.time()
    while True:
        if recorder.poll() is not None:
            tail = (reader.db.parent / "recorder.log").read_text().splitlines()[-5:]
            raise SystemExit(
                f"the recorder exited early with code {recorder.returncode}: " + "\n".join(tail)
            )
        poll_started = time.time()
        reader.poll()
        now = time.time()
        if now >= next_sample:
            run.rss.append(sample(recorder.pid))
            next_sample += 1
        if not run.live_s:
            if reader.live == symbols:
                run.live_s = now
                window_end = now + args.warmup + args.seconds
                if window_end + AFTER_WINDOW_S > run.info["end_s"]:
                    raise SystemExit("the tape ends before the window does: raise --startup")
            elif now - run.started_s > args.startup:
                raise SystemExit(f"only {reader.live} of {symbols} symbols live: raise --startup")
        elif run.start is None and now >= run.live_s + args.warmup:
            run.start = mark(run, recorder.pid, feed_pid)
        elif run.end is None and now >= window_end:
            run.end = mark(run, recorder.pid, feed_pid)
        elif run.end is not None and (
            now >= window_end + AFTER_WINDOW_S
            or min(reader.next_s.values()) >= math.floor(window_end)
        ):
            return
        if now >= next_report and run.rss:
            next_report += 10
            rss_mb = run.rss[-1].rss_bytes / MB
            print(
                f"{now - run.started_s:4.0f} s: {reader.live}/{symbols} symbols live, "
                f"recorder RSS {rss_mb:,.0f} MB",
                file=sys.stderr,
            )
        # A random phase, so that polls do not lock onto the recorder's 250 ms flushes.
        interval = args.poll * random.uniform(0.5, 1.5)
        time.sleep(max(0.0, poll_started + interval - time.time()))


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def report(run: Run, reader: Reader, command: str) -> None:
    args, info, start, end = run.args, run.info, run.start, run.end
    assert start is not None
    assert end is not None
    n = args.symbols
    span_s = end.recorder.wall_s - start.recorder.wall_s
    cpu = (end.recorder.cpu_s - start.recorder.cpu_s) / span_s
    feed_cpu = (end.feed.cpu_s - start.feed.cpu_s) / span_s
    reader_cpu = (end.reader_cpu_s - start.reader_cpu_s) / span_s
    events = end.feed_stats["frames_sent"] - start.feed_stats["frames_sent"]
    window = [s for s in run.rss if start.recorder.wall_s <= s.wall_s <= end.recorder.wall_s]
    rss_a, rss_b = start.recorder.rss_bytes, end.recorder.rss_bytes
    peak = max(s.rss_bytes for s in run.rss)
    first_s, last_s = math.ceil(start.recorder.wall_s) - 1, math.floor(end.recorder.wall_s) - 1
    delays = sorted(d for ts, d in reader.seen if first_s <= ts <= last_s)
    expected = n * (last_s - first_s + 1)
    polls = [d for t, d in reader.polls if start.recorder.wall_s <= t <= end.recorder.wall_s]
    tape_gb = (info["stored_bytes"] + info["checkpoint_bytes"]) / 1e9

    print(f"\n## End to end, {n:,} symbols\n\n    {command}\n")
    print(
        f"Tape: {info['tape_seconds']} s, {info['frames']:,} frames "
        f"({info['changes'] / info['frames']:.1f} changes per event, "
        f"{info['frame_bytes'] / info['frames']:,.0f} B per frame), {tape_gb:.2f} GB in memory "
        f"(frames and depth checkpoints, compressed), generated in {info['generation_s']:.0f} s by "
        f"{args.workers} workers. Depth snapshots at limit {args.snapshot_limit} (weight "
        f"{depth_weight(args.snapshot_limit)}); every symbol live after "
        f"{run.live_s - run.started_s:.0f} s; steady window of {span_s:.0f} s after "
        f"{args.warmup} s of warm-up. Recorder exit code on SIGTERM: {run.exit_code}.\n"
    )
    print("| what | target | measured |\n|---|---|---|")
    print(
        f"| recorder CPU, steady window | ≤ 60 % of one core at 1,500 symbols "
        f"(0.04 % per symbol) | **{cpu:.1%}** of one core: {cpu / n:.4%} per symbol, "
        f"{(end.recorder.cpu_s - start.recorder.cpu_s) / max(events, 1) * 1e6:.1f} µs "
        f"per event |"
    )
    print(
        f"| recorder RSS, steady window | flat | **{rss_a / MB:,.0f} → {rss_b / MB:,.0f} MB** "
        f"({(rss_b - rss_a) / rss_a:+.1%}; range {min(s.rss_bytes for s in window) / MB:,.0f} to "
        f"{max(s.rss_bytes for s in window) / MB:,.0f} MB), {rss_b / n / MB:.2f} MB per "
        f"symbol; peak {peak / MB:,.0f} MB (cold start included) |"
    )
    print(
        f"| end of second → readable (read-only reopen every {args.poll} s) | p99 ≤ 2 s | "
        f"p50 {percentile(delays, 0.5):.2f} s, **p99 {percentile(delays, 0.99):.2f} s**, max "
        f"{delays[-1]:.2f} s; {len(delays):,} of {expected:,} seconds readable |"
    )
    print(
        f"| events delivered | {n * 10:,}/s | {events / span_s:,.0f}/s; ticks late by more "
        f"than 100 ms: {end.feed_stats['late_ticks']}, max lag "
        f"{end.feed_stats['max_lag_s'] * 1000:.0f} ms, max socket backlog "
        f"{end.feed_stats['max_backlog_bytes'] / MB:.1f} MB |"
    )
    print(
        f"| feed CPU (not the bottleneck) | | {feed_cpu:.1%} of one core; feed RSS "
        f"{start.feed.rss_bytes / MB:,.0f} MB at the window's start |"
    )
    print(
        f"| reader CPU | | {reader_cpu:.1%} of one core; open + scan "
        f"{sum(polls) / len(polls) * 1000:.0f} ms mean, {max(polls) * 1000:.0f} ms max |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1500)
    parser.add_argument("--seconds", type=int, default=120, help="length of the steady window")
    parser.add_argument("--warmup", type=int, default=120, help="after every symbol is live")
    parser.add_argument("--snapshot-limit", type=int, default=100, help="recorder and feed")
    parser.add_argument("--startup", type=int, help="cold-start allowance (default: from weights)")
    parser.add_argument("--poll", type=float, default=0.5, help="reader reopen interval, s")
    parser.add_argument("--workers", type=int, default=2, help="processes making the tape")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.startup is None:
        args.startup = cold_start_s(args.symbols, args.snapshot_limit)
    command = " ".join(["uv run python -m bench.e2e", *sys.argv[1:]])

    work = Path(tempfile.mkdtemp(prefix="obrec-e2e-"))
    names = symbol_names(args.symbols)
    (work / "symbols.txt").write_text("\n".join(names) + "\n")
    tape_s = args.startup + args.warmup + args.seconds + AFTER_WINDOW_S + 5
    print(f"generating {tape_s} s of tape for {args.symbols} symbols...", file=sys.stderr)
    feed = subprocess.Popen(
        [
            *(sys.executable, "-m", "bench.feed", "--symbols", str(args.symbols)),
            *("--seconds", str(tape_s), "--snapshot-limit", str(args.snapshot_limit)),
            *("--workers", str(args.workers)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    recorder: subprocess.Popen[bytes] | None = None
    try:
        assert feed.stdout is not None
        line = feed.stdout.readline()
        if not line:
            raise SystemExit(f"the feed exited with code {feed.wait()}")
        run = Run(args, {**json.loads(line), "end_s": 0.0})
        run.info["end_s"] = feed_stats(run.info["rest_url"])["end_s"]
        reader = Reader(work / "db", dict.fromkeys(names, 0))
        with (work / "recorder.log").open("wb") as log:
            recorder = subprocess.Popen(
                [
                    *(sys.executable, "-m", "recorder", "record", "--symbols"),
                    *(f"@{work / 'symbols.txt'}", "--db", str(reader.db)),
                    *("--rest-url", run.info["rest_url"], "--ws-url", run.info["ws_url"]),
                    *("--snapshot-limit", str(args.snapshot_limit), "--log-level", "warning"),
                ],
                stderr=log,
            )
            measure(run, recorder, feed.pid, reader)
            recorder.send_signal(signal.SIGTERM)
            run.exit_code = recorder.wait(timeout=120)
        report(run, reader, command)
    finally:
        for process in (recorder, feed):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
