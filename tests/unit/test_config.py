"""Symbols from the command line or a file, and the record configuration's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from recorder.config import RecordConfig, parse_symbols
from recorder.errors import UsageError


def test_symbols_are_upper_cased_deduplicated_and_kept_in_order() -> None:
    assert parse_symbols("ethusdt, BTCUSDT,ethusdt,") == ("ETHUSDT", "BTCUSDT")


def test_symbols_from_a_file_with_comments_spaces_and_lines(tmp_path: Path) -> None:
    listing = tmp_path / "symbols.txt"
    listing.write_text("# majors\nBTCUSDT ETHUSDT\nsolusdt,  # a comment\n\nBTCUSDT\n")
    assert parse_symbols(f"@{listing}") == ("BTCUSDT", "ETHUSDT", "SOLUSDT")


def test_a_missing_symbols_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot read symbols from .*nope\.txt"):
        parse_symbols(f"@{tmp_path / 'nope.txt'}")


@pytest.mark.parametrize("text", ["", " , ", "BTC-USDT", "BTC/USDT"])
def test_bad_symbol_lists(text: str) -> None:
    with pytest.raises(UsageError, match="symbol"):
        parse_symbols(text)


def test_symbols_and_all_usdt_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--all-usdt"):
        RecordConfig(("BTCUSDT",), tmp_path, all_quote="USDT")
    with pytest.raises(UsageError, match="--all-usdt"):
        RecordConfig((), tmp_path)
    assert RecordConfig((), tmp_path, all_quote="USDT").all_quote == "USDT"


@pytest.mark.parametrize("seconds", [0.0, -1.0, 24 * 3600.0, 2 * 86400.0])
def test_a_rollover_at_or_past_binances_24_hours_is_refused(tmp_path: Path, seconds: float) -> None:
    with pytest.raises(UsageError, match=r"--rollover-after .* under 24h"):
        RecordConfig(("BTCUSDT",), tmp_path, rollover_after_s=seconds)
