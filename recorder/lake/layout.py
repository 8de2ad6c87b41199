"""Where things live in a lake, and which hours are ready to go there. Pure: no I/O, no clock.

A lake is ``s3://BUCKET/PREFIX``. Each symbol-hour is one folder (docs/lake.md):

    PREFIX/market=spot/symbol=BTCUSDT/date=2026-01-01/hour=13/part-0.parquet   snapshots
    PREFIX/market=spot/symbol=BTCUSDT/date=2026-01-01/hour=13/_gaps.parquet    its gap records
    PREFIX/_obrec/market=spot/symbol=BTCUSDT.json                              what was shipped

Names beginning with ``_`` are hidden from Spark, Hive and pyarrow datasets, so the snapshot
files read as one table; DuckDB and Polars pick them with the glob ``**/part-*.parquet``.
``hour`` is not zero-padded so that DuckDB and Polars type it as an integer.

An hour is final when no second of it can still change. The recorder may delete (invalidate)
stored seconds back to the second of the last event it applied (docs/architecture.md, rules T3
and T4), never earlier; so every second before the last applied event's second is final. A
recorder that stopped cleanly changes nothing up to its session's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from recorder.binance.market import Market
from recorder.errors import UsageError

HOUR_S = 3600
SNAPSHOTS = "part-0.parquet"
GAPS = "_gaps.parquet"
STATE_DIR = "_obrec"
DEFAULT_MARKET = Market.SPOT.value


@dataclass(frozen=True, slots=True)
class LakeUrl:
    bucket: str
    prefix: str
    """Without leading or trailing slashes; may be empty."""

    @classmethod
    def parse(cls, url: str, parameter: str = "to") -> LakeUrl:
        """``s3://bucket/some/prefix`` -> LakeUrl; UsageError naming ``parameter`` and the fix
        otherwise."""
        if not url.startswith("s3://"):
            raise UsageError(
                f"{{{parameter}}} {url!r} is not an S3 URL; use s3://BUCKET/PREFIX",
                parameters=(parameter,),
            )
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if "@" in bucket:  # never echo it: it may hold a secret
            raise UsageError(
                f"{{{parameter}}} must not hold credentials; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY or use ~/.aws/credentials",
                parameters=(parameter,),
            )
        if not bucket:
            raise UsageError(
                f"{{{parameter}}} {url!r} names no bucket; use s3://BUCKET/PREFIX",
                parameters=(parameter,),
            )
        return cls(bucket, prefix.strip("/"))

    @property
    def root(self) -> str:
        """The path pyarrow's filesystem takes: ``bucket/prefix``."""
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket

    def __str__(self) -> str:
        return f"s3://{self.root}"

    def hour_dir(self, market: str, symbol: str, hour_s: int) -> str:
        moment = datetime.fromtimestamp(hour_s, UTC)
        return (
            f"{self.root}/market={market}/symbol={symbol}/date={moment:%Y-%m-%d}/hour={moment.hour}"
        )

    def symbol_dir(self, market: str, symbol: str) -> str:
        return f"{self.root}/market={market}/symbol={symbol}"

    def state_path(self, market: str, symbol: str) -> str:
        return f"{self.root}/{STATE_DIR}/market={market}/symbol={symbol}.json"


def hour_of(ts_s: int) -> int:
    return ts_s - ts_s % HOUR_S


def final_before(last_event_ms: int | None, closed_end_s: int | None) -> int:
    """The first second that may still change: seconds before it are final. ``last_event_ms``
    is the exchange time of the last event in the newest stored snapshot; ``closed_end_s`` the
    end of the newest session if it ended (None while it records or after a crash)."""
    frontier_s = 0 if last_event_ms is None else last_event_ms // 1000
    if closed_end_s is not None:
        frontier_s = max(frontier_s, closed_end_s + 1)
    return frontier_s


def due_hours(first_s: int, final_before_s: int, shipped_to_s: int) -> range:
    """Start seconds of the whole hours from ``first_s``'s hour (or the first not shipped)
    whose every second is final."""
    start = max(hour_of(first_s), shipped_to_s)
    return range(start, hour_of(final_before_s), HOUR_S)
