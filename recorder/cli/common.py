"""What every ``obrec`` command shares: the Typer app, common options, logging, signals.

Commands live in one module per area (``record``, ``read``, ``simulate``) and register
themselves on ``app``; ``recorder.cli.main`` is the entry point.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from recorder.config import DB_ENV
from recorder.errors import RecorderError, UsageError
from recorder.observe.logs import LogFormat, line_handler

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
    str | None,
    typer.Option(
        "--rest-url",
        envvar="OBREC_REST_URL",
        help="Binance-compatible REST base URL (default: the market's, e.g. "
        "https://fapi.binance.com for usdm).",
    ),
]
WsUrlOption = Annotated[
    str | None,
    typer.Option(
        "--ws-url",
        envvar="OBREC_WS_URL",
        help="Binance-compatible WebSocket base URL (default: the market's, e.g. "
        "wss://fstream.binance.com/public for usdm).",
    ),
]
MarketOption = Annotated[
    str,
    typer.Option(
        "--market",
        envvar="OBREC_MARKET",
        help="spot, usdm (USD-M futures) or coinm (COIN-M futures); one database holds one.",
    ),
]
DepthOption = Annotated[int, typer.Option("--depth", help="Levels per side in each snapshot.")]
SkipCorruptOption = Annotated[
    bool, typer.Option("--skip-corrupt", help="Warn about undecodable values and carry on.")
]


FLAGS = {
    "db_path": f"--db (or set {DB_ENV})",
    "from_s": "--from",
    "to_s": "--to",
    "force": "--force",
    "format": "--format",
    "levels": "--levels",
    "output": "-o",
    "partition": "--partition",
    "skip_corrupt": "--skip-corrupt",
    "to": "--to",
}
"""What the CLI calls each library parameter an error names (``RecorderError.message``)."""


def flag_of(parameter: str) -> str:
    """The flag of a library parameter: the table's, else ``--`` and the name without a unit
    suffix, dashed (``stale_by_s`` -> ``--stale-by``), the rule every other option follows."""
    return FLAGS.get(parameter) or "--" + parameter.removesuffix("_s").replace("_", "-")


def error_message(error: RecorderError) -> str:
    """The one line the CLI prints for ``error``: its message in flag names."""
    return error.message({p: flag_of(p) for p in error.parameters})


LOG_LEVELS = ("debug", "info", "warning", "error")


def setup_logging(level: str, handler: logging.Handler | None = None) -> None:
    """Log at ``level`` through ``handler``; by default one escaped text line per record."""
    if level.lower() not in LOG_LEVELS:
        raise UsageError(f"--log-level {level!r} is not one of {', '.join(LOG_LEVELS)}")
    logging.basicConfig(level=level.upper(), handlers=[handler or line_handler(LogFormat.TEXT)])


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT/SIGTERM: a clean stop, not an exception."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


E = TypeVar("E", bound=Enum)


def choice(kind: type[E], value: str, option: str) -> E:
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(str(k.value) for k in kind)
        raise UsageError(f"{option} {value!r} is not one of {allowed}") from None


@contextlib.contextmanager
def progress(total: int, label: str, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr when it is a terminal; a no-op otherwise."""
    if not enabled:
        yield lambda _: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
