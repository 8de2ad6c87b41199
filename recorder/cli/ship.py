"""``obrec ship``: send every finished hour to an S3-compatible lake; ``--status`` says where
each symbol stands (docs/lake.md)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from recorder.cli.common import DbOption, progress, setup_logging, stderr
from recorder.config import default_db_path, parse_symbols
from recorder.read.extras import PARQUET, require
from recorder.timeparse import format_time

if TYPE_CHECKING:
    from recorder.lake.ship import ShipRequest, SymbolPlan

ToOption = Annotated[
    str,
    typer.Option(
        "--to", help="The lake: s3://BUCKET/PREFIX (credentials the AWS way: AWS_* or ~/.aws)."
    ),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        envvar="AWS_ENDPOINT_URL",
        help="S3-compatible store other than AWS, e.g. http://127.0.0.1:8333.",
    ),
]


def ship_request(
    to: str,
    db: Path | None,
    endpoint_url: str | None,
    symbols: str | None = None,
    force: bool = False,
    parameter: str = "to",
) -> ShipRequest:
    """What ``ship`` and ``record --ship-to`` (``parameter="ship_to"``) build from their flags."""
    require(PARQUET)
    from recorder.lake.layout import LakeUrl
    from recorder.lake.objects import Endpoint
    from recorder.lake.ship import ShipRequest

    return ShipRequest(
        db_path=db or default_db_path(),
        url=LakeUrl.parse(to, parameter),
        endpoint=Endpoint(endpoint_url=endpoint_url),
        symbols=parse_symbols(symbols) if symbols else None,
        force=force,
    )


def ship(
    to: ToOption,
    db: DbOption = None,
    symbols: Annotated[
        str | None, typer.Option("--symbols", help="Only these symbols [default: all recorded].")
    ] = None,
    status: Annotated[
        bool, typer.Option("--status", help="Show what is shipped and what waits; ship nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Ship every finished hour again, each replaced whole.")
    ] = False,
    endpoint_url: EndpointOption = None,
) -> None:
    """Upload every finished hour as Hive-partitioned Parquet (market=/symbol=/date=/hour=).

    Each hour goes once; a killed or failed run goes on where it stopped. Runs next to a
    recorder (or use record --ship-to). DuckDB, Polars, pyarrow and Spark read the lake in
    place (docs/lake.md).

    Examples: obrec ship --to s3://research/obrec; obrec ship --to s3://research/obrec --status
    """
    from recorder.lake.ship import Shipper

    shipper = Shipper(ship_request(to, db, endpoint_url, symbols, force))
    if status:
        _print_status(shipper.status())
        return
    visible = stderr.is_terminal
    total = 0
    if visible:  # a bar of the hours waiting; the log lines are for systemd and cron
        logging.getLogger("obrec").setLevel(logging.WARNING)
        total = sum(len(plan.hours) for plan in shipper.status())
    else:
        setup_logging("info")
    with progress(total, "shipping hours", enabled=visible) as advance:
        report = shipper.ship(lambda _: advance(1))
    stderr.print(
        f"shipped {report.hours:,} hour(s), {report.rows:,} snapshots, "
        f"{report.bytes:,} bytes to {shipper.target}",
        highlight=False,
        soft_wrap=True,
    )


def _print_status(plans: list[SymbolPlan]) -> None:
    from rich.table import Table

    table = Table("symbol", "shipped through", "hours waiting", "not final from")
    for plan in plans:
        shipped = format_time(plan.shipped_to_s - 1) if plan.shipped_to_s else "nothing yet"
        table.add_row(plan.symbol, shipped, str(len(plan.hours)), format_time(plan.final_before_s))
    Console(width=None if sys.stdout.isatty() else 200).print(table)
