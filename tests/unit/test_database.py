"""The read-only Database API, on real stores built under tmp_path."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import ormsgpack
import pytest

from recorder.book.snapshot import Level
from recorder.cli.common import error_message
from recorder.errors import (
    CorruptValueError,
    DatabaseMissingError,
    UnknownSymbolError,
    UsageError,
)
from recorder.read import Database
from recorder.storage.layout import PendingWrites, gap_key, snapshot_key
from recorder.storage.store import Store
from tests.helpers import encoded

Book = tuple[list[Level], list[Level]]
GARBAGE = b"\x01garbage"

BTC_SECONDS = [*range(100, 110), *range(115, 120)]
ETH_SECONDS = list(range(100, 105))


def book(ts_s: int) -> Book:
    """A two-level book that moves with the second, in the normalised spelling the codec returns."""
    bids = [(f"{ts_s}.5", "1.25"), (f"{ts_s}", "3")]
    asks = [(f"{ts_s + 1}", "0.5"), (f"{ts_s + 1}.25", "2")]
    return bids, asks


def write_store(
    path: Path,
    books: dict[str, dict[int, Book]],
    gaps: Sequence[tuple[str, int, int, str]] = (),
    raw: dict[bytes, bytes] | None = None,
) -> None:
    """Write snapshots (event time = second * 1000 + 7, update id = second, recv = +9 ms),
    gap records and raw values, then close the writer."""
    puts: list[tuple[bytes, bytes]] = []
    for symbol, by_second in books.items():
        for ts_s, (bids, asks) in sorted(by_second.items()):
            value = encoded(ts_s * 1000 + 7, ts_s, ts_s * 1000 + 9, bids, asks)
            puts.append((snapshot_key(symbol, ts_s), value))
    puts += list((raw or {}).items())
    meta_puts = [
        (gap_key(symbol, from_s), ormsgpack.packb({"to": to_s, "reason": reason}))
        for symbol, from_s, to_s, reason in gaps
    ]
    with Store.open_writer(path) as store:
        store.write(PendingWrites(puts=puts, meta_puts=meta_puts))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "db"
    write_store(
        path,
        {
            "BTCUSDT": {s: book(s) for s in BTC_SECONDS},
            "ETHUSDT": {s: book(s) for s in ETH_SECONDS},
        },
        gaps=[("BTCUSDT", 97, 99, "startup"), ("BTCUSDT", 110, 114, "sequence_gap")],
    )
    with Database.open(path) as database:
        yield database


def open_single(tmp_path: Path, symbol: str, books: dict[int, Book]) -> Database:
    path = tmp_path / "single"
    write_store(path, {symbol: books})
    return Database.open(path)


# -- opening ------------------------------------------------------------------------------------


def test_open_on_a_missing_directory_raises_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "db"
    with pytest.raises(DatabaseMissingError, match="no obrec database"):
        Database.open(path)
    assert not path.exists()
    assert not path.parent.exists()


def test_open_expands_the_user_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_store(tmp_path / "db", {"BTCUSDT": {100: book(100)}})
    monkeypatch.setenv("HOME", str(tmp_path))
    with Database.open("~/db") as database:
        assert database.path == tmp_path / "db"
        assert database.symbols() == ["BTCUSDT"]


# -- symbols and spans --------------------------------------------------------------------------


def test_symbols(db: Database) -> None:
    assert db.symbols() == ["BTCUSDT", "ETHUSDT"]


def test_require_symbol_accepts_recorded_symbols(db: Database) -> None:
    db.require_symbol("BTCUSDT")
    db.require_symbol("ETHUSDT")


def test_require_symbol_names_what_was_recorded(db: Database) -> None:
    with pytest.raises(UnknownSymbolError) as info:
        db.require_symbol("DOGEUSDT")
    message = str(info.value)
    assert "DOGEUSDT was never recorded" in message
    assert "recorded: BTCUSDT, ETHUSDT" in message


def quiet_database(tmp_path: Path) -> Database:
    """BTCUSDT stored; RUNEEUR asked for by the session, with a start-up gap and no snapshot;
    DOTEUR asked for, with neither; XRPEUR known only from a gap record."""
    path = tmp_path / "quiet"
    write_store(
        path,
        {"BTCUSDT": {s: book(s) for s in ETH_SECONDS}},
        gaps=[("RUNEEUR", 100, 104, "startup"), ("XRPEUR", 90, 91, "disconnect")],
    )
    with Store.open_writer(path) as store:
        store.put_session(99, {"symbols": ["BTCUSDT", "RUNEEUR", "DOTEUR"], "start": 99})
    return Database.open(path)


def test_a_recorded_symbol_with_nothing_stored_is_an_empty_window(tmp_path: Path) -> None:
    with quiet_database(tmp_path) as database:
        assert database.recorded_symbols() == ["BTCUSDT", "DOTEUR", "RUNEEUR", "XRPEUR"]
        assert database.symbols() == ["BTCUSDT"]
        for symbol in ("RUNEEUR", "DOTEUR", "XRPEUR"):
            database.require_symbol(symbol)
            assert list(database.snapshots(symbol)) == []
        with pytest.raises(UnknownSymbolError) as info:
            database.require_symbol("DOGEUSDT")
        assert "recorded: BTCUSDT, DOTEUR, RUNEEUR, XRPEUR" in str(info.value)


def test_stats_list_a_recorded_symbol_with_nothing_stored(tmp_path: Path) -> None:
    with quiet_database(tmp_path) as database:
        stats = {s.symbol: s for s in database.stats().symbols}
    assert list(stats) == ["BTCUSDT", "DOTEUR", "RUNEEUR", "XRPEUR"]
    rune = stats["RUNEEUR"]
    assert (rune.first_s, rune.last_s, rune.snapshots, rune.expected) == (None, None, 0, 0)
    assert rune.coverage == 0.0
    assert (rune.gaps, rune.gap_seconds) == (1, 5)
    assert rune.longest_gap is not None
    assert rune.longest_gap.reason == "startup"
    assert (stats["DOTEUR"].snapshots, stats["DOTEUR"].gaps) == (0, 0)
    assert stats["BTCUSDT"].snapshots == len(ETH_SECONDS)


def test_require_symbol_is_not_fooled_by_a_prefix(db: Database) -> None:
    with pytest.raises(UnknownSymbolError):
        db.require_symbol("BTC")


def test_require_symbol_on_an_empty_database(tmp_path: Path) -> None:
    write_store(tmp_path / "db", {})
    with Database.open(tmp_path / "db") as database, pytest.raises(UnknownSymbolError) as info:
        database.require_symbol("BTCUSDT")
    assert "recorded: none yet" in str(info.value)


@pytest.mark.parametrize(
    ("from_s", "to_s", "expected"),
    [
        (0, 9_999_999_999, (100, 119)),
        (103, 116, (103, 116)),
        (105, 112, (105, 109)),  # ends inside the hole
        (111, 117, (115, 117)),  # starts inside the hole
        (50, 100, (100, 100)),
        (119, 500, (119, 119)),
        (110, 114, None),  # exactly the hole
        (0, 99, None),  # before the first second
        (120, 200, None),  # after the last second
    ],
)
def test_span(db: Database, from_s: int, to_s: int, expected: tuple[int, int] | None) -> None:
    assert db.span("BTCUSDT", from_s, to_s) == expected


def test_span_defaults_cover_the_whole_symbol(db: Database) -> None:
    assert db.span("BTCUSDT") == (100, 119)
    assert db.span("ETHUSDT") == (100, 104)
    assert db.span("DOGEUSDT") is None


# -- snapshots ----------------------------------------------------------------------------------


def test_snapshots_window_is_inclusive_and_ordered(db: Database) -> None:
    got = list(db.snapshots("BTCUSDT", 105, 116))
    assert [s.ts_s for s in got] == [105, 106, 107, 108, 109, 115, 116]
    assert {s.symbol for s in got} == {"BTCUSDT"}


def test_snapshots_decode_every_field(db: Database) -> None:
    (snap,) = db.snapshots("ETHUSDT", 102, 102)
    assert snap.symbol == "ETHUSDT"
    assert snap.ts_s == 102
    assert snap.event_time_ms == 102_007
    assert snap.update_id == 102
    assert snap.recv_time_ms == 102_009
    assert (snap.bids, snap.asks) == book(102)


def test_snapshots_default_window_is_everything(db: Database) -> None:
    assert [s.ts_s for s in db.snapshots("BTCUSDT")] == BTC_SECONDS
    assert [s.ts_s for s in db.snapshots("ETHUSDT")] == ETH_SECONDS


def test_snapshots_of_an_empty_window(db: Database) -> None:
    assert list(db.snapshots("BTCUSDT", 110, 114)) == []
    assert list(db.snapshots("DOGEUSDT")) == []


# -- at -----------------------------------------------------------------------------------------


def test_at_returns_the_exact_second(db: Database) -> None:
    snap = db.at("BTCUSDT", 107)
    assert snap is not None
    assert snap.ts_s == 107
    assert (snap.bids, snap.asks) == book(107)


def test_at_returns_the_latest_before_it(db: Database) -> None:
    snap = db.at("BTCUSDT", 113)  # inside the hole
    assert snap is not None
    assert snap.ts_s == 109
    latest = db.at("BTCUSDT", 10_000)
    assert latest is not None
    assert latest.ts_s == 119


def test_at_does_not_reach_into_another_symbol(db: Database) -> None:
    # ETHUSDT sorts after BTCUSDT: a seek before ETHUSDT's first second lands on BTCUSDT keys.
    assert db.at("ETHUSDT", 99) is None
    assert db.at("BTCUSDT", 99) is None
    assert db.at("BTCUSDT", 0) is None


# -- metadata and stats -------------------------------------------------------------------------


def test_gaps_filter_by_symbol(db: Database) -> None:
    assert [(g.from_s, g.to_s, g.reason) for g in db.gaps("BTCUSDT")] == [
        (97, 99, "startup"),
        (110, 114, "sequence_gap"),
    ]
    assert db.gaps("ETHUSDT") == []
    assert len(db.gaps()) == 2


def test_stats_per_symbol(db: Database) -> None:
    stats = db.stats()
    assert stats.format_version == 1
    assert stats.path == db.path
    assert [s.symbol for s in stats.symbols] == ["BTCUSDT", "ETHUSDT"]
    btc, eth = stats.symbols

    assert (btc.first_s, btc.last_s) == (100, 119)
    assert btc.snapshots == 15
    assert btc.expected == 20
    assert btc.coverage == pytest.approx(0.75)
    assert btc.gaps == 2
    assert btc.gap_seconds == 3 + 5
    assert btc.longest_gap is not None
    assert btc.longest_gap.reason == "sequence_gap"
    assert (btc.longest_gap.from_s, btc.longest_gap.to_s) == (110, 114)

    assert (eth.first_s, eth.last_s) == (100, 104)
    assert eth.snapshots == eth.expected == 5
    assert eth.coverage == 1.0
    assert (eth.gaps, eth.gap_seconds, eth.longest_gap) == (0, 0, None)


def test_stats_bytes(db: Database) -> None:
    stats = db.stats()
    assert stats.bytes_on_disk > 0
    table_bytes = db.store.table_bytes()
    assert 0 < table_bytes <= stats.bytes_on_disk
    estimates = [s.bytes_on_disk for s in stats.symbols]
    assert all(b > 0 for b in estimates)  # the closed writer flushed both symbols to tables
    assert sum(estimates) <= table_bytes


# -- corrupt values -----------------------------------------------------------------------------


@pytest.fixture
def corrupt_db(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "corrupt"
    write_store(
        path,
        {"BTCUSDT": {s: book(s) for s in (100, 101, 103, 104)}},
        raw={snapshot_key("BTCUSDT", 102): GARBAGE},
    )
    with Database.open(path) as database:
        yield database


def test_corrupt_value_stops_snapshots_naming_the_key(corrupt_db: Database) -> None:
    seen: list[int] = []
    with pytest.raises(CorruptValueError) as info:
        seen.extend(s.ts_s for s in corrupt_db.snapshots("BTCUSDT"))
    assert seen == [100, 101]
    assert info.value.key == b"BTCUSDT:0000000102"
    assert "BTCUSDT:0000000102" in str(info.value)
    assert "skip_corrupt" in str(info.value)
    assert "--skip-corrupt" in error_message(info.value)


def test_skip_corrupt_yields_the_others_and_warns(
    corrupt_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="obrec"):
        got = [s.ts_s for s in corrupt_db.snapshots("BTCUSDT", skip_corrupt=True)]
    assert got == [100, 101, 103, 104]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "BTCUSDT:0000000102" in warnings[0].getMessage()
    assert "skipped" in warnings[0].getMessage()


def test_window_that_avoids_the_corrupt_key_reads_fine(corrupt_db: Database) -> None:
    assert [s.ts_s for s in corrupt_db.snapshots("BTCUSDT", 103, 104)] == [103, 104]


def test_at_on_a_corrupt_key_raises(corrupt_db: Database) -> None:
    with pytest.raises(CorruptValueError) as info:
        corrupt_db.at("BTCUSDT", 102)
    assert info.value.key == b"BTCUSDT:0000000102"
    snap = corrupt_db.at("BTCUSDT", 103)
    assert snap is not None
    assert snap.ts_s == 103


def test_columns_skip_corrupt(corrupt_db: Database) -> None:
    with pytest.raises(CorruptValueError):
        list(corrupt_db.columns("BTCUSDT"))
    assert [ts for ts, _ in corrupt_db.columns("BTCUSDT", skip_corrupt=True)] == [
        100,
        101,
        103,
        104,
    ]


# -- dataframes ---------------------------------------------------------------------------------

COLUMNS = [
    "symbol",
    "ts",
    "time",
    "event_time",
    "recv_time",
    "update_id",
    "bid_price",
    "bid_qty",
    "ask_price",
    "ask_qty",
]


def decimals(levels: list[Level], side: int) -> list[Decimal]:
    return [Decimal(level[side]) for level in levels]


def test_to_arrow_schema_rows_and_exact_values(db: Database) -> None:
    table = db.to_arrow(["BTCUSDT", "ETHUSDT"])
    assert table.schema.names == COLUMNS
    assert table.num_rows == len(BTC_SECONDS) + len(ETH_SECONDS)
    rows = table.to_pylist()
    assert [(r["symbol"], r["ts"]) for r in rows] == [("BTCUSDT", s) for s in BTC_SECONDS] + [
        ("ETHUSDT", s) for s in ETH_SECONDS
    ]
    for row in rows:
        bids, asks = book(row["ts"])
        assert row["bid_price"] == decimals(bids, 0)
        assert row["bid_qty"] == decimals(bids, 1)
        assert row["ask_price"] == decimals(asks, 0)
        assert row["ask_qty"] == decimals(asks, 1)
        assert row["update_id"] == row["ts"]
        assert row["time"].timestamp() == row["ts"]
        assert row["event_time"].timestamp() == pytest.approx(row["ts"] + 0.007)
        assert row["recv_time"].timestamp() == pytest.approx(row["ts"] + 0.009)


def test_to_arrow_window(db: Database) -> None:
    table = db.to_arrow(["BTCUSDT"], 108, 116)
    assert table.column("ts").to_pylist() == [108, 109, 115, 116]
    assert db.to_arrow(["BTCUSDT"], 110, 114).num_rows == 0


def test_to_pandas(db: Database) -> None:
    frame = db.to_pandas(["BTCUSDT"], 100, 104)
    assert len(frame) == 5
    assert list(frame.columns) == COLUMNS
    assert frame["update_id"].tolist() == [100, 101, 102, 103, 104]
    assert Decimal(frame["bid_price"].iloc[0][0]) == Decimal("100.5")


def test_to_polars(db: Database) -> None:
    frame = db.to_polars(["ETHUSDT"])
    assert frame.height == 5
    assert frame.columns == COLUMNS
    assert frame["ts"].to_list() == ETH_SECONDS
    assert frame["ask_qty"][0].to_list() == [Decimal("0.5"), Decimal("2")]


def test_to_arrow_is_exact_beyond_int64(tmp_path: Path) -> None:
    """A quantity of 1.2e11 at 8 decimals is 1.2e19 > 2**63: the slow exact path."""
    books: dict[int, Book] = {
        100: ([("97123.45", "123456789012.5"), ("97123.4", "0.00000001")], [("97124", "1")]),
        101: ([("97123.45", "1")], [("97124", "99999999999.99999999")]),
    }
    with open_single(tmp_path, "BTCUSDT", books) as database:
        rows = database.to_arrow(["BTCUSDT"]).to_pylist()
    assert [r["ts"] for r in rows] == [100, 101]
    for row in rows:
        bids, asks = books[row["ts"]]
        assert row["bid_price"] == decimals(bids, 0)
        assert row["bid_qty"] == decimals(bids, 1)
        assert row["ask_price"] == decimals(asks, 0)
        assert row["ask_qty"] == decimals(asks, 1)
    assert rows[0]["bid_qty"][0] == Decimal("123456789012.5")
    assert rows[1]["ask_qty"][0] == Decimal("99999999999.99999999")


def test_to_arrow_refuses_more_than_eight_decimals(tmp_path: Path) -> None:
    books: dict[int, Book] = {100: ([("1.123456789", "1")], [("2", "1")])}
    with open_single(tmp_path, "BTCUSDT", books) as database:
        # The value itself is stored exactly; only the Arrow conversion refuses it.
        (snap,) = database.snapshots("BTCUSDT")
        assert snap.bids == [("1.123456789", "1")]
        with pytest.raises(UsageError, match="more than 8 decimals"):
            database.to_arrow(["BTCUSDT"])


def test_to_arrow_keeps_nine_decimal_spellings_that_are_exact_at_eight(tmp_path: Path) -> None:
    books: dict[int, Book] = {100: ([("1.100000000", "1")], [("2", "0.000000010")])}
    with open_single(tmp_path, "BTCUSDT", books) as database:
        (row,) = database.to_arrow(["BTCUSDT"]).to_pylist()
    assert row["bid_price"] == [Decimal("1.1")]
    assert row["ask_qty"] == [Decimal("0.00000001")]


def test_to_arrow_undoes_price_deltas_exactly_beyond_int64(tmp_path: Path) -> None:
    """Prices whose mantissas exceed int64 take the exact Python path, deltas included."""
    bids = [("99999999999.99999999", "1"), ("99999999999.99999997", "2"), ("1.5", "3")]
    asks = [("100000000000.00000001", "1"), ("100000000001", "4")]
    with open_single(tmp_path, "HUGEUSDT", {100: (bids, asks), 101: book(101)}) as database:
        rows = database.to_arrow(["HUGEUSDT"]).to_pylist()
    assert rows[0]["bid_price"] == [Decimal(p) for p, _ in bids]
    assert rows[0]["ask_price"] == [Decimal(p) for p, _ in asks]
    assert rows[1]["bid_price"] == [Decimal(p) for p, _ in book(101)[0]]
