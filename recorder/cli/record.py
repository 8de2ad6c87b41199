"""``obrec record`` and ``obrec demo``: the commands that run the recorder."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from recorder.binance.market import Market
from recorder.cli.common import (
    DbOption,
    DepthOption,
    MarketOption,
    RestUrlOption,
    WsUrlOption,
    choice,
    setup_logging,
    stderr,
    stop_on_signals,
)
from recorder.cli.ship import EndpointOption, ship_request
from recorder.config import (
    ROLLOVER_AFTER_HOURS,
    RecordConfig,
    default_db_path,
    parse_symbols,
)
from recorder.errors import UsageError
from recorder.observe.logs import LogFormat, line_handler

if TYPE_CHECKING:  # the runtime (aiohttp) is imported only when a command records
    from recorder.app import Recorder
    from recorder.observe.runner import Observers


async def _record_until_signal(recorder: Recorder, observers: Observers) -> None:
    from recorder.observe.runner import record_observed

    await record_observed(recorder, stop_on_signals(), observers)


def record(
    symbols: Annotated[
        str | None,
        typer.Option(
            "--symbols", help="Comma-separated symbols (BTCUSDT,ETHUSDT), or @FILE of them."
        ),
    ] = None,
    all_usdt: Annotated[
        bool,
        typer.Option(
            "--all-usdt",
            help="Record every trading USDT symbol (usdm: every TRADING USDT perpetual).",
        ),
    ] = False,
    market: MarketOption = "spot",
    db: DbOption = None,
    depth: DepthOption = 20,
    snapshot_limit: Annotated[
        int, typer.Option("--snapshot-limit", help="Levels per side in REST depth snapshots.")
    ] = 1000,
    rest_url: RestUrlOption = None,
    ws_url: WsUrlOption = None,
    retain: Annotated[
        str | None,
        typer.Option("--retain", help="Keep this much history (e.g. 7d), pruning hourly."),
    ] = None,
    weight_budget: Annotated[
        int | None,
        typer.Option(
            "--weight-budget",
            help="REST weight per minute to pace snapshots at (default 80 % of what Binance "
            "allows per IP: 4800 of 6000 on spot, 1920 of 2400 on futures; split it between "
            "recorders sharing an IP).",
        ),
    ] = None,
    rollover_after: Annotated[
        str,
        typer.Option(
            "--rollover-after",
            help="Replace each WebSocket connection this long after it opened, before "
            "Binance's 24 h limit, without a gap (e.g. 23h).",
        ),
    ] = f"{ROLLOVER_AFTER_HOURS}h",
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info, warning or error.")
    ] = "info",
    log_format: Annotated[
        str, typer.Option("--log-format", help="Log lines without a panel: text or json.")
    ] = "text",
    no_panel: Annotated[
        bool, typer.Option("--no-panel", help="Plain log lines even on a terminal.")
    ] = False,
    status_interval: Annotated[
        float,
        typer.Option(
            "--status-interval", help="Seconds between status log lines without a panel (0: none)."
        ),
    ] = 60.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port", help="Serve /metrics and /healthz on this port (0: a free one)."
        ),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="Address for --metrics-port.")
    ] = "127.0.0.1",
    ship_to: Annotated[
        str | None,
        typer.Option(
            "--ship-to",
            help="Ship each finished hour to this lake, s3://BUCKET/PREFIX, as obrec ship does.",
        ),
    ] = None,
    ship_every: Annotated[
        float, typer.Option("--ship-every", help="Seconds between looks for finished hours.")
    ] = 60.0,
    endpoint_url: EndpointOption = None,
) -> None:
    """Record until SIGINT/SIGTERM; the seconds that are final are flushed before exit.

    On a terminal a live panel shows every symbol; otherwise (systemd, cron, pipes) one log line
    per record and a status line every --status-interval seconds.

    One database holds one market: --market spot (default), usdm or coinm.

    Examples: obrec record --symbols BTCUSDT,ETHUSDT --db /var/lib/obrec --metrics-port 9464;
    obrec record --market usdm --symbols BTCUSDT --db usdm; obrec record --market coinm
    --symbols BTCUSD_PERP --db coinm
    """
    from recorder.app import Recorder
    from recorder.observe.panel import panel_log_handler
    from recorder.observe.runner import Observers, require_metrics
    from recorder.read.retention import parse_duration

    lines = choice(LogFormat, log_format, "--log-format")
    kind = choice(Market, market, "--market")
    if weight_budget is not None and weight_budget <= 0:
        raise UsageError(f"--weight-budget {weight_budget} must be positive, e.g. 1200")
    if status_interval < 0:
        raise UsageError(f"--status-interval {status_interval:g} must be 0 or more")
    if metrics_port is not None:
        if not 0 <= metrics_port <= 65535:
            raise UsageError(f"--metrics-port {metrics_port} is not a port (0-65535)")
        require_metrics()
    panel = sys.stderr.isatty() and lines is LogFormat.TEXT and not no_panel
    config = RecordConfig(
        symbols=parse_symbols(symbols, kind) if symbols is not None else (),
        market=kind,
        db_path=db or default_db_path(),
        all_quote="USDT" if all_usdt else None,
        depth=depth,
        snapshot_limit=snapshot_limit,
        rest_url=rest_url or "",
        ws_url=ws_url or "",
        retain_s=parse_duration(retain, option="--retain") if retain else None,
        weight_per_minute=weight_budget or 0,
        rollover_after_s=parse_duration(rollover_after, option="--rollover-after"),
    )
    if ship_every <= 0:
        raise UsageError(f"--ship-every {ship_every:g} must be more than 0")
    ship = (
        ship_request(ship_to, config.db_path, endpoint_url, parameter="ship_to")
        if ship_to
        else None
    )
    setup_logging(log_level, panel_log_handler(stderr) if panel else line_handler(lines))
    observers = Observers(
        panel=stderr if panel else None,
        status_interval_s=status_interval or None,
        metrics_address=None if metrics_port is None else (metrics_host, metrics_port),
        ship=ship,
        ship_interval_s=ship_every,
    )
    asyncio.run(_record_until_signal(Recorder(config), observers))


def demo(
    seconds: Annotated[int, typer.Option("--seconds", help="How long to record.")] = 15,
    market: MarketOption = "spot",
    symbols: Annotated[
        str | None,
        typer.Option(
            "--symbols",
            help="Simulated symbols (default BTCUSDT,ETHUSDT,SOLUSDT; coinm: BTCUSD_PERP,...).",
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Where to store (default: a new temporary directory)."),
    ] = None,
    depth: DepthOption = 20,
) -> None:
    """Record from the built-in simulated exchange (no internet needed) and show what was stored.

    Examples: obrec demo; obrec demo --market usdm; obrec demo --seconds 30 --symbols BTCUSDT
    --db /tmp/demo
    """
    from recorder.demo import run_demo
    from recorder.simulator.server import default_symbols

    kind = choice(Market, market, "--market")
    names = parse_symbols(symbols, kind) if symbols else default_symbols(kind)
    if seconds < 3:
        raise UsageError("--seconds must be at least 3 for a second to become final")
    target = db or Path(tempfile.mkdtemp(prefix="obrec-demo-"))
    setup_logging("warning")
    asyncio.run(run_demo(names, target, seconds, depth, Console(), kind))
