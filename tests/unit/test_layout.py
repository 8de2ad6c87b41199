"""The layout of a directory: keys, metadata values, and batches built by intent. Pure."""

from __future__ import annotations

import ormsgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.storage.layout import (
    MAX_TS_S,
    GapRecord,
    PendingWrites,
    clamped_key,
    end_key,
    gap_entry,
    gap_record,
    holds_symbol,
    second_of,
    session_key,
    session_record,
    snapshot_key,
    split_key,
    symbol_end,
    symbol_of,
    symbol_prefix,
)

# -- keys ---------------------------------------------------------------------------------------

timestamps = st.integers(min_value=0, max_value=MAX_TS_S)
# Any printable ASCII but the separator: exchange symbols are upper-case alphanumerics.
symbols = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=":"),
    min_size=1,
    max_size=12,
)


@pytest.mark.parametrize(
    ("symbol", "ts_s", "key"),
    [
        ("BTCUSDT", 1737158400, b"BTCUSDT:1737158400"),
        ("BTCUSDT", 0, b"BTCUSDT:0000000000"),
        ("ETHBTC", 42, b"ETHBTC:0000000042"),
        ("X", MAX_TS_S, b"X:9999999999"),
    ],
)
def test_snapshot_key_format_and_split(symbol: str, ts_s: int, key: bytes) -> None:
    assert snapshot_key(symbol, ts_s) == key
    assert split_key(key) == (symbol, ts_s)


def test_prefix_and_end() -> None:
    assert symbol_prefix("BTCUSDT") == b"BTCUSDT:"
    assert symbol_end("BTCUSDT") == b"BTCUSDT;"
    assert MAX_TS_S == 9_999_999_999


@given(symbols, timestamps)
def test_split_key_inverts_snapshot_key(symbol: str, ts_s: int) -> None:
    key = snapshot_key(symbol, ts_s)
    assert len(key) == len(symbol) + 1 + 10
    assert key.startswith(symbol_prefix(symbol))
    assert split_key(key) == (symbol, ts_s)


@given(symbols, timestamps, timestamps)
def test_byte_order_is_time_order(symbol: str, a: int, b: int) -> None:
    assert (snapshot_key(symbol, a) < snapshot_key(symbol, b)) == (a < b)


@given(symbols, timestamps)
def test_every_key_of_a_symbol_is_inside_its_scan_range(symbol: str, ts_s: int) -> None:
    key = snapshot_key(symbol, ts_s)
    assert snapshot_key(symbol, 0) <= key < symbol_end(symbol)
    assert symbol_prefix(symbol) <= key


@given(symbols, symbols, timestamps)
def test_keys_of_other_symbols_are_outside_the_scan_range(mine: str, other: str, ts: int) -> None:
    if mine == other:
        return
    key = snapshot_key(other, ts)
    assert not snapshot_key(mine, 0) <= key < symbol_end(mine)


@pytest.mark.parametrize(
    ("mine", "other"), [("BTC", "BTCUSDT"), ("BTCUSDT", "BTC"), ("BTC", "BTC-")]
)
def test_prefix_named_symbols_do_not_collide(mine: str, other: str) -> None:
    for ts in (0, 1737158400, MAX_TS_S):
        key = snapshot_key(other, ts)
        assert not snapshot_key(mine, 0) <= key < symbol_end(mine)


@given(symbols, timestamps)
def test_second_and_symbol_of_a_key(symbol: str, ts_s: int) -> None:
    key = snapshot_key(symbol, ts_s)
    assert second_of(key) == ts_s
    assert symbol_of(key) == symbol


def test_seek_bounds_stay_inside_the_seconds_a_key_holds() -> None:
    assert clamped_key("X", -5) == snapshot_key("X", 0)
    assert clamped_key("X", MAX_TS_S + 7) == snapshot_key("X", MAX_TS_S)
    assert end_key("X", 41) == snapshot_key("X", 42)
    assert end_key("X", MAX_TS_S) == symbol_end("X")  # not an 11-digit key


def test_table_files_hold_the_symbols_between_their_keys() -> None:
    assert holds_symbol(b"BTC:0000000001", b"ETH:0000000001", "BTC")
    assert holds_symbol(b"BTC:0000000001", b"ETH:0000000001", "ETH")
    assert holds_symbol(b"BTC:0000000001", b"ETH:0000000001", "BTCUSDT")
    assert not holds_symbol(b"BTC:0000000001", b"ETH:0000000001", "XRP")


def test_gap_and_session_records_round_trip() -> None:
    key, value = gap_entry("BTCUSDT", 5, 7, "limit")
    assert key == b"gap:BTCUSDT:0000000005"
    assert ormsgpack.unpackb(value) == {"to": 7, "reason": "limit"}
    assert gap_record(key, ormsgpack.unpackb(value)) == GapRecord("BTCUSDT", 5, 7, "limit")
    assert session_key(1737158000) == b"session:1737158000"
    assert session_record(session_key(40), {"end": None}).start_s == 40


# -- batches ------------------------------------------------------------------------------------


def test_invalidate_drops_queued_snapshots_of_that_symbol_from_that_second_on() -> None:
    pending = PendingWrites()
    for symbol in ("BTC", "BTCUSDT"):
        for ts_s in (9, 10, 11):
            pending.put_snapshot(symbol, ts_s, f"{symbol}@{ts_s}".encode())
    pending.invalidate("BTC", 10)
    assert [v for _, v in pending.puts] == [b"BTC@9", b"BTCUSDT@9", b"BTCUSDT@10", b"BTCUSDT@11"]
    assert pending.delete_ranges == [(snapshot_key("BTC", 10), symbol_end("BTC"))]
    pending.put_snapshot("BTC", 10, b"BTC@10 again")  # after the delete: the batch keeps it
    assert pending.snapshots == 5
    assert list(pending.snapshot_seconds()) == [9, 9, 10, 11, 10]


def test_intent_calls_fill_the_batch_and_make_it_true() -> None:
    assert not PendingWrites()
    pending = PendingWrites()
    pending.delete_before("BTC", 100)
    assert pending.delete_ranges == [(snapshot_key("BTC", 0), snapshot_key("BTC", 100))]
    meta = PendingWrites()
    gap = GapRecord("BTC", 1, 2, "startup")
    meta.record_gap(gap)
    meta.delete_gap(gap)
    meta.put_session(40, {"end": 60})
    meta.delete_session(40)
    assert meta
    assert pending
    assert [k for k, _ in meta.meta_puts] == [b"gap:BTC:0000000001", b"session:0000000040"]
    assert meta.meta_deletes == [b"gap:BTC:0000000001", b"session:0000000040"]
