"""The read side as a library: every read command (``query``, ``export``, ``plot``, ``stats``,
``prune``, ``backup``) is one call into it, and notebooks make the same calls.

    from recorder.read import Database, backup, prune

Modules: ``database`` (``Database``, read-only windows, stats, frames), ``export`` (files:
Tardis CSV, JSONL, Parquet), ``arrow`` (Arrow batches, the ``parquet`` extra), ``plot`` (charts,
the ``plot`` extra), ``retention`` (prune), ``backup`` (a consistent copy beside a running
recorder), ``render`` (rich tables for people) and ``extras`` (checks for the optional extras).
Only the light ones are imported here: numpy, pyarrow and matplotlib load on first use.
"""

from recorder.read.backup import BackupResult, backup
from recorder.read.database import Database, DatabaseStats, SymbolStats, check_window
from recorder.read.retention import PrunePlan, PruneResult, prune
from recorder.storage.layout import MAX_TS_S, GapRecord

__all__ = [
    "MAX_TS_S",
    "BackupResult",
    "Database",
    "DatabaseStats",
    "GapRecord",
    "PrunePlan",
    "PruneResult",
    "SymbolStats",
    "backup",
    "check_window",
    "prune",
]
