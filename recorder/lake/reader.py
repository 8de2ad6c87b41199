"""Open a lake as one opens a database: windows of ``Snapshot``s across hours and recorders.

    from recorder.lake import Lake

    with Lake.open("s3://research/obrec") as lake:
        for snap in lake.snapshots("BTCUSDT", from_s, to_s):
            print(snap.ts_s, snap.bids[0], snap.asks[0])
        table = lake.to_arrow(["BTCUSDT", "SOLUSDT"], from_s, to_s)

The same ``Snapshot``s (exact decimal strings, best level first) and the same Arrow schema as
``Database``, read from the hour files of every recorder that ships to the prefix. Only the
hours a window touches are read. Query engines (DuckDB, Polars, Spark) read the files directly
instead (docs/lake.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from recorder.book.snapshot import Level, Snapshot
from recorder.lake.layout import DEFAULT_MARKET, GAPS, HOUR_S, SNAPSHOTS, LakeUrl, hour_of
from recorder.lake.objects import Endpoint, Objects
from recorder.read.arrow import SCHEMA
from recorder.storage.layout import MAX_TS_S, GapRecord


class Lake:
    """A lake, read-only: ``s3://BUCKET/PREFIX`` and one market in it."""

    def __init__(self, objects: Objects, market: str = DEFAULT_MARKET) -> None:
        self.objects = objects
        self.market = market

    @classmethod
    def open(
        cls,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        market: str = DEFAULT_MARKET,
    ) -> Lake:
        """Credentials as for ``obrec ship``: the AWS environment variables or files."""
        lake = cls(Objects(LakeUrl.parse(url), Endpoint(endpoint_url, region)), market)
        lake.objects.check()
        return lake

    def close(self) -> None:
        """Nothing to release; here so that a lake is used like a ``Database``."""

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def url(self) -> LakeUrl:
        return self.objects.url

    def symbols(self) -> list[str]:
        """Every symbol shipped to the lake, by any recorder."""
        folder = self.url.state_path(self.market, "X").rsplit("/", 1)[0]
        names = (p.rsplit("/", 1)[-1] for p in self.objects.files(folder))
        return sorted(n.removeprefix("symbol=").removesuffix(".json") for n in names)

    def hours(self, symbol: str) -> list[int]:
        """Start seconds of the hours of ``symbol`` in the lake, oldest first."""
        found = set()
        for path in self.objects.files(self.url.symbol_dir(self.market, symbol)):
            parts = dict(p.split("=", 1) for p in path.split("/") if "=" in p)
            day = datetime.strptime(parts["date"], "%Y-%m-%d").replace(tzinfo=UTC)
            found.add(int(day.timestamp()) + int(parts["hour"]) * HOUR_S)
        return sorted(found)

    def _tables(self, symbol: str, name: str, from_s: int, to_s: int) -> Iterator[pa.Table]:
        for hour_s in self.hours(symbol):
            if hour_of(from_s) <= hour_s <= to_s:
                path = f"{self.url.hour_dir(self.market, symbol, hour_s)}/{name}"
                if self.objects.exists(path):
                    yield pq.read_table(path, filesystem=self.objects.filesystem)

    def to_arrow(self, symbols: Sequence[str], from_s: int = 0, to_s: int = MAX_TS_S) -> pa.Table:
        """One table of the window, the schema of ``Database.to_arrow`` (docs/python-api.md)."""
        parts = []
        for symbol in symbols:
            for hour in self._tables(symbol, SNAPSHOTS, from_s, to_s):
                ts = hour.column("ts")
                rows = hour.filter(pc.and_(pc.greater_equal(ts, from_s), pc.less_equal(ts, to_s)))
                name = pa.array([symbol] * rows.num_rows, pa.string())
                parts.append(rows.add_column(0, "symbol", name).select(SCHEMA.names))
        return pa.concat_tables(parts).cast(SCHEMA) if parts else SCHEMA.empty_table()

    def snapshots(self, symbol: str, from_s: int = 0, to_s: int = MAX_TS_S) -> Iterator[Snapshot]:
        """Snapshots of ``symbol`` from ``from_s`` to ``to_s`` inclusive, oldest first."""
        rows = self.to_arrow([symbol], from_s, to_s)
        for row in rows.to_pylist():
            yield Snapshot(
                symbol,
                row["ts"],
                int(row["event_time"].timestamp() * 1000),
                row["update_id"],
                int(row["recv_time"].timestamp() * 1000),
                _levels(row["bid_price"], row["bid_qty"]),
                _levels(row["ask_price"], row["ask_qty"]),
            )

    def gaps(self, symbol: str) -> list[GapRecord]:
        """The gap records shipped with ``symbol``'s hours, each cut at hour boundaries."""
        return [
            GapRecord(symbol, g["from_ts"], g["to_ts"], g["reason"])
            for table in self._tables(symbol, GAPS, 0, MAX_TS_S)
            for g in table.to_pylist()
        ]


def _levels(prices: list[Decimal], quantities: list[Decimal]) -> list[Level]:
    return [(_text(p), _text(q)) for p, q in zip(prices, quantities, strict=True)]


def _text(value: Decimal) -> str:
    """The decimal as the database writes it: no exponent, no trailing zeros."""
    return format(value.normalize(), "f")
