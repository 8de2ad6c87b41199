"""Times typed by users: unix seconds, ISO 8601, now and relative forms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.errors import UsageError
from recorder.timeparse import format_time, parse_time

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1737158400", 1_737_158_400),
        ("0", 0),
        ("  1737158400 ", 1_737_158_400),
        ("now", NOW),
        (" now ", NOW),
        ("-30s", NOW - 30),
        ("-15m", NOW - 15 * 60),
        ("-1h", NOW - 3600),
        ("-2d", NOW - 2 * 86_400),
        ("-1w", NOW - 7 * 86_400),
        ("-0s", NOW),
        ("2026-01-01", NOW),
        ("2026-01-01T00:00", NOW),
        ("2025-01-18T00:00:00", 1_737_158_400),
        ("2026-01-01T00:00:00Z", NOW),
        ("2026-01-01T00:00Z", NOW),
        ("2026-01-01T02:00:00+02:00", NOW),
        ("2026-01-01T00:00:00+02:00", NOW - 7200),
        ("2025-12-31T19:00:00-05:00", NOW),
        ("2026-01-01 00:00:01", NOW + 1),
    ],
)
def test_parse_time(text: str, expected: int) -> None:
    assert parse_time(text, NOW) == expected


def test_naive_iso_is_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_time("2026-01-01T00:00", 0) == NOW
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "-5x", "", "   ", "-5", "+1h", "1.5"])
def test_unreadable_times_name_the_option(text: str) -> None:
    with pytest.raises(UsageError, match=r"^--from .* is not a time; use unix seconds") as info:
        parse_time(text, NOW, option="--from")
    assert repr(text) in str(info.value)
    assert info.value.exit_code == 2


def test_default_option_name() -> None:
    with pytest.raises(UsageError, match=r"^time 'soon' is not a time"):
        parse_time("soon", NOW)


@pytest.mark.parametrize(
    ("ts_s", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1_737_158_400, "2025-01-18T00:00:00Z"),
        (NOW - 1, "2025-12-31T23:59:59Z"),
    ],
)
def test_format_time(ts_s: int, text: str) -> None:
    assert format_time(ts_s) == text


@given(st.integers(min_value=0, max_value=10**10 - 1))
def test_format_time_parses_back(ts_s: int) -> None:
    assert parse_time(format_time(ts_s), NOW) == ts_s
