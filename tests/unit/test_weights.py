"""The REST weight token bucket: bursts, debt, refill and exchange-imposed pauses."""

from __future__ import annotations

import pytest

from recorder.binance.weights import WeightBudget

RATE = 100.0  # weight per second at 6000 per minute


def _budget(burst: int = 1000) -> WeightBudget:
    return WeightBudget(per_minute=6000, burst=burst)


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 10), (-1, 10), (6000, 0), (6000, -5)])
def test_rejects_non_positive_settings(per_minute: int, burst: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        WeightBudget(per_minute, burst)


def test_reservations_within_burst_do_not_wait() -> None:
    budget = _budget()
    assert [budget.reserve(250, 0.0) for _ in range(4)] == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("weight", [5, 25, 250])
def test_beyond_burst_each_reservation_waits_weight_over_rate_longer(weight: int) -> None:
    budget = _budget(burst=weight)
    assert budget.reserve(weight, 0.0) == 0.0
    waits = [budget.reserve(weight, 0.0) for _ in range(5)]
    assert waits == pytest.approx([k * weight / RATE for k in range(1, 6)])


def test_waits_account_for_time_already_passed() -> None:
    budget = _budget(burst=100)
    assert budget.reserve(100, 0.0) == 0.0
    assert budget.reserve(100, 0.0) == pytest.approx(1.0)  # send at 1.0
    assert budget.reserve(100, 0.5) == pytest.approx(1.5)  # send at 2.0


def test_refill_over_time() -> None:
    budget = _budget()
    assert budget.reserve(1500, 0.0) == pytest.approx(5.0)  # 500 in debt
    assert budget.reserve(400, 10.0) == 0.0  # 1000 refilled: 500, then 100 left
    assert budget.reserve(200, 10.0) == pytest.approx(1.0)
    assert budget.reserve(100, 10.5) == pytest.approx(1.5)


def test_refill_stops_at_burst() -> None:
    budget = _budget()
    budget.reserve(1000, 0.0)
    assert budget.reserve(1000, 3600.0) == 0.0
    assert budget.reserve(5, 3600.0) == pytest.approx(0.05)


def test_paused_for() -> None:
    budget = _budget()
    assert budget.paused_for(0.0) == 0.0
    budget.pause(10.0, 0.0)
    assert budget.paused_for(4.0) == pytest.approx(6.0)
    assert budget.paused_for(10.0) == 0.0
    assert budget.paused_for(12.0) == 0.0
    budget.pause(5.0, 0.0)  # an earlier end never shortens a pause
    assert budget.paused_for(4.0) == pytest.approx(6.0)
    budget.pause(20.0, 0.0)
    assert budget.paused_for(4.0) == pytest.approx(16.0)


def test_pause_spreads_requests_queued_during_it() -> None:
    budget = _budget()
    assert budget.reserve(5, 0.0) == 0.0  # a full bucket (less 5) when the pause comes
    budget.pause(60.0, 0.0)
    send_times = [now + budget.reserve(25, now) for now in (1.0, 2.0, 30.0, 59.0, 59.9)]
    # Nothing refilled during the pause: every request goes after it, 0.25 s apart.
    assert send_times == pytest.approx([60.25, 60.5, 60.75, 61.0, 61.25])


def test_refill_resumes_when_the_pause_ends() -> None:
    budget = _budget()
    budget.pause(10.0, 0.0)
    assert budget.reserve(50, 5.0) == pytest.approx(5.0 + 0.5)  # 50 in debt at the end
    # From 10 to 20: 1000 refilled, capped at the burst (not counting 5..10).
    assert budget.reserve(950, 20.0) == 0.0
    assert budget.reserve(100, 20.0) == pytest.approx(1.0)


def test_debt_already_repaid_does_not_delay_requests_after_a_pause() -> None:
    """Refill up to the moment of the pause counts (a regression test).

    A request booked 500 weight into debt at t=0 is sent at its slot t=5 and answered 429 at
    t=5.2 with Retry-After 10. By then the debt was repaid (the bucket is at +20, which the
    pause clears to 0), so a 25-weight request after the pause waits 0.25 s, not the 5.25 s
    it would if the stale -500 survived.
    """
    budget = _budget()
    assert budget.reserve(1500, 0.0) == pytest.approx(5.0)
    budget.pause(5.2 + 10.0, 5.2)
    assert budget.reserve(25, 15.2) == pytest.approx(0.25)


def test_the_exchanges_count_below_the_ceiling_changes_nothing() -> None:
    budget = WeightBudget(per_minute=4800, burst=800, exchange_limit=6000)
    assert budget.observe_used(5399, now_s=120.5) is False
    assert budget.paused_for(120.5) == 0.0
    assert budget.reserve(50, 120.5) == 0.0


def test_near_the_exchanges_limit_every_request_waits_for_its_window_to_turn() -> None:
    """Other clients on the IP spent most of this minute's weight: wait for the next minute
    (plus a margin for clock offset) instead of running into a 429."""
    budget = WeightBudget(per_minute=4800, burst=800, exchange_limit=6000)
    assert budget.observe_used(5400, now_s=150.0) is True
    assert budget.paused_for(150.0) == pytest.approx(31.0)
    assert budget.reserve(50, 150.0) == pytest.approx(31.0 + 50 / 80), "then at its pace"


def test_the_exchange_window_can_be_shortened_for_the_simulator() -> None:
    budget = WeightBudget(per_minute=600, burst=100, exchange_limit=600, exchange_window_s=6.0)
    assert budget.observe_used(550, now_s=13.0) is True
    assert budget.paused_for(13.0) == pytest.approx(18.0 + 1.0 - 13.0)


@pytest.mark.parametrize(
    ("per_minute", "limit", "window_s", "burst"),
    [
        pytest.param(4800, 6000, 60.0, 600, id="binance-default-share"),
        pytest.param(48_000, 6000, 6.0, 600, id="window-shortened-tenfold"),
        pytest.param(6000, 6000, 60.0, 50, id="full-share-still-fits-one-request"),
        pytest.param(2400, 6000, 60.0, 300, id="a-split-share-splits-the-burst"),
    ],
)
def test_default_burst_keeps_one_window_under_the_exchange_ceiling(
    per_minute: int, limit: int, window_s: float, burst: int
) -> None:
    budget = WeightBudget(
        per_minute, exchange_limit=limit, exchange_window_s=window_s, min_burst=50
    )
    assert budget.reserve(burst, 0.0) == 0.0
    assert budget.reserve(1, 0.0) > 0.0, "nothing beyond the burst goes at once"
