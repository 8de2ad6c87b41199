"""The commands that read a directory: ``query``, ``export``, ``prune`` and ``stats``."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from recorder.book.snapshot import Snapshot
from recorder.cli.common import DbOption, SkipCorruptOption, choice, progress, stderr
from recorder.config import default_db_path, parse_symbols
from recorder.errors import DatabaseLockedError, UsageError
from recorder.read import Database, check_window
from recorder.read import prune as prune_directory
from recorder.read.render import human_bytes
from recorder.timeparse import format_time, parse_time


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
    from recorder.read.export import check_levels, write_snapshots
    from recorder.read.render import QueryFormat, snapshot_table

    fmt = (
        choice(QueryFormat, output_format, "--format")
        if output_format
        else (QueryFormat.TABLE if sys.stdout.isatty() else QueryFormat.JSONL)
    )
    now_s = int(time.time())
    if (at is None) == (from_ is None):
        raise UsageError("give either --from (with an optional --to) or --at")
    if levels is not None:
        check_levels(levels)
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
            count = write_snapshots(
                snapshots, fmt.value, levels or 20, sys.stdout.buffer, database.market
            )
            sys.stdout.flush()
    if not count:
        stderr.print(f"no snapshots of {symbol} {window}", highlight=False)


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
    from recorder.read.export import ExportFormat, ExportRequest
    from recorder.read.export import export as run_export

    now_s = int(time.time())
    from_s = parse_time(from_, now_s, option="--from")
    to_s = parse_time(to, now_s, option="--to")
    check_window(from_s, to_s)
    request = ExportRequest(
        symbols=parse_symbols(symbols, market=None),
        from_s=from_s,
        to_s=to_s,
        format=choice(ExportFormat, output_format, "--format"),
        output=None if output == "-" else Path(output),
        levels=levels,
        partition=partition,
        force=force,
        skip_corrupt=skip_corrupt,
    )
    with Database.open(db or default_db_path()) as database:
        visible = request.output is not None and stderr.is_terminal
        total = sum(database.count(s, from_s, to_s) for s in request.symbols) if visible else 0
        with progress(total, "exporting", enabled=visible) as advance:
            count = run_export(database, request, advance)
    if not count:
        window = f"between {format_time(from_s)} and {format_time(to_s)}"
        stderr.print(f"no snapshots of {symbols} {window}; nothing written", highlight=False)
    elif request.output is not None:
        stderr.print(f"wrote {count:,} snapshots to {request.output}", highlight=False)


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
    unshipped: Annotated[
        bool,
        typer.Option(
            "--unshipped", help="Also delete hours due to be shipped to a lake and not shipped."
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Delete old snapshots and gap records, then compact so the disk space comes back.

    Hours not yet shipped to a lake (obrec ship) are kept unless --unshipped is given.

    Example (cron): obrec prune --days 7. A running recorder prunes itself with --retain 7d.
    """
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
        result = prune_directory(
            path,
            cutoff_s,
            [symbol.upper()] if symbol else None,
            dry_run=dry_run,
            unshipped=unshipped,
        )
    except DatabaseLockedError:
        raise DatabaseLockedError(
            path,
            problem="is being recorded; stop that recorder first, or let it prune itself: "
            "obrec record --retain 7d",
        ) from None
    plan = result.plan
    per_symbol = ", ".join(f"{s} {n:,}" for s, n in plan.snapshots.items() if n) or "none"
    what = (
        f"{plan.total:,} snapshots ({per_symbol}) and {len(plan.gap_deletes)} gap record(s) "
        f"before {format_time(cutoff_s)}"
    )
    for held, from_s in plan.held.items():
        stderr.print(
            f"kept {held} from {format_time(from_s)}: not shipped yet (--unshipped deletes it)",
            highlight=False,
        )
    if result.reclaimed_bytes is None:
        print(f"would delete {what}")
    else:
        print(f"deleted {what}; reclaimed {human_bytes(result.reclaimed_bytes)}")


def stats(
    db: DbOption = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Per symbol: first and last second, snapshots, coverage, gaps, bytes on disk; and the
    database's market (spot, usdm or coinm) in the title, or as "market" in JSON.

    Examples: obrec stats --db /var/lib/obrec; obrec stats --format json | jq .symbols
    """
    from recorder.read.render import print_stats, stats_doc

    if output_format not in ("table", "json"):
        raise UsageError(f"--format {output_format!r} is not one of table, json")
    with Database.open(db or default_db_path()) as database:
        result = database.stats()
    if output_format == "json":
        sys.stdout.buffer.write(orjson.dumps(stats_doc(result), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print_stats(result, Console())
