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

from bench.common import symbol_names
from recorder.binance.endpoints import depth_weight
from recorder.config import WEIGHT_PER_MINUTE
from recorder.errors import DatabaseMissingError, StorageError
from recorder.read import Database
from recorder.storage.layout import MAX_TS_S, second_of

STARTUP_MARGIN_S = 30
AFTER_WINDOW_S = 10
"""How long the reader keeps looking for the window's last seconds after the window ends."""
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MB = 1e6


def cold_start_s(symbols: int, limit: int) -> int:
    """Seconds the recorder's REST weight budget needs for one depth snapshot of every symbol,
    plus a margin."""
    per_minute = WEIGHT_PER_MINUTE  # the recorder's default
    needed = symbols * depth_weight(limit)  # its initial burst only shortens this
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
    failures: int = 0
    """Opens that failed once the database existed: what a user's query would have met."""

    def poll(self) -> None:
        started = time.time()
        try:
            database = Database.open(self.db)
        except DatabaseMissingError:
            return  # the recorder has not created it yet
        except StorageError as exc:
            self.failures += 1
            print(f"reader: {exc}", file=sys.stderr)
            return
        with database:
            # Conservative: a key is counted as readable only once the open has returned.
            opened = time.time()
            for symbol, next_s in self.next_s.items():
                last = None
                for key, _ in database.store.scan(symbol, next_s, MAX_TS_S):
                    last = second_of(key)
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


def feed_stats(rest_url: str, *, reset: bool = False) -> dict[str, Any]:
    url = f"{rest_url}/bench/stats{'?reset=1' if reset else ''}"
    with urllib.request.urlopen(url, timeout=10) as response:
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
    """At the window's start, the feed's maxima restart, so that its end reports the window's."""
    stats = feed_stats(run.info["rest_url"], reset=run.start is None)
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
            window_end = run.start.recorder.wall_s + args.seconds
        elif run.end is None and now >= window_end:
            run.end = mark(run, recorder.pid, feed_pid)
        elif run.end is not None and (
            now >= window_end + AFTER_WINDOW_S
            or min(reader.next_s.values()) >= math.floor(window_end)
        ):
            return
        if now >= next_report and run.rss:
            next_report += 10
            phase = "window" if run.start else "warm-up" if run.live_s else "cold start"
            print(
                f"{now - run.started_s:4.0f} s, {phase}: {reader.live}/{symbols} symbols live, "
                f"recorder RSS {run.rss[-1].rss_bytes / MB:,.0f} MB",
                file=sys.stderr,
            )
        # A random phase, so that polls do not lock onto the recorder's 250 ms flushes.
        interval = args.poll * random.uniform(0.5, 1.5)
        time.sleep(max(0.0, poll_started + interval - time.time()))


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def setup_sentence(run: Run, span_s: float) -> str:
    args, info = run.args, run.info
    tape_gb = (info["stored_bytes"] + info["checkpoint_bytes"]) / 1e9
    return (
        f"Tape: {info['tape_seconds']} s, {info['frames']:,} frames "
        f"({info['changes'] / info['frames']:.1f} changes per event, "
        f"{info['frame_bytes'] / info['frames']:,.0f} B per frame), {tape_gb:.2f} GB in memory "
        f"(compressed frames and depth checkpoints), generated in {info['generation_s']:.0f} s "
        f"by {args.workers} workers. Depth snapshots at limit {args.snapshot_limit} (weight "
        f"{depth_weight(args.snapshot_limit)}); every symbol live after "
        f"{run.live_s - run.started_s:.0f} s; steady window of {span_s:.0f} s after "
        f"{args.warmup} s of warm-up. Recorder exit code on SIGTERM: {run.exit_code}."
    )


def rows(run: Run, reader: Reader, start: Mark, end: Mark) -> list[tuple[str, str, str]]:
    """(what, target, measured) over the steady window."""
    n = run.args.symbols
    t0, t1 = start.recorder.wall_s, end.recorder.wall_s
    cpu_s = end.recorder.cpu_s - start.recorder.cpu_s
    events = end.feed_stats["frames_sent"] - start.feed_stats["frames_sent"]
    rss = [start.recorder, end.recorder, *(s for s in run.rss if t0 <= s.wall_s <= t1)]
    rss_a, rss_b = start.recorder.rss_bytes / MB, end.recorder.rss_bytes / MB
    low, high = min(s.rss_bytes for s in rss) / MB, max(s.rss_bytes for s in rss) / MB
    peak = max(s.rss_bytes for s in run.rss) / MB
    first_s, last_s = math.ceil(t0) - 1, math.floor(t1) - 1  # seconds that end in the window
    delays = sorted(d for ts, d in reader.seen if first_s <= ts <= last_s)
    p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
    polls = [d for t, d in reader.polls if t0 <= t <= t1]
    late = end.feed_stats["late_ticks"] - start.feed_stats["late_ticks"]
    return [
        (
            "recorder CPU",
            "≤ 60 % of one core at 1,500 symbols (0.04 % per symbol)",
            f"**{cpu_s / (t1 - t0):.1%}** of one core: {cpu_s / (t1 - t0) / n:.4%} per symbol, "
            f"{cpu_s / max(events, 1) * 1e6:.1f} µs per event",
        ),
        (
            "recorder RSS",
            "flat",
            f"**{rss_a:,.0f} → {rss_b:,.0f} MB** ({rss_b / rss_a - 1:+.1%}; {low:,.0f} to "
            f"{high:,.0f} MB), {rss_b / n:.2f} MB per symbol; peak {peak:,.0f} MB in the run",
        ),
        (
            f"end of second → readable (read-only reopen every ~{run.args.poll} s)",
            "p99 ≤ 2 s at 1,500 symbols",
            f"p50 {p50:.2f} s, **p99 {p99:.2f} s**, max {delays[-1]:.2f} s; "
            f"{len(delays):,} of {n * (last_s - first_s + 1):,} seconds readable",
        ),
        (
            "events delivered",
            f"{n * 10:,}/s",
            f"{events / (t1 - t0):,.0f}/s; {late} ticks late by > 100 ms, max lag "
            f"{end.feed_stats['max_lag_s'] * 1000:.0f} ms, max socket backlog "
            f"{end.feed_stats['max_backlog_bytes'] / MB:.1f} MB",
        ),
        (
            "feed CPU",
            "not the bottleneck",
            f"{(end.feed.cpu_s - start.feed.cpu_s) / (t1 - t0):.1%} of one core; RSS "
            f"{start.feed.rss_bytes / MB:,.0f} MB",
        ),
        (
            "reader CPU",
            "",
            f"{(end.reader_cpu_s - start.reader_cpu_s) / (t1 - t0):.1%} of one core; open + "
            f"scan {sum(polls) / len(polls) * 1000:.0f} ms mean, {max(polls) * 1000:.0f} ms max; "
            f"{reader.failures} failed opens in the run",
        ),
    ]


def report(run: Run, reader: Reader, command: str) -> None:
    start, end = run.start, run.end
    assert start is not None
    assert end is not None
    print(f"\n## End to end, {run.args.symbols:,} symbols\n\n    {command}\n")
    print(setup_sentence(run, end.recorder.wall_s - start.recorder.wall_s) + "\n")
    print("| what (steady window) | target | measured |\n|---|---|---|")
    for row in rows(run, reader, start, end):
        print(f"| {' | '.join(row)} |")


def start_feed(
    args: argparse.Namespace, tape_s: int
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """The feed process, once it serves, and what it announced (URLs, tape, t0 and end)."""
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
    assert feed.stdout is not None
    line = feed.stdout.readline()
    if not line:
        raise SystemExit(f"the feed exited with code {feed.wait()}")
    info: dict[str, Any] = json.loads(line)
    return feed, info


def record_command(args: argparse.Namespace, info: dict[str, Any], work: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "recorder", "record", "--symbols", f"@{work / 'symbols.txt'}"),
        *("--db", str(work / "db"), "--rest-url", info["rest_url"], "--ws-url", info["ws_url"]),
        *("--snapshot-limit", str(args.snapshot_limit), "--log-level", "warning"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1500)
    parser.add_argument("--seconds", type=int, default=120, help="length of the steady window")
    parser.add_argument("--warmup", type=int, default=120, help="after every symbol is live")
    parser.add_argument("--snapshot-limit", type=int, default=100, help="recorder and feed")
    parser.add_argument("--startup", type=int, help="cold-start allowance (default: from weights)")
    parser.add_argument("--poll", type=float, default=0.5, help="mean reader reopen interval, s")
    parser.add_argument("--workers", type=int, default=2, help="processes making the tape")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.startup is None:
        args.startup = cold_start_s(args.symbols, args.snapshot_limit)
    command = " ".join(["uv run python -m bench.e2e", *sys.argv[1:]])

    work = Path(tempfile.mkdtemp(prefix="obrec-e2e-"))
    names = symbol_names(args.symbols)
    (work / "symbols.txt").write_text("\n".join(names) + "\n")
    feed, info = start_feed(args, args.startup + args.warmup + args.seconds + AFTER_WINDOW_S + 5)
    recorder: subprocess.Popen[bytes] | None = None
    try:
        run = Run(args, info)
        reader = Reader(work / "db", dict.fromkeys(names, 0))
        with (work / "recorder.log").open("wb") as log:
            recorder = subprocess.Popen(record_command(args, info, work), stderr=log)
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
