"""The ``plot`` command: a chart of a window, drawn by ``recorder.read.plot`` (``plot`` extra)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from recorder.cli.common import DbOption, SkipCorruptOption, choice, stderr
from recorder.config import default_db_path
from recorder.errors import UsageError
from recorder.read import Database, check_window
from recorder.read.extras import PLOT, require
from recorder.timeparse import parse_time

if TYPE_CHECKING:
    from recorder.read.plot import PlotFormat


def plot(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. BTCUSDT.")],
    from_: Annotated[str, typer.Option("--from", help="Start (inclusive): unix s, ISO 8601, -1h.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Chart file, .png or .svg.")],
    to: Annotated[str, typer.Option("--to", help="End (inclusive).")] = "now",
    output_format: Annotated[
        str | None,
        typer.Option("--format", help="png or svg [default: from the -o suffix, else png]."),
    ] = None,
    levels: Annotated[
        int | None,
        typer.Option("--levels", help="Levels per side in the heatmap [default: all stored]."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output.")] = False,
    db: DbOption = None,
    skip_corrupt: SkipCorruptOption = False,
) -> None:
    """Draw mid price, spread and a depth heatmap of a window to a PNG or SVG file.

    Long windows are folded into at most 2,000 time columns; gaps stay blank.

    Examples: obrec plot BTCUSDT --from -1h -o btc.png;
    obrec plot ETHUSDT --from 2026-01-01 --to 2026-01-02 --levels 5 -o eth.svg
    """
    require(PLOT)
    from recorder.read.export import atomic_target, check_levels
    from recorder.read.plot import load, save

    fmt = _format(output, output_format)
    if levels is not None:
        check_levels(levels)
    now_s = int(time.time())
    from_s = parse_time(from_, now_s, option="--from")
    to_s = parse_time(to, now_s, option="--to")
    check_window(from_s, to_s)
    symbol = symbol.upper()
    with atomic_target(output, force) as tmp:
        with Database.open(db or default_db_path()) as database:
            image = load(database, symbol, from_s, to_s, levels, skip_corrupt=skip_corrupt)
        save(image, tmp, fmt)
    stderr.print(
        f"wrote {output}: {image.snapshots:,} snapshot(s) of {symbol}, "
        f"{image.bin_s:,} s per column",
        highlight=False,
        markup=False,
    )


def _format(output: Path, given: str | None) -> PlotFormat:
    """``--format`` if given, else the output's suffix, else PNG."""
    from recorder.read.plot import PlotFormat

    if given is not None:
        return choice(PlotFormat, given, "--format")
    if not output.suffix:
        return PlotFormat.PNG
    try:
        return PlotFormat(output.suffix[1:].lower())
    except ValueError:
        raise UsageError(
            f"cannot tell a chart format from {output.name!r}; name it .png or .svg, "
            "or pass --format png or svg"
        ) from None
