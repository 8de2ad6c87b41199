"""Read an obrec directory from Python: the library behind ``query``, ``export`` and ``stats``.

    from recorder.read import Database

    with Database.open("~/obrec-data") as db:
        for snap in db.snapshots("BTCUSDT", from_s, to_s):
            print(snap.ts_s, snap.bids[0], snap.asks[0])
        table = db.to_arrow(["BTCUSDT"], from_s, to_s)     # needs the parquet extra
        frame = db.to_pandas(["BTCUSDT"], from_s, to_s)    # or .to_polars(...)

The directory is opened read-only: nothing is ever created or changed, a running recorder is not
disturbed, and the data is seen as of opening (reopen to see newer seconds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from recorder.binance.market import Market
from recorder.book.snapshot import Snapshot
from recorder.errors import CorruptValueError, UnknownSymbolError, UsageError
from recorder.read.extras import PARQUET, POLARS, require
from recorder.storage.codec import Columns, Decoder, decode_columns, unpack
from recorder.storage.layout import FORMAT_VERSION, MAX_TS_S, GapRecord, second_of
from recorder.storage.store import Store

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

T = TypeVar("T")
log = logging.getLogger("obrec")


def check_window(from_s: int, to_s: int) -> None:
    """UsageError unless the window ``from_s..to_s`` runs forwards."""
    if from_s > to_s:
        raise UsageError(
            f"{{from_s}} ({from_s}) is after {{to_s}} ({to_s}); swap them",
            parameters=("from_s", "to_s"),
        )


@dataclass(frozen=True, slots=True)
class SymbolStats:
    symbol: str
    first_s: int | None
    last_s: int | None
    """First and last stored second; None for a symbol recorded with nothing stored yet."""
    snapshots: int
    gaps: int
    gap_seconds: int
    longest_gap: GapRecord | None
    bytes_on_disk: int
    """Estimated: each table file's size shared among the symbols whose keys it holds."""

    @property
    def expected(self) -> int:
        if self.first_s is None or self.last_s is None:
            return 0
        return self.last_s - self.first_s + 1

    @property
    def coverage(self) -> float:
        return self.snapshots / self.expected if self.expected else 0.0


@dataclass(frozen=True, slots=True)
class DatabaseStats:
    path: Path
    format_version: int
    bytes_on_disk: int
    symbols: list[SymbolStats]
    market: Market = Market.SPOT


class Database:
    """A read-only obrec directory."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def open(cls, path: str | Path) -> Database:
        return cls(Store.open_reader(Path(path).expanduser()))

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def market(self) -> Market:
        """The one market this database holds (spot, usdm or coinm; docs/markets.md)."""
        return self.store.market

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- snapshots ---------------------------------------------------------------------------

    def symbols(self) -> list[str]:
        """Every symbol with at least one stored snapshot."""
        return self.store.symbols()

    def recorded_symbols(self) -> list[str]:
        """Every symbol the directory knows, sorted: one a recorder was asked for (its session
        record says so), one with gap records, one with snapshots. A quiet symbol may have no
        snapshot yet and still be recorded: its windows are empty, not unknown."""
        known = set(self.symbols())
        known.update(gap.symbol for gap in self.store.gaps())
        for session in self.store.sessions():
            known.update(session.doc.get("symbols") or ())
        return sorted(known)

    def require_symbol(self, symbol: str) -> None:
        """UnknownSymbolError, listing what was recorded, unless ``symbol`` was recorded."""
        if self.store.first_at_or_after(symbol, 0) is not None:
            return
        recorded = self.recorded_symbols()
        if symbol not in recorded:
            raise UnknownSymbolError(
                f"{symbol} was never recorded in {self.path} "
                f"(recorded: {', '.join(recorded) or 'none yet'})"
            )

    def span(self, symbol: str, from_s: int = 0, to_s: int = MAX_TS_S) -> tuple[int, int] | None:
        """(first, last) stored second of ``symbol`` within the window, None if none."""
        return self.store.span(symbol, from_s, to_s)

    def count(self, symbol: str, from_s: int = 0, to_s: int = MAX_TS_S) -> int:
        """How many snapshots of ``symbol`` lie in the window (keys only are read)."""
        return self.store.count(symbol, from_s, to_s)

    def snapshots(
        self, symbol: str, from_s: int = 0, to_s: int = MAX_TS_S, *, skip_corrupt: bool = False
    ) -> Iterator[Snapshot]:
        """Snapshots of ``symbol`` from ``from_s`` to ``to_s`` inclusive, oldest first."""
        decoder = Decoder()
        for _, snapshot in self._values(symbol, from_s, to_s, skip_corrupt, decoder.decode):
            yield snapshot

    def columns(
        self, symbol: str, from_s: int = 0, to_s: int = MAX_TS_S, *, skip_corrupt: bool = False
    ) -> Iterator[tuple[int, Columns]]:
        """(second, exact integer columns with absolute prices) of each snapshot; no decimal
        strings are made. Arrow and Parquet read ``docs`` instead, which is faster still."""
        for key, value in self._values(symbol, from_s, to_s, skip_corrupt, _columns):
            yield second_of(key), value

    def _values(
        self,
        symbol: str,
        from_s: int,
        to_s: int,
        skip_corrupt: bool,
        decode: Callable[[bytes, bytes], T],
    ) -> Iterator[tuple[bytes, T]]:
        for key, value in self.store.scan(symbol, from_s, to_s):
            try:
                yield key, decode(key, value)
            except ValueError as exc:
                error = CorruptValueError(key, str(exc))
                if not skip_corrupt:
                    raise error from exc
                log.warning("%s; skipped", error)

    def docs(
        self, symbol: str, from_s: int = 0, to_s: int = MAX_TS_S, *, skip_corrupt: bool = False
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """(second, the stored MessagePack map as in docs/format.md): the rawest, fastest read."""
        for key, doc in self._values(symbol, from_s, to_s, skip_corrupt, _unpack):
            yield second_of(key), doc

    def at(self, symbol: str, ts_s: int) -> Snapshot | None:
        """The snapshot at ``ts_s``, or the latest one before it."""
        found = self.store.last_at_or_before(symbol, ts_s)
        if found is None:
            return None
        key, value = found
        try:
            return Decoder().decode(key, value)
        except ValueError as exc:
            raise CorruptValueError(key, str(exc)) from exc

    # -- metadata ----------------------------------------------------------------------------

    def gaps(self, symbol: str | None = None) -> list[GapRecord]:
        return [g for g in self.store.gaps() if symbol is None or g.symbol == symbol]

    def sessions(self) -> list[dict[str, Any]]:
        return [session.doc for session in self.store.sessions()]

    def stats(self) -> DatabaseStats:
        disk = self.store.bytes_by_symbol()
        gaps = self.gaps()
        out = []
        for symbol in self.recorded_symbols():
            span = self.span(symbol) or (None, None)
            count = self.count(symbol)
            own = [g for g in gaps if g.symbol == symbol]
            longest = max(own, key=lambda g: g.to_s - g.from_s, default=None)
            out.append(
                SymbolStats(
                    symbol,
                    span[0],
                    span[1],
                    count,
                    len(own),
                    sum(g.to_s - g.from_s + 1 for g in own),
                    longest,
                    disk.get(symbol, 0),
                )
            )
        return DatabaseStats(self.path, FORMAT_VERSION, self.store.size_on_disk(), out, self.market)

    # -- dataframes ------------------------------------------------------------------------

    def to_arrow(
        self, symbols: Sequence[str], from_s: int = 0, to_s: int = MAX_TS_S
    ) -> pyarrow.Table:
        """One Arrow table of every snapshot in the window (schema in docs/python-api.md); its
        schema metadata names the market."""
        require(PARQUET)
        from recorder.read.arrow import market_metadata, table

        rows = table({s: self.docs(s, from_s, to_s) for s in symbols})
        return rows.replace_schema_metadata(market_metadata(self.market))

    def to_pandas(
        self, symbols: Sequence[str], from_s: int = 0, to_s: int = MAX_TS_S
    ) -> pandas.DataFrame:
        return cast("pandas.DataFrame", self.to_arrow(symbols, from_s, to_s).to_pandas())

    def to_polars(
        self, symbols: Sequence[str], from_s: int = 0, to_s: int = MAX_TS_S
    ) -> polars.DataFrame:
        require(POLARS)
        import polars as pl

        frame = pl.from_arrow(self.to_arrow(symbols, from_s, to_s))
        assert isinstance(frame, pl.DataFrame)
        return frame


def _columns(key: bytes, value: bytes) -> Columns:
    return decode_columns(value)


def _unpack(key: bytes, value: bytes) -> dict[str, Any]:
    return unpack(value)
