"""``obrec simulate``: the simulated exchange on its own, with every fault switchable."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from recorder.binance.market import Market
from recorder.cli.common import MarketOption, choice, error_message, stop_on_signals
from recorder.config import parse_symbols
from recorder.errors import InvalidValueError, UsageError
from recorder.simulator.faults import FaultPlan

DEFAULTS = FaultPlan()
"""Binance's own limits and no faults: each flag's default is the plan's (the market's own
limits where the flag says so)."""


def simulate(
    market: MarketOption = "spot",
    symbols: Annotated[
        str | None,
        typer.Option(
            "--symbols",
            help="Symbols to simulate (default BTCUSDT,ETHUSDT,SOLUSDT; coinm: BTCUSD_PERP,...).",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0 picks a free one).")] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated market.")] = 1,
    drop_rate: Annotated[
        float, typer.Option("--drop-rate", help="Chance that a diff event is never sent (0-1).")
    ] = DEFAULTS.drop_rate,
    malformed_rate: Annotated[
        float, typer.Option("--malformed-rate", help="Chance of a garbage frame after a real one.")
    ] = DEFAULTS.malformed_rate,
    abort_after: Annotated[
        float | None,
        typer.Option(
            "--abort-after", help="Drop each connection abruptly after this many seconds."
        ),
    ] = DEFAULTS.abort_after_s,
    close_after: Annotated[
        float | None,
        typer.Option(
            "--close-after", help="Close each connection (close frame) after this many seconds."
        ),
    ] = DEFAULTS.close_after_s,
    weight_limit: Annotated[
        int | None,
        typer.Option(
            "--weight-limit",
            help="REST weight per window before 429s (default: the market's, 6000 spot, "
            "2400 futures).",
        ),
    ] = None,
    weight_window: Annotated[
        float, typer.Option("--weight-window", help="Seconds per REST weight window.")
    ] = DEFAULTS.weight_window_s,
    ban: Annotated[float, typer.Option("--ban", help="Seconds a 418 ban lasts.")] = DEFAULTS.ban_s,
    shutdown_after: Annotated[
        float | None,
        typer.Option(
            "--shutdown-after",
            help="Send a serverShutdown event on each connection after this many seconds.",
        ),
    ] = DEFAULTS.shutdown_after_s,
    shutdown_grace: Annotated[
        float,
        typer.Option(
            "--shutdown-grace", help="Seconds from serverShutdown to the close (Binance: ~600)."
        ),
    ] = DEFAULTS.shutdown_grace_s,
    ping_interval: Annotated[
        float | None,
        typer.Option(
            "--ping-interval",
            help="Seconds between server pings (default: the market's, 20 spot, 180 futures).",
        ),
    ] = None,
    pong_timeout: Annotated[
        float | None,
        typer.Option(
            "--pong-timeout",
            help="Close a connection whose ping is unanswered this long (default: the "
            "market's, 60 spot, 600 futures).",
        ),
    ] = None,
    stale_snapshot_rate: Annotated[
        float,
        typer.Option(
            "--stale-snapshot-rate", help="Chance that a depth answer is an old book (0-1)."
        ),
    ] = DEFAULTS.stale_snapshot_rate,
    stale_by: Annotated[
        float, typer.Option("--stale-by", help="How many seconds old a stale depth answer is.")
    ] = DEFAULTS.stale_by_s,
    rest_delay: Annotated[
        float,
        typer.Option("--rest-delay", help="Seconds before each depth answer is sent."),
    ] = DEFAULTS.rest_delay_s,
    rest_jitter: Annotated[
        float,
        typer.Option("--rest-jitter", help="Up to this many random seconds more delay."),
    ] = DEFAULTS.rest_jitter_s,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="On exit, write the true per-second books here (JSONL)."),
    ] = None,
    truth_depth: Annotated[int, typer.Option("--truth-depth", help="Levels kept in --truth.")] = 20,
    book_levels: Annotated[
        int, typer.Option("--book-levels", help="Levels per side of each simulated book.")
    ] = 5000,
) -> None:
    """Run the simulated exchange alone, until SIGINT/SIGTERM. --market usdm or coinm serves
    that futures market's protocol (paths, pu chains, weights, pings).

    Example: obrec simulate --port 8765, then
    obrec record --symbols BTCUSDT --rest-url http://127.0.0.1:8765 --ws-url ws://127.0.0.1:8765
    (with --market usdm on both for USD-M futures)
    """
    from recorder.simulator.market import Market as SimulatedMarket
    from recorder.simulator.server import SimulatorServer, default_symbols, spec_for

    kind = choice(Market, market, "--market")
    names = parse_symbols(symbols, kind) if symbols else default_symbols(kind)
    if book_levels < 1:
        raise UsageError(f"--book-levels {book_levels} must be at least 1")
    try:
        limits = {
            "weight_limit": weight_limit,
            "ping_interval_s": ping_interval,
            "pong_timeout_s": pong_timeout,
        }
        faults = FaultPlan.for_market(
            kind,
            **{name: value for name, value in limits.items() if value is not None},
            drop_rate=drop_rate,
            malformed_rate=malformed_rate,
            abort_after_s=abort_after,
            close_after_s=close_after,
            weight_window_s=weight_window,
            ban_s=ban,
            shutdown_after_s=shutdown_after,
            shutdown_grace_s=shutdown_grace,
            stale_snapshot_rate=stale_snapshot_rate,
            stale_by_s=stale_by,
            rest_delay_s=rest_delay,
            rest_jitter_s=rest_jitter,
        )
    except InvalidValueError as exc:
        raise UsageError(f"bad fault option {error_message(exc)}") from None

    async def serve() -> None:
        stop = stop_on_signals()
        market = SimulatedMarket(
            [spec_for(s, levels_per_side=book_levels) for s in names],
            seed=seed,
            truth_depth=truth_depth if truth else 0,
            kind=kind,
        )
        try:
            server = SimulatorServer(market, host=host, port=port, faults=faults, seed=seed)
            await server.start()
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror}; try --port 0"
            ) from exc
        print(
            f"simulating {kind.value} {', '.join(names)}: --rest-url {server.rest_url} "
            f"--ws-url {server.ws_url}"
        )
        sys.stdout.flush()
        try:
            await stop.wait()
        finally:
            await server.close()
        if truth:
            truth.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in market.truth_lines()))

    asyncio.run(serve())
