"""Coverage under faults: the real ``obrec record`` process against the simulator, with every
stored second compared with the simulator's truth.

    uv run python -m bench.faults              # issue 11's compound faults, busy symbols
    uv run python -m bench.faults --activity 0.03 --drop-every 20 --no-faults  # quiet ones

The simulator is the one ``obrec simulate`` serves (``SimulatorServer``), run in this process so
that it can simulate quiet symbols and tell which events no connection received; the recorder is
``python -m recorder record`` in its own process, stopped with SIGTERM.

Faults (defaults: issue 11's): a close frame on every connection at age ``--close-after`` (9 s),
TCP aborts at ``--abort-after`` (13 s; a connection closed at 9 s never reaches it), one dropped
event every ``--drop-every`` seconds (10) and one garbage frame every ``--malformed-every`` (2)
across the stream, ``--stale-rate`` (20 %) of depth answers ``--stale-by`` (5 s) old, every answer
``--rest-delay`` (150 ms) late, and pings every ``--ping-interval`` (2 s).

Knowable seconds, per symbol: from the first second the recorder stored (the cold start is paced
by the weight budget and measured elsewhere) to the last one it stored, except the seconds no
client could know. A dropped event, or a connection the server ended, leaves the book unknown
from the second of the last event delivered before it until the second of the next event
delivered, which a client that fetched a snapshot at that very moment would know again. Events
sent while the recorder had no connection are not excused: a client that reconnected at once
would have had them. Coverage is the knowable seconds stored equal to the truth; a stored
second that differs from the truth (or has none) is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import symbol_names
from recorder.read import Database
from recorder.simulator.connection import ENDINGS
from recorder.simulator.faults import FaultPlan
from recorder.simulator.market import Market
from recorder.simulator.server import SimulatorServer, spec_for

TICKS_PER_S = 10
"""The simulator steps every 100 ms; ``activity`` is the chance of an event per step."""
DEPTH = 20


DELIVERED, DROPPED, BROKEN = "delivered", "dropped", "broken"


@dataclass(slots=True)
class Deliveries:
    """Per symbol, in time order: each event, delivered or dropped, and each connection the
    server ended (all the bench's symbols share one connection)."""

    events: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def watch(self, server: SimulatorServer) -> None:
        """Wrap the server's market step, drop dice and connection acts (their behaviour is
        unchanged). An event sent while the recorder has no connection counts as delivered: a
        client that reconnected at once would have had it."""
        step, drop, act = server.market.step, server.faults.drop_event, server._act
        subscribed: deque[tuple[str, int]] = deque()

        def note(symbol: str, time_ms: int, what: str) -> None:
            self.events.setdefault(symbol, []).append((time_ms, what))

        def watched_step(now_ms: int) -> list[dict[str, Any]]:
            events = step(now_ms)
            for event in events:
                if server._subscribers.get(event["s"]):
                    subscribed.append((event["s"], event["E"]))
                else:
                    note(event["s"], event["E"], DELIVERED)
            return events

        def watched_drop() -> bool:
            dropped = drop()
            if subscribed:  # (a connection that came or went mid-tick may shift one event)
                symbol, time_ms = subscribed.popleft()
                note(symbol, time_ms, DROPPED if dropped else DELIVERED)
            return dropped

        async def watched_act(*args: Any) -> None:
            await act(*args)
            if args[3] in ENDINGS:
                for symbol in server.market.symbols:
                    note(symbol, int(args[4] * 1000), BROKEN)

        server.market.step = watched_step  # type: ignore[method-assign]
        server.faults.drop_event = watched_drop  # type: ignore[method-assign]
        server._act = watched_act  # type: ignore[method-assign,assignment]

    def unknowable(self, symbol: str) -> set[int]:
        """Seconds no client could know: from the second of the last event delivered before a
        dropped event or a broken connection, up to the second of the next event delivered
        (a client that fetched a snapshot at once would know that one)."""
        out: set[int] = set()
        last_s: int | None = None
        hole = False
        for time_ms, what in sorted(self.events.get(symbol, [])):
            if what != DELIVERED:
                hole = True
                continue
            second = time_ms // 1000
            if hole and last_s is not None:
                out.update(range(last_s, second))
            hole, last_s = False, second
        return out


@dataclass(frozen=True, slots=True)
class Result:
    symbol: str
    knowable: int
    stored: int
    wrong: int
    first_s: int | None
    gaps: dict[str, int]

    @property
    def coverage(self) -> float:
        return self.stored / self.knowable if self.knowable else 0.0


def exact(levels: Any) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(q)) for p, q in levels]


def compare(db: Path, market: Market, deliveries: Deliveries) -> list[Result]:
    truth = {(line["symbol"], line["ts"]): line for line in market.truth_lines()}
    results = []
    with Database.open(db) as database:
        for symbol in market.symbols:
            stored = {s.ts_s: s for s in database.snapshots(symbol)}
            gaps: dict[str, int] = {}
            for gap in database.gaps(symbol):
                gaps[gap.reason] = gaps.get(gap.reason, 0) + gap.to_s - gap.from_s + 1
            wrong = sum(
                1
                for ts_s, s in stored.items()
                if (true := truth.get((symbol, ts_s))) is None
                or (exact(s.bids), exact(s.asks)) != (exact(true["bids"]), exact(true["asks"]))
            )
            if not stored:
                results.append(Result(symbol, 0, 0, wrong, None, gaps))
                continue
            first_s, last_s = min(stored), max(stored)
            knowable = set(range(first_s, last_s + 1)) - deliveries.unknowable(symbol)
            knowable &= {ts for sym, ts in truth if sym == symbol}
            right = sum(
                1
                for ts_s in knowable & set(stored)
                if (exact(stored[ts_s].bids), exact(stored[ts_s].asks))
                == (exact(truth[(symbol, ts_s)]["bids"]), exact(truth[(symbol, ts_s)]["asks"]))
            )
            results.append(Result(symbol, len(knowable), right, wrong, first_s, gaps))
    return results


def fault_plan(args: argparse.Namespace, events_per_s: float) -> FaultPlan:
    def every(seconds: float | None) -> float:
        return min(1.0, 1.0 / (seconds * events_per_s)) if seconds else 0.0

    return FaultPlan(
        drop_rate=every(args.drop_every),
        malformed_rate=every(args.malformed_every),
        close_after_s=args.close_after,
        abort_after_s=args.abort_after,
        stale_snapshot_rate=args.stale_rate,
        stale_by_s=args.stale_by,
        rest_delay_s=args.rest_delay,
        ping_interval_s=args.ping_interval,
    )


async def run(args: argparse.Namespace, work: Path) -> tuple[list[Result], str, float]:
    names = symbol_names(args.symbols)
    market = Market(
        [spec_for(n, activity=args.activity, levels_per_side=args.book_levels) for n in names],
        seed=args.seed,
        truth_depth=DEPTH,
    )
    events_per_s = args.symbols * args.activity * TICKS_PER_S
    deliveries = Deliveries()
    async with SimulatorServer(
        market, faults=fault_plan(args, events_per_s), seed=args.seed
    ) as server:
        deliveries.watch(server)
        await asyncio.sleep(args.head_start)  # the market has a history when the recorder starts
        log = work / "record.log"
        with log.open("wb") as err:
            recorder = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "recorder", "record",
                "--symbols", ",".join(names), "--db", str(work / "db"),
                "--rest-url", server.rest_url, "--ws-url", server.ws_url,
                stderr=err,
            )  # fmt: skip
            started = time.time()
            await asyncio.sleep(args.seconds)
            recorder.send_signal(signal.SIGTERM)
            code = await recorder.wait()
        if code != 0:
            raise SystemExit(f"the recorder exited {code}: {log.read_text()[-2000:]}")
    return compare(work / "db", market, deliveries), log.read_text(), started


def report(results: list[Result], log: str, started: float, command: str) -> None:
    knowable = sum(r.knowable for r in results)
    stored = sum(r.stored for r in results)
    wrong = sum(r.wrong for r in results)
    gaps: dict[str, int] = {}
    for r in results:
        for reason, seconds in r.gaps.items():
            gaps[reason] = gaps.get(reason, 0) + seconds
    waits = [float(line.rsplit(" in ", 1)[1].split()[0]) for line in log.splitlines()
             if "reconnecting in" in line]  # fmt: skip
    first = [r.first_s - started for r in results if r.first_s is not None]
    print(f"command: {command}")
    print(
        f"knowable seconds stored: {stored:,} of {knowable:,} = {stored / max(1, knowable):.2%} "
        f"(lowest symbol {min(r.coverage for r in results):.2%}); wrong: {wrong}"
    )
    print(f"gap seconds by reason: {dict(sorted(gaps.items()))}")
    if waits:
        mean_s = sum(waits) / len(waits)
        print(f"reconnects: {len(waits)}, wait mean {mean_s:.2f} s, max {max(waits):.1f} s")
    if first:
        print(f"first stored second: +{min(first):.0f} to +{max(first):.0f} s after start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add: Callable[..., Any] = parser.add_argument
    add("--symbols", type=int, default=5)
    add("--seconds", type=float, default=180.0)
    add("--activity", type=float, default=1.0, help="chance of an event per 100 ms step")
    add("--book-levels", type=int, default=1000)
    add("--seed", type=int, default=11)
    add("--head-start", type=float, default=6.0)
    add("--close-after", type=float, default=9.0)
    add("--abort-after", type=float, default=13.0)
    add("--drop-every", type=float, default=10.0)
    add("--malformed-every", type=float, default=2.0)
    add("--stale-rate", type=float, default=0.2)
    add("--stale-by", type=float, default=5.0)
    add("--rest-delay", type=float, default=0.15)
    add("--ping-interval", type=float, default=2.0)
    add(
        "--no-faults", action="store_true", help="no closes, aborts, garbage, stale or slow answers"
    )
    args = parser.parse_args()
    if args.no_faults:
        args.close_after = args.abort_after = args.malformed_every = None
        args.stale_rate, args.rest_delay, args.ping_interval = 0.0, 0.0, 20.0
    command = "uv run python -m bench.faults " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="obrec-faults-") as tmp:
        results, log, started = asyncio.run(run(args, Path(tmp)))
    report(results, log, started, command)


if __name__ == "__main__":
    main()
