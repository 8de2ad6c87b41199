"""Exchange-time estimate from the fastest recent delivery."""

from __future__ import annotations

import pytest

from recorder.book.exchange_clock import ExchangeClock

WINDOW = 60_000
T0 = 1_737_158_400_000


def _clock(*observations: tuple[int, int], window_ms: int = WINDOW) -> ExchangeClock:
    """A clock fed (event_time_ms, recv_time_ms) pairs in order."""
    clock = ExchangeClock(window_ms)
    for event_ms, recv_ms in observations:
        clock.observe(event_ms, recv_ms)
    return clock


def test_nothing_known_before_observations() -> None:
    clock = ExchangeClock()
    assert clock.min_delay_ms is None
    assert clock.watermark(T0, grace_ms=200) is None
    assert clock.exchange_now(T0) == T0


@pytest.mark.parametrize(
    ("delays", "expected"),
    [
        ([50], 50),
        ([50, 30, 70], 30),
        ([30, 50, 70], 30),
        ([-20, 10], -20),  # a local clock behind the exchange's
    ],
)
def test_min_delay_within_a_window(delays: list[int], expected: int) -> None:
    clock = _clock(*((T0 + i * 100, T0 + i * 100 + d) for i, d in enumerate(delays)))
    assert clock.min_delay_ms == expected


@pytest.mark.parametrize("grace_ms", [0, 250])
def test_watermark_is_local_minus_min_delay_minus_grace(grace_ms: int) -> None:
    clock = _clock((T0, T0 + 40), (T0 + 100, T0 + 125), (T0 + 200, T0 + 290))
    assert clock.min_delay_ms == 25
    assert clock.watermark(T0 + 5_000, grace_ms) == T0 + 5_000 - 25 - grace_ms
    assert clock.exchange_now(T0 + 5_000) == T0 + 5_000 - 25


def test_minimum_is_kept_over_the_previous_window() -> None:
    clock = _clock((T0, T0 + 10), (T0 + 1000, T0 + 1080))
    clock.observe(T0 + WINDOW, T0 + WINDOW + 80)  # opens the second window
    assert clock.min_delay_ms == 10
    clock.observe(T0 + WINDOW + 500, T0 + WINDOW + 600)
    assert clock.min_delay_ms == 10


def test_old_windows_expire_after_two_windows() -> None:
    clock = _clock((T0, T0 + 10))  # window 1 opens at its first arrival; minimum 10
    for k in range(1, 60):  # the rest of window 1: 80 every second
        clock.observe(T0 + k * 1000, T0 + k * 1000 + 80)
    assert clock.min_delay_ms == 10
    clock.observe(T0 + 60_000, T0 + 60_080)  # a window after window 1 opened: window 2
    assert clock.min_delay_ms == 10  # the previous window still counts
    clock.observe(T0 + 120_000, T0 + 120_080)  # window 3: window 1 no longer counts
    assert clock.min_delay_ms == 80
    assert clock.watermark(T0 + 130_000, 100) == T0 + 130_000 - 80 - 100


def test_windows_are_measured_in_arrival_time() -> None:
    clock = _clock((T0, T0 + 10))
    # Event time a window later, arrival not: still window 1, whose minimum is 10.
    clock.observe(T0 + WINDOW, T0 + WINDOW + 9)
    assert clock.min_delay_ms == 9
    clock.observe(T0 + WINDOW, T0 + WINDOW + 60)  # arrival a full window later: window 2
    assert clock.min_delay_ms == 9
    clock.observe(T0 + 2 * WINDOW, T0 + 2 * WINDOW + 70)  # window 3: window 1 drops out
    assert clock.min_delay_ms == 60


def test_drift_upwards_is_followed() -> None:
    clock = ExchangeClock(window_ms=1000)
    for second, delay in enumerate([5, 5, 7, 9, 11]):
        clock.observe(T0 + second * 1000, T0 + second * 1000 + delay)
    # Each arrival is a window after the previous one: only the last two (9, 11) count.
    assert clock.min_delay_ms == 9


def test_a_faster_delivery_lowers_the_estimate_at_once() -> None:
    clock = _clock((T0, T0 + 80))
    clock.observe(T0 + 10, T0 + 15)
    assert clock.min_delay_ms == 5
    assert clock.exchange_now(T0 + 1000) == T0 + 995
