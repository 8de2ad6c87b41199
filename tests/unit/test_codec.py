"""Exact decimal formatting and the snapshot value codec (keys: test_layout.py)."""

from __future__ import annotations

from decimal import Decimal

import ormsgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.book.snapshot import Sample, Snapshot
from recorder.storage.codec import Decoder, encode, format_decimal
from recorder.storage.layout import (
    FORMAT_VERSION,
    snapshot_key,
)
from tests.helpers import decimal_levels, encoded

# -- decimals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mantissa", "exponent", "text"),
    [
        (9712345000000, -8, "97123.45"),
        (5, -1, "0.5"),
        (10, 0, "10"),
        (1, 1, "10"),
        (0, 0, "0"),
        (0, -8, "0"),
        (1, -8, "0.00000001"),
        (100, -2, "1"),
        (-125, -2, "-1.25"),
        (-5, -1, "-0.5"),
        (12345, -18, "0.000000000000012345"),
    ],
)
def test_format_decimal(mantissa: int, exponent: int, text: str) -> None:
    assert format_decimal(mantissa, exponent) == text


def _is_normalised(text: str) -> bool:
    return "e" not in text.lower() and not ("." in text and text.endswith(("0", ".")))


@given(st.integers(min_value=-(2**70), max_value=2**70), st.integers(min_value=-20, max_value=5))
def test_format_decimal_is_exact_and_normalised(mantissa: int, exponent: int) -> None:
    text = format_decimal(mantissa, exponent)
    assert Decimal(text) == Decimal(mantissa).scaleb(exponent)
    assert "e" not in text.lower()
    assert not ("." in text and text.endswith(("0", ".")))


# -- snapshot values ----------------------------------------------------------------------------

KEY = b"BTCUSDT:1737158400"
MAX_UNITS = 2**63 - 1
"""The book's largest number: 92,233,720,368.54775807 in counts of 1e-8."""
u64 = st.integers(min_value=0, max_value=2**64 - 1)
units = st.one_of(
    st.integers(min_value=1, max_value=MAX_UNITS),
    st.sampled_from([1, 10**8, 10**16, MAX_UNITS - 1, MAX_UNITS]),
    st.integers(min_value=1, max_value=10**6).map(lambda n: n * 10**8),  # trailing zeros
)


@st.composite
def samples(draw: st.DrawFn) -> Sample:
    """Any book the recorder can sample: bids strictly descending, asks strictly ascending, every
    number in the whole of Binance's domain."""
    bids = sorted(draw(st.lists(units, max_size=25, unique=True)), reverse=True)
    asks = sorted(draw(st.lists(units, max_size=25, unique=True)))
    quantity = st.one_of(st.just(0), units)
    return Sample(
        "BTCUSDT",
        1737158400,
        draw(u64),
        draw(u64),
        draw(u64),
        bids,
        draw(st.lists(quantity, min_size=len(bids), max_size=len(bids))),
        asks,
        draw(st.lists(quantity, min_size=len(asks), max_size=len(asks))),
    )


def _assert_round_trip(decoded: Snapshot, sample: Sample) -> None:
    assert decoded == Snapshot(
        sample.symbol,
        sample.ts_s,
        sample.event_time_ms,
        sample.update_id,
        sample.recv_time_ms,
        decimal_levels(sample.bid_prices, sample.bid_qtys),
        decimal_levels(sample.ask_prices, sample.ask_qtys),
    )


@given(samples())
def test_encode_decode_round_trip_is_exact_over_the_whole_domain(sample: Sample) -> None:
    value = encode(sample)
    _assert_round_trip(Decoder().decode(snapshot_key(sample.symbol, sample.ts_s), value), sample)


@given(st.lists(samples(), min_size=1, max_size=8))
def test_one_decoder_over_many_snapshots(sequence: list[Sample]) -> None:
    decoder = Decoder()
    values = [encode(sample) for sample in sequence]
    for _ in range(2):  # the second pass hits the decoder's caches: the same answers
        for sample, value in zip(sequence, values, strict=True):
            _assert_round_trip(decoder.decode(KEY, value), sample)


def test_encoded_layout() -> None:
    value = encoded(
        1737158400123,
        7,
        1737158400150,
        [("97123.45", "1.5"), ("97123.40", "0.25")],
        [("97123.50", "2"), ("97124", "0.5")],
    )
    assert ormsgpack.unpackb(value) == {
        "v": FORMAT_VERSION,
        "E": 1737158400123,
        "u": 7,
        "r": 1737158400150,
        "pe": -2,
        "qe": -2,
        "bp": [9712345, 5],
        "bq": [150, 25],
        "ap": [9712350, 50],
        "aq": [200, 50],
    }


def test_common_trailing_zeros_go_into_the_exponent() -> None:
    doc = ormsgpack.unpackb(encoded(0, 0, 0, [("100.00", "1000")], [("300", "20")]))
    assert (doc["pe"], doc["bp"], doc["ap"]) == (2, [1], [3])
    assert (doc["qe"], doc["bq"], doc["aq"]) == (1, [100], [2])


def test_the_largest_numbers_fit_the_columns() -> None:
    top = "92233720368.54775807"
    doc = ormsgpack.unpackb(encoded(0, 0, 0, [(top, top), ("0.00000001", "1")], [(top, "0")]))
    assert (doc["pe"], doc["bp"], doc["ap"]) == (-8, [MAX_UNITS, MAX_UNITS - 1], [MAX_UNITS])


def test_empty_book_round_trips() -> None:
    decoded = Decoder().decode(b"A:0000000001", encoded(5, 6, 7, [], []))
    assert decoded == Snapshot("A", 1, 5, 6, 7, [], [])


def _value(**overrides: object) -> bytes:
    doc: dict[str, object] = {
        "v": FORMAT_VERSION,
        "E": 1,
        "u": 2,
        "r": 3,
        "pe": -1,
        "qe": 0,
        "bp": [100, 1],
        "bq": [1, 2],
        "ap": [101],
        "aq": [3],
    }
    doc.update(overrides)
    return ormsgpack.packb({k: v for k, v in doc.items() if v is not _MISSING})


_MISSING = object()


def test_value_helper_is_a_valid_snapshot() -> None:
    decoded = Decoder().decode(KEY, _value())
    assert decoded.bids == [("10", "1"), ("9.9", "2")]
    assert decoded.asks == [("10.1", "3")]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"\xc1\xc1\xc1", id="not-msgpack"),
        pytest.param(b"\x92\x01", id="truncated-msgpack"),
        pytest.param(ormsgpack.packb([1, 2, 3]), id="not-a-map"),
        pytest.param(ormsgpack.packb(None), id="nil"),
        pytest.param(_value(v=2), id="other-version"),
        pytest.param(_value(v=_MISSING), id="no-version"),
        pytest.param(_value(pe=_MISSING), id="missing-pe"),
        pytest.param(_value(aq=_MISSING), id="missing-aq"),
        pytest.param(_value(E=_MISSING), id="missing-E"),
        pytest.param(_value(bq=[1]), id="bid-columns-differ"),
        pytest.param(_value(aq=[3, 4]), id="ask-columns-differ"),
        pytest.param(_value(bp=5), id="bp-not-a-list"),
        pytest.param(_value(pe="x"), id="pe-not-an-int"),
    ],
)
def test_decode_rejects(value: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the contract is "ValueError or a subclass"
        Decoder().decode(KEY, value)


@given(st.binary(max_size=64))
def test_decode_rejects_arbitrary_bytes(value: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Decoder().decode(KEY, value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(_value(aq=["3"]), id="ask-qty-string"),
        pytest.param(_value(E="1"), id="E-string"),
    ],
)
def test_decode_rejects_mistyped_columns(value: bytes) -> None:
    """A regression: such fields used to be returned as they were (a quantity "3" formatted by
    string repetition, a string event time)."""
    with pytest.raises(ValueError, match="integer"):
        Decoder().decode(KEY, value)
