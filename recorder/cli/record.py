"""``obrec record`` and ``obrec demo``: the commands that run the recorder."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from recorder.binance.endpoints import REST_BASE, WS_BASE
from recorder.cli.common import (
    DbOption,
    DepthOption,
    RestUrlOption,
    WsUrlOption,
    setup_logging,
    stop_on_signals,
)
from recorder.config import RecordConfig, default_db_path, parse_symbols
from recorder.errors import UsageError

if TYPE_CHECKING:  # the runtime (aiohttp) is imported only when a command records
    from recorder.app import Recorder


async def _record_until_signal(recorder: Recorder) -> None:
    await recorder.run(stop_on_signals())


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
    setup_logging(log_level)
    asyncio.run(_record_until_signal(Recorder(config)))


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
    """Record from the built-in simulated exchange (no internet needed) and show what was stored.

    Examples: obrec demo; obrec demo --seconds 30 --symbols BTCUSDT --db /tmp/demo
    """
    from recorder.demo import run_demo

    if seconds < 3:
        raise UsageError("--seconds must be at least 3 for a second to become final")
    target = db or Path(tempfile.mkdtemp(prefix="obrec-demo-"))
    setup_logging("warning")
    asyncio.run(run_demo(parse_symbols(symbols), target, seconds, depth, Console()))
