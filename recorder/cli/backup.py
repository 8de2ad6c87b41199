"""``obrec backup``: a consistent copy of a database directory, taken while it is recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recorder.cli.common import DbOption, stderr
from recorder.config import default_db_path
from recorder.read import backup as backup_copy
from recorder.read.render import human_bytes


def backup(
    dest: Annotated[Path, typer.Argument(help="A new directory for the copy; must not exist.")],
    db: DbOption = None,
) -> None:
    """Copy the database into a new directory DEST as it is now, even while it is recorded.

    Table files are hard-linked when DEST is on the same filesystem (almost no extra space) and
    copied otherwise. DEST is itself a database: read it with --db DEST. To restore, stop the
    recorder and copy the backup into the database's place with obrec backup itself, so that the
    backup stays untouched (docs/operations.md).

    Example: obrec backup --db /var/lib/obrec/db /var/backups/obrec/$(date -u +%F)
    """
    source = db or default_db_path()
    result = backup_copy(source, dest)
    stderr.print(
        f"backed up {source} to {dest}: {result.snapshots:,} snapshots, "
        f"{human_bytes(result.bytes_on_disk)} "
        f"({result.writes:,} recent writes added to the checkpoint)",
        highlight=False,
        soft_wrap=True,
    )
