"""The ``obrec`` command line: parse arguments, build config, call the library, render.

``main`` is the one place where a ``RecorderError`` becomes a line on stderr and an exit code
(0 ok or clean stop, 1 runtime error, 2 usage error). Data goes to stdout, logs to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console

from recorder.binance.endpoints import REST_BASE, WS_BASE
from recorder.config import DB_ENV, RecordConfig, default_db_path, parse_symbols
from recorder.errors import RecorderError, UsageError
from recorder.query import check_symbol, check_window, iter_window, snapshot_doc
from recorder.storage.store import Store
from recorder.timeparse import parse_time

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


def _setup_logging(level: str) -> None:
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
        str, typer.Option("--symbols", help="Comma-separated symbols, e.g. BTCUSDT,ETHUSDT.")
    ],
    db: DbOption = None,
    depth: DepthOption = 20,
    snapshot_limit: Annotated[
        int, typer.Option("--snapshot-limit", help="Levels per side in REST depth snapshots.")
    ] = 1000,
    rest_url: RestUrlOption = REST_BASE,
    ws_url: WsUrlOption = WS_BASE,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning.")] = "info",
) -> None:
    """Record until SIGINT/SIGTERM; the seconds that are final are flushed before exit.

    Example: obrec record --symbols BTCUSDT,ETHUSDT --db /var/lib/obrec
    """
    from recorder.app import Recorder

    config = RecordConfig(
        symbols=parse_symbols(symbols),
        db_path=db or default_db_path(),
        depth=depth,
        snapshot_limit=snapshot_limit,
        rest_url=rest_url,
        ws_url=ws_url,
    )
    _setup_logging(log_level)
    asyncio.run(_record_until_signal(Recorder(config)))


@app.command()
def query(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. BTCUSDT.")],
    from_: Annotated[
        str, typer.Option("--from", help="Start (inclusive): unix s, ISO 8601, -1h, now.")
    ],
    to: Annotated[str, typer.Option("--to", help="End (inclusive).")] = "now",
    db: DbOption = None,
    output_format: Annotated[str, typer.Option("--format", help="jsonl or json.")] = "jsonl",
    skip_corrupt: Annotated[
        bool, typer.Option("--skip-corrupt", help="Warn about undecodable values and carry on.")
    ] = False,
) -> None:
    """Print the snapshots stored for SYMBOL in a window, oldest first.

    Example: obrec query BTCUSDT --from 2026-01-01T00:00 --to 2026-01-01T01:00 --format jsonl
    """
    if output_format not in ("jsonl", "json"):
        raise UsageError(f"--format {output_format!r} is not supported; use jsonl or json")
    now_s = int(time.time())
    from_s = parse_time(from_, now_s, option="--from")
    to_s = parse_time(to, now_s, option="--to")
    check_window(from_s, to_s)
    symbol = symbol.upper()
    with Store.open_reader(db or default_db_path()) as store:
        check_symbol(store, symbol)
        docs = (
            snapshot_doc(s)
            for s in iter_window(store, symbol, from_s, to_s, skip_corrupt=skip_corrupt)
        )
        out = sys.stdout.buffer
        count = 0
        if output_format == "json":
            out.write(orjson.dumps(list(docs)) + b"\n")
            count = -1
        else:
            for doc in docs:
                out.write(orjson.dumps(doc) + b"\n")
                count += 1
        out.flush()
    if count == 0:
        stderr.print(f"no snapshots of {symbol} between {from_s} and {to_s}", highlight=False)


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
    if not 0.0 <= drop_rate <= 1.0:
        raise UsageError(f"--drop-rate {drop_rate} is not between 0 and 1")

    async def serve() -> None:
        stop = _stop_on_signals()
        market = Market(
            [spec_for(s) for s in names], seed=seed, truth_depth=truth_depth if truth else 0
        )
        try:
            server = SimulatorServer(
                market, host=host, port=port, faults=FaultPlan(drop_rate=drop_rate), seed=seed
            )
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
