"""``obrec simulate``: the simulated exchange on its own, with every fault switchable."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from recorder.cli.common import stop_on_signals
from recorder.config import parse_symbols
from recorder.errors import UsageError


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
        stop = stop_on_signals()
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
