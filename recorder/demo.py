"""``obrec demo``: the simulated exchange and the recorder in one process, then the stored data.

It imports the simulator, so only the CLI imports this module (lazily)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from recorder.app import Recorder
from recorder.binance.market import Market as Kind
from recorder.config import RecordConfig
from recorder.read import Database
from recorder.simulator.market import Market
from recorder.simulator.server import SimulatorServer, spec_for
from recorder.timeparse import format_time


async def run_demo(
    symbols: tuple[str, ...],
    db_path: Path,
    seconds: int,
    depth: int,
    console: Console,
    kind: Kind = Kind.SPOT,
) -> None:
    market = Market([spec_for(s) for s in symbols], seed=1, kind=kind)
    async with SimulatorServer(market) as server:
        config = RecordConfig(
            symbols,
            db_path,
            depth=depth,
            market=kind,
            rest_url=server.rest_url,
            ws_url=server.ws_url,
        )
        recorder = Recorder(config)
        stop = asyncio.Event()
        console.print(
            f"simulated {kind.value} exchange on {server.rest_url}; recording {', '.join(symbols)}"
        )
        async with asyncio.TaskGroup() as group:
            run = group.create_task(recorder.run(stop))
            await _show_progress(recorder, run, seconds, console)
            stop.set()
    _show_stored(db_path, symbols, console)


async def _show_progress(
    recorder: Recorder, run: asyncio.Task[None], seconds: int, console: Console
) -> None:
    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("starting", total=seconds * 4)
        for _ in range(seconds * 4):
            if run.done():
                return
            await asyncio.sleep(0.25)
            stored = sum(s.snapshots for s in recorder.stats.values())
            live = sum(1 for s in recorder.syncs.values() if s.live)
            progress.update(
                task,
                advance=1,
                description=f"{live}/{len(recorder.syncs)} in sync, {stored} snapshots stored",
            )


def _show_stored(db_path: Path, symbols: tuple[str, ...], console: Console) -> None:
    table = Table(title=f"Latest stored snapshot per symbol in {db_path}")
    for column in ("symbol", "second", "best bid", "best ask", "spread", "levels", "stored"):
        table.add_column(column, justify="right" if column != "symbol" else "left")
    with Database.open(db_path) as db:
        for symbol in symbols:
            snapshots = list(db.snapshots(symbol))
            if not snapshots:
                table.add_row(symbol, "-", "-", "-", "-", "-", "0")
                continue
            last = snapshots[-1]
            bid, ask = last.bids[0][0], last.asks[0][0]
            spread = f"{float(ask) - float(bid):.8g}"
            levels = f"{len(last.bids)}+{len(last.asks)}"
            table.add_row(
                symbol, format_time(last.ts_s)[11:], bid, ask, spread, levels, str(len(snapshots))
            )
    console.print(table)
    first = symbols[0]
    console.print(
        f"Read it back: obrec query {first} --db {db_path} --from -5m --to now --format jsonl",
        soft_wrap=True,
    )
