"""The ``obrec`` command line: parse arguments, build config, call the library, render.

``main`` is the one place where a ``RecorderError`` becomes a line on stderr and an exit code
(0 ok or clean stop, 1 runtime error, 2 usage error). Data goes to stdout, logs to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from recorder.binance.endpoints import REST_BASE, WS_BASE
from recorder.book.sync import Snapshot
from recorder.config import DB_ENV, RecordConfig, default_db_path, parse_symbols
from recorder.database import Database, check_window
from recorder.errors import DatabaseLockedError, RecorderError, UsageError
from recorder.render import human_bytes
from recorder.storage.store import Store
from recorder.timeparse import format_time, parse_time

if TYPE_CHECKING:  # the runtime (aiohttp) is imported only by the commands that record
    from recorder.app import Recorder

app = typer.Typer(
    name="obrec",
    help="Record exact per-second Binance order-book snapshots into RocksDB, and read them back.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
stderr = Console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar=DB_ENV,
        help=f"Database directory [default: ${DB_ENV} or ~/.local/share/obrec].",
        show_default=False,
    ),
]
RestUrlOption = Annotated[
    str,
    typer.Option("--rest-url", envvar="OBREC_REST_URL", help="Binance-compatible REST base URL."),
]
WsUrlOption = Annotated[
    str,
    typer.Option("--ws-url", envvar="OBREC_WS_URL", help="Binance-compatible WebSocket base URL."),
]
DepthOption = Annotated[int, typer.Option("--depth", help="Levels per side in each snapshot.")]
SkipCorruptOption = Annotated[
    bool, typer.Option("--skip-corrupt", help="Warn about undecodable values and carry on.")
]


LOG_LEVELS = ("debug", "info", "warning", "error")


def _setup_logging(level: str) -> None:
    if level.lower() not in LOG_LEVELS:
        raise UsageError(f"--log-level {level!r} is not one of {', '.join(LOG_LEVELS)}")
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT/SIGTERM: a clean stop, not an exception."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _record_until_signal(recorder: Recorder) -> None:
    await recorder.run(_stop_on_signals())


@app.command()
def record(
    symbols: Annotated[
        str | None,
        typer.Option(
            "--symbols", help="Comma-separated symbols (BTCUSDT,ETHUSDT), or @FILE of them."
        ),
    ] = None,
    all_usdt: Annotated[
        bool, typer.Option("--all-usdt", help="Record every trading USDT symbol.")
    ] = False,
    db: DbOption = None,
    depth: DepthOption = 20,
    snapshot_limit: Annotated[
        int, typer.Option("--snapshot-limit", help="Levels per side in REST depth snapshots.")
    ] = 1000,
    rest_url: RestUrlOption = REST_BASE,
    ws_url: WsUrlOption = WS_BASE,
    retain: Annotated[
        str | None,
        typer.Option("--retain", help="Keep this much history (e.g. 7d), pruning hourly."),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info, warning or error.")
    ] = "info",
) -> None:
    """Record until SIGINT/SIGTERM; the seconds that are final are flushed before exit.

    Example: obrec record --symbols BTCUSDT,ETHUSDT --db /var/lib/obrec
    """
    from recorder.app import Recorder
    from recorder.retention import parse_duration

    config = RecordConfig(
        symbols=parse_symbols(symbols) if symbols is not None else (),
        db_path=db or default_db_path(),
        all_quote="USDT" if all_usdt else None,
        depth=depth,
        snapshot_limit=snapshot_limit,
        rest_url=rest_url,
        ws_url=ws_url,
        retain_s=parse_duration(retain, option="--retain") if retain else None,
    )
    _setup_logging(log_level)
    asyncio.run(_record_until_signal(Recorder(config)))


@app.command()
def query(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. BTCUSDT.")],
    from_: Annotated[
        str | None, typer.Option("--from", help="Start (inclusive): unix s, ISO 8601, -1h, now.")
    ] = None,
    to: Annotated[str, typer.Option("--to", help="End (inclusive).")] = "now",
    at: Annotated[
        str | None, typer.Option("--at", help="Show the one snapshot at or before this time.")
    ] = None,
    db: DbOption = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format", help="table, jsonl, json or csv [default: table on a terminal, else jsonl]."
        ),
    ] = None,
    levels: Annotated[
        int | None,
        typer.Option("--levels", help="Levels shown per side [default: 5 in a table, 20 in csv]."),
    ] = None,
    skip_corrupt: SkipCorruptOption = False,
) -> None:
    """Print the snapshots stored for SYMBOL in a window, oldest first.

    Examples: obrec query BTCUSDT --from -15m;
    obrec query BTCUSDT --from 2026-01-01T00:00 --to 2026-01-01T01:00 --format jsonl;
    obrec query BTCUSDT --at 2026-01-01T14:03:27
    """
    from recorder.export import write_snapshots
    from recorder.render import QueryFormat, snapshot_table

    fmt = (
        _choice(QueryFormat, output_format, "--format")
        if output_format
        else (QueryFormat.TABLE if sys.stdout.isatty() else QueryFormat.JSONL)
    )
    now_s = int(time.time())
    if (at is None) == (from_ is None):
        raise UsageError("give either --from (with an optional --to) or --at")
    symbol = symbol.upper()
    with Database.open(db or default_db_path()) as database:
        database.require_symbol(symbol)
        if from_ is None:
            found = database.at(symbol, parse_time(at or "", now_s, option="--at"))
            snapshots: Iterable[Snapshot] = [found] if found else []
            window = f"at or before {at}"
        else:
            from_s = parse_time(from_, now_s, option="--from")
            to_s = parse_time(to, now_s, option="--to")
            check_window(from_s, to_s)
            snapshots = database.snapshots(symbol, from_s, to_s, skip_corrupt=skip_corrupt)
            window = f"from {format_time(from_s)} to {format_time(to_s)}"
        if fmt is QueryFormat.TABLE:
            table, count = snapshot_table(snapshots, levels or 5)
            if count:
                Console().print(table)
        else:
            count = write_snapshots(snapshots, fmt.value, levels or 20, sys.stdout.buffer)
            sys.stdout.flush()
    if not count:
        stderr.print(f"no snapshots of {symbol} {window}", highlight=False)


@app.command()
def export(
    symbols: Annotated[str, typer.Argument(help="Symbol or comma-separated symbols.")],
    from_: Annotated[str, typer.Option("--from", help="Start (inclusive): unix s, ISO 8601, -1h.")],
    output: Annotated[
        str,
        typer.Option(
            "-o", "--output", help="File, '-' for stdout, or a directory with --partition."
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="End (inclusive).")] = "now",
    output_format: Annotated[
        str, typer.Option("--format", help="csv (Tardis layout), jsonl or parquet.")
    ] = "csv",
    levels: Annotated[int, typer.Option("--levels", help="Levels per side in csv.")] = 20,
    partition: Annotated[
        bool, typer.Option("--partition", help="Parquet as symbol=.../date=.../ files under -o.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output.")] = False,
    db: DbOption = None,
    skip_corrupt: SkipCorruptOption = False,
) -> None:
    """Write a window of snapshots to a file, atomically, with a progress bar on a terminal.

    Examples: obrec export BTCUSDT --from 2026-01-01 --to 2026-01-02 -o btc.csv;
    obrec export BTCUSDT,ETHUSDT --from -7d --format parquet --partition -o lake/
    """
    from recorder.export import ExportFormat, ExportRequest
    from recorder.export import export as run_export

    now_s = int(time.time())
    from_s = parse_time(from_, now_s, option="--from")
    to_s = parse_time(to, now_s, option="--to")
    check_window(from_s, to_s)
    request = ExportRequest(
        symbols=parse_symbols(symbols),
        from_s=from_s,
        to_s=to_s,
        format=_choice(ExportFormat, output_format, "--format"),
        output=None if output == "-" else Path(output),
        levels=levels,
        partition=partition,
        force=force,
        skip_corrupt=skip_corrupt,
    )
    with Database.open(db or default_db_path()) as database:
        visible = request.output is not None and stderr.is_terminal
        total = (
            sum(database.store.count(s, from_s, to_s) for s in request.symbols) if visible else 0
        )
        with _progress(total, "exporting", enabled=visible) as advance:
            count = run_export(database, request, advance)
    if not count:
        window = f"between {format_time(from_s)} and {format_time(to_s)}"
        stderr.print(f"no snapshots of {symbols} {window}; nothing written", highlight=False)
    elif request.output is not None:
        stderr.print(f"wrote {count:,} snapshots to {request.output}", highlight=False)


@app.command()
def prune(
    days: Annotated[
        int | None, typer.Option("--days", help="Delete what is older than N days.")
    ] = None,
    before: Annotated[
        str | None, typer.Option("--before", help="Delete what is before this time.")
    ] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", help="Only this symbol.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; change nothing.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Delete old snapshots and gap records, then compact so the disk space comes back.

    Example (cron): obrec prune --days 7. A running recorder prunes itself with --retain 7d.
    """
    from recorder.retention import apply_prune, plan_prune

    now_s = int(time.time())
    if (days is None) == (before is None):
        raise UsageError("give exactly one of --days N or --before TIME")
    if days is not None and days < 1:
        raise UsageError(f"--days {days} must be at least 1")
    cutoff_s = (
        now_s - days * 86_400
        if days is not None
        else parse_time(before or "", now_s, option="--before")
    )
    path = db or default_db_path()
    try:
        store = Store.open_writer(path, create=False)
    except DatabaseLockedError:
        raise DatabaseLockedError(
            f"{path} is being recorded; stop that recorder first, or let it prune itself: "
            "obrec record --retain 7d"
        ) from None
    with store:
        plan = plan_prune(store, cutoff_s, [symbol.upper()] if symbol else None)
        per_symbol = ", ".join(f"{s} {n:,}" for s, n in plan.snapshots.items() if n) or "none"
        what = (
            f"{plan.total:,} snapshots ({per_symbol}) and {len(plan.gap_deletes)} gap record(s) "
            f"before {format_time(cutoff_s)}"
        )
        if dry_run:
            print(f"would delete {what}")
            return
        reclaimed = apply_prune(store, plan)
    print(f"deleted {what}; reclaimed {human_bytes(reclaimed)}")


@app.command()
def stats(
    db: DbOption = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Per symbol: first and last second, snapshots, coverage, gaps, bytes on disk."""
    from recorder.render import print_stats, stats_doc

    if output_format not in ("table", "json"):
        raise UsageError(f"--format {output_format!r} is not one of table, json")
    with Database.open(db or default_db_path()) as database:
        result = database.stats()
    if output_format == "json":
        sys.stdout.buffer.write(orjson.dumps(stats_doc(result), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print_stats(result, Console())


E = TypeVar("E", bound=Enum)


def _choice(kind: type[E], value: str, option: str) -> E:
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(str(k.value) for k in kind)
        raise UsageError(f"{option} {value!r} is not one of {allowed}") from None


@contextlib.contextmanager
def _progress(total: int, label: str, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr when it is a terminal; a no-op otherwise."""
    if not enabled:
        yield lambda _: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@app.command()
def simulate(
    symbols: Annotated[
        str, typer.Option("--symbols", help="Symbols to simulate.")
    ] = "BTCUSDT,ETHUSDT,SOLUSDT",
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0 picks a free one).")] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated market.")] = 1,
    drop_rate: Annotated[
        float, typer.Option("--drop-rate", help="Chance that a diff event is never sent (0-1).")
    ] = 0.0,
    malformed_rate: Annotated[
        float, typer.Option("--malformed-rate", help="Chance of a garbage frame after a real one.")
    ] = 0.0,
    abort_after: Annotated[
        float | None,
        typer.Option(
            "--abort-after", help="Drop each connection abruptly after this many seconds."
        ),
    ] = None,
    close_after: Annotated[
        float | None,
        typer.Option(
            "--close-after", help="Close each connection (close frame) after this many seconds."
        ),
    ] = None,
    weight_limit: Annotated[
        int, typer.Option("--weight-limit", help="REST weight per window before 429s.")
    ] = 6000,
    weight_window: Annotated[
        float, typer.Option("--weight-window", help="Seconds per REST weight window.")
    ] = 60.0,
    ban: Annotated[float, typer.Option("--ban", help="Seconds a 418 ban lasts.")] = 120.0,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="On exit, write the true per-second books here (JSONL)."),
    ] = None,
    truth_depth: Annotated[int, typer.Option("--truth-depth", help="Levels kept in --truth.")] = 20,
) -> None:
    """Run the simulated exchange alone, until SIGINT/SIGTERM.

    Example: obrec simulate --port 8765, then
    obrec record --symbols BTCUSDT --rest-url http://127.0.0.1:8765 --ws-url ws://127.0.0.1:8765
    """
    from recorder.simulator.faults import FaultPlan
    from recorder.simulator.market import Market
    from recorder.simulator.server import SimulatorServer, spec_for

    names = parse_symbols(symbols)
    try:
        faults = FaultPlan(
            drop_rate, malformed_rate, abort_after, close_after, weight_limit, weight_window, ban
        )
    except ValueError as exc:
        raise UsageError(f"bad fault option: {exc}") from None

    async def serve() -> None:
        stop = _stop_on_signals()
        market = Market(
            [spec_for(s) for s in names], seed=seed, truth_depth=truth_depth if truth else 0
        )
        try:
            server = SimulatorServer(market, host=host, port=port, faults=faults, seed=seed)
            await server.start()
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror}; try --port 0"
            ) from exc
        print(
            f"simulating {', '.join(names)}: --rest-url {server.rest_url} --ws-url {server.ws_url}"
        )
        sys.stdout.flush()
        try:
            await stop.wait()
        finally:
            await server.close()
        if truth:
            truth.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in market.truth_lines()))

    asyncio.run(serve())


@app.command()
def demo(
    seconds: Annotated[int, typer.Option("--seconds", help="How long to record.")] = 15,
    symbols: Annotated[
        str, typer.Option("--symbols", help="Simulated symbols.")
    ] = "BTCUSDT,ETHUSDT,SOLUSDT",
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Where to store (default: a new temporary directory)."),
    ] = None,
    depth: DepthOption = 20,
) -> None:
    """Record from the built-in simulated exchange (no internet needed) and show what was stored."""
    from recorder.demo import run_demo

    if seconds < 3:
        raise UsageError("--seconds must be at least 3 for a second to become final")
    target = db or Path(tempfile.mkdtemp(prefix="obrec-demo-"))
    _setup_logging("warning")
    asyncio.run(run_demo(parse_symbols(symbols), target, seconds, depth, Console()))


def main() -> None:
    """Entry point: the only place that turns product errors into messages and exit codes."""
    try:
        app()
    except RecorderError as exc:
        stderr.print(f"obrec: error: {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
