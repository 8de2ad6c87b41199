"""One database holds one market: written at creation, refused on mismatch before anything is
written, and carried by every reader (stats, Tardis CSV, Parquet, the Python API)."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from recorder.binance.market import Market
from recorder.errors import MarketMismatchError, StorageError
from recorder.read import Database
from recorder.read.export import ExportFormat, ExportRequest, export, write_snapshots
from recorder.storage.layout import FORMAT_KEY, PendingWrites, pack_doc, snapshot_key
from recorder.storage.store import Store, check_market
from tests.helpers import encoded

TS_S = 1_700_000_000


def directory_state(path: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file RocksDB keeps data in (its info ``LOG`` files
    and rocksdict's options file are not data: every open, read-only too, rewrites them)."""
    return {
        str(f.relative_to(path)): (f.stat().st_size, f.stat().st_mtime_ns)
        for f in sorted(path.rglob("*"))
        if f.is_file() and not f.name.startswith("LOG") and f.name != "rocksdict-config.json"
    }


def _database(path: Path, market: Market | None, symbol: str = "BTCUSD_PERP") -> None:
    """A database of ``market`` with one snapshot (None: one written before markets existed)."""
    value = encoded(TS_S * 1000 + 7, 42, TS_S * 1000 + 9, [("97000.1", "12")], [])
    with Store.open_writer(path, market=market or Market.SPOT) as store:
        pending = PendingWrites(puts=[(snapshot_key(symbol, TS_S), value)])
        if market is None:
            pending.meta_puts.append((FORMAT_KEY, pack_doc({"format_version": 1})))
        store.write(pending)


@pytest.mark.parametrize("market", list(Market))
def test_a_new_database_remembers_its_market(tmp_path: Path, market: Market) -> None:
    _database(tmp_path / "db", market)
    with Database.open(tmp_path / "db") as db:
        assert db.market is market
        assert db.stats().market is market


def test_a_database_from_before_markets_is_spot_and_records_spot(tmp_path: Path) -> None:
    _database(tmp_path / "db", None, "BTCUSDT")
    with Store.open_reader(tmp_path / "db") as store:
        assert store.market is Market.SPOT
    check_market(tmp_path / "db", Market.SPOT)
    with Store.open_writer(tmp_path / "db", market=Market.SPOT) as store:
        assert store.market is Market.SPOT


@pytest.mark.parametrize(
    ("stored", "wanted"),
    [(Market.SPOT, Market.USDM), (Market.USDM, Market.COINM), (Market.COINM, Market.SPOT)],
)
def test_another_market_is_refused_before_anything_is_written(
    tmp_path: Path, stored: Market, wanted: Market
) -> None:
    path = tmp_path / "db"
    _database(path, stored)
    before = directory_state(path)
    for refuse in (check_market, lambda p, m: Store.open_writer(p, market=m)):
        with pytest.raises(MarketMismatchError) as info:
            refuse(path, wanted)
        error = info.value
        assert (error.stored, error.wanted, error.exit_code) == (stored.value, wanted.value, 2)
        assert f"holds the {stored.value} market and cannot record {wanted.value}" in str(error)
        assert directory_state(path) == before
    with Database.open(path) as db:
        assert db.market is stored


def test_a_missing_directory_holds_no_market_yet(tmp_path: Path) -> None:
    check_market(tmp_path / "nothing", Market.COINM)
    assert not (tmp_path / "nothing").exists()


def test_an_unknown_market_is_a_storage_error(tmp_path: Path) -> None:
    with Store.open_writer(tmp_path / "db") as store:
        pending = PendingWrites()
        pending.meta_puts.append((FORMAT_KEY, pack_doc({"format_version": 1, "market": "mars"})))
        store.write(pending)
    with pytest.raises(StorageError, match="'mars'"):
        Database.open(tmp_path / "db")


@pytest.mark.parametrize(
    ("market", "exchange"),
    [
        (Market.SPOT, "binance"),
        (Market.USDM, "binance-futures"),
        (Market.COINM, "binance-delivery"),
    ],
)
def test_tardis_csv_names_the_markets_exchange(
    tmp_path: Path, market: Market, exchange: str
) -> None:
    _database(tmp_path / "db", market)
    out = io.BytesIO()
    with Database.open(tmp_path / "db") as db:
        write_snapshots(db.snapshots("BTCUSD_PERP"), "csv", 1, out, db.market)
    row = out.getvalue().decode().splitlines()[1]
    assert row.startswith(f"{exchange},BTCUSD_PERP,{TS_S * 1_000_000 + 7000},")


@pytest.mark.parametrize("partition", [False, True])
def test_parquet_and_arrow_carry_the_market(tmp_path: Path, partition: bool) -> None:
    _database(tmp_path / "db", Market.COINM)
    target = tmp_path / "out"
    request = ExportRequest(
        ("BTCUSD_PERP",), TS_S, TS_S, ExportFormat.PARQUET, target, levels=1, partition=partition
    )
    with Database.open(tmp_path / "db") as db:
        assert export(db, request) == 1
        table = db.to_arrow(["BTCUSD_PERP"])
    files = sorted(target.rglob("*.parquet")) if partition else [target]
    metadata = pq.read_schema(files[0]).metadata
    assert metadata[b"obrec.market"] == b"coinm"
    assert metadata[b"obrec.exchange"] == b"binance-delivery"
    assert table.schema.metadata[b"obrec.market"] == b"coinm"
