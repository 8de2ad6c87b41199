"""Exact decimal parsing/formatting and the snapshot value codec (keys: test_layout.py)."""

from __future__ import annotations

from decimal import Decimal

import ormsgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.book.snapshot import Level, Snapshot
from recorder.storage.codec import Decoder, Encoder, format_decimal, parse_decimal
from recorder.storage.layout import (
    FORMAT_VERSION,
    snapshot_key,
)

# -- decimals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("97123.45000000", (9712345000000, -8)),
        ("0", (0, 0)),
        ("10", (10, 0)),
        ("0.5", (5, -1)),
        ("-1.25", (-125, -2)),
        (".5", (5, -1)),
        ("0.00000001", (1, -8)),
        ("0.000000000000000001", (1, -18)),
        ("1000000000000", (10**12, 0)),
    ],
)
def test_parse_decimal(text: str, expected: tuple[int, int]) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize(
    "text",
    ["1e5", "abc", "", "1.2.3", " 1", "1 ", "nan", "inf", "-", ".", "+1", "1,5", "--1", "0x10"],
)
def test_parse_decimal_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a plain decimal"):
        parse_decimal(text)


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


@given(
    st.integers(min_value=0, max_value=18).flatmap(
        lambda places: st.decimals(
            min_value=0,
            max_value=10**12,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )
)
def test_parse_format_round_trip_is_exact_and_normalised(value: Decimal) -> None:
    text = format(value, "f")
    out = format_decimal(*parse_decimal(text))
    assert Decimal(out) == Decimal(text)
    assert _is_normalised(out)


# -- snapshot values ----------------------------------------------------------------------------

KEY = b"BTCUSDT:1737158400"


@st.composite
def decimal_texts(draw: st.DrawFn, max_places: int = 18, max_exp: int = 12) -> str:
    """A plain decimal in 0..10**max_exp with 0..max_places decimals and maybe trailing zeros."""
    places = draw(st.integers(min_value=0, max_value=max_places))
    top = 10 ** (max_exp + places)
    mantissa = draw(
        st.one_of(st.integers(min_value=0, max_value=top), st.sampled_from([1, 10**places, top]))
    )
    text = format(Decimal(mantissa).scaleb(-places), "f")
    zeros = draw(st.integers(min_value=0, max_value=3))
    if zeros:
        text += ("" if "." in text else ".") + "0" * zeros
    return text


def _side(draw: st.DrawFn, values: st.SearchStrategy[str], descending: bool) -> list[Level]:
    prices = draw(st.lists(values, max_size=25, unique_by=Decimal))
    prices.sort(key=Decimal, reverse=descending)
    qtys = draw(st.lists(values, min_size=len(prices), max_size=len(prices)))
    return list(zip(prices, qtys, strict=True))


Book = tuple[int, int, int, list[Level], list[Level]]
u64 = st.integers(min_value=0, max_value=2**64 - 1)


@st.composite
def books(draw: st.DrawFn, values: st.SearchStrategy[str] | None = None) -> Book:
    """Bids strictly descending, asks strictly ascending; by default the full range of values."""
    values = decimal_texts() if values is None else values
    return draw(u64), draw(u64), draw(u64), _side(draw, values, True), _side(draw, values, False)


# Values whose finest unit fits 10**18 times into the largest (below 2**64): every real
# Binance book (at most 8 decimals) is far inside this.
narrow_texts = decimal_texts(max_places=12, max_exp=6)


def _normalised(levels: list[Level]) -> list[Level]:
    return [
        (format_decimal(*parse_decimal(p)), format_decimal(*parse_decimal(q))) for p, q in levels
    ]


def _assert_round_trip(decoded: Snapshot, book: Book, symbol: str, ts_s: int) -> None:
    event_time, update_id, recv_time, bids, asks = book
    assert (decoded.symbol, decoded.ts_s) == (symbol, ts_s)
    assert (decoded.event_time_ms, decoded.update_id, decoded.recv_time_ms) == (
        event_time,
        update_id,
        recv_time,
    )
    for got, sent in ((decoded.bids, bids), (decoded.asks, asks)):
        assert [(Decimal(p), Decimal(q)) for p, q in got] == [
            (Decimal(p), Decimal(q)) for p, q in sent
        ]
        assert got == _normalised(sent)


def _fits_64_bits(book: Book) -> bool:
    """Whether each column's values, as integers at the column's coarsest exact exponent, fit
    in MessagePack's 64-bit unsigned integers."""
    _, _, _, bids, asks = book
    for column in ([p for p, _ in bids + asks], [q for _, q in bids + asks]):
        nonzero = [Decimal(v).normalize() for v in column if Decimal(v) != 0]
        if nonzero:
            exponent = min(int(v.as_tuple().exponent) for v in nonzero)
            if max(int(v.scaleb(-exponent)) for v in nonzero) >= 2**64:
                return False
    return True


@given(books())
def test_encode_decode_round_trip_or_a_clean_value_error(book: Book) -> None:
    """Exact within the format's 64-bit columns; beyond them a ValueError, never a TypeError."""
    if not _fits_64_bits(book):
        with pytest.raises(ValueError, match="64-bit"):
            Encoder().encode(*book)
        return
    value = Encoder().encode(*book)
    decoded = Decoder().decode(snapshot_key("BTCUSDT", 1737158400), value)
    _assert_round_trip(decoded, book, "BTCUSDT", 1737158400)


def test_magnitudes_too_far_apart_for_one_column_are_a_value_error() -> None:
    """18228 at 18 decimals needs a mantissa above 2**64 (a regression: it escaped as TypeError)."""
    book: Book = (0, 0, 0, [], [("0.000000000000000001", "1"), ("18228", "1")])
    with pytest.raises(ValueError, match="64-bit"):
        Encoder().encode(*book)


@given(books(narrow_texts))
def test_encode_decode_round_trip_narrow(book: Book) -> None:
    value = Encoder().encode(*book)
    decoded = Decoder().decode(snapshot_key("BTCUSDT", 1737158400), value)
    _assert_round_trip(decoded, book, "BTCUSDT", 1737158400)


@given(st.lists(books(narrow_texts), min_size=1, max_size=8))
def test_one_encoder_and_decoder_over_many_snapshots(sequence: list[Book]) -> None:
    encoder, decoder = Encoder(), Decoder()
    values = [encoder.encode(*book) for book in sequence]
    for ts, (book, value) in enumerate(zip(sequence, values, strict=True)):
        _assert_round_trip(decoder.decode(snapshot_key("ETHBTC", ts), value), book, "ETHBTC", ts)
    # Decoding again hits the decoder's caches and must give the same answers.
    for ts, (book, value) in enumerate(zip(sequence, values, strict=True)):
        _assert_round_trip(decoder.decode(snapshot_key("ETHBTC", ts), value), book, "ETHBTC", ts)


def test_encoder_rescale_keeps_earlier_values_exact() -> None:
    encoder, decoder = Encoder(), Decoder()
    coarse: Book = (1, 1, 1, [("100.5", "2"), ("100", "1")], [("101", "3.25")])
    finer: Book = (2, 2, 2, [("100.5", "0.00000001")], [("101", "0.000000000000000001")])
    mixed: Book = (3, 3, 3, [("100.5", "2.000"), ("99.99", "1")], [("101.0", "3.25")])
    sequence = [coarse, coarse, finer, coarse, mixed, finer]
    for ts, book in enumerate(sequence):
        _assert_round_trip(
            decoder.decode(snapshot_key("S", ts), encoder.encode(*book)), book, "S", ts
        )


def test_encoded_layout() -> None:
    value = Encoder().encode(
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
    doc = ormsgpack.unpackb(Encoder().encode(0, 0, 0, [("100.00", "1000")], [("300", "20")]))
    assert (doc["pe"], doc["bp"], doc["ap"]) == (2, [1], [3])
    assert (doc["qe"], doc["bq"], doc["aq"]) == (1, [100], [2])


def test_empty_book_round_trips() -> None:
    decoded = Decoder().decode(b"A:0000000001", Encoder().encode(5, 6, 7, [], []))
    assert decoded == Snapshot("A", 1, 5, 6, 7, [], [])


def test_encode_rejects_non_decimal_levels() -> None:
    with pytest.raises(ValueError, match="not a plain decimal"):
        Encoder().encode(0, 0, 0, [("1e5", "1")], [])


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
