"""The simulator's pure parts: the market's look-back, long quantities, Binance's ping rules, the
fault plan."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from recorder.binance.market import Market as Kind
from recorder.errors import InvalidValueError
from recorder.simulator.connection import Act, ConnectionLife
from recorder.simulator.faults import FaultDice, FaultPlan
from recorder.simulator.market import INT64_MAX, Market, quoting
from recorder.simulator.server import spec_for

START_MS = 1_700_000_000_000


def run(market: Market, ticks: range) -> dict[int, dict[str, Any]]:
    """Step ``market`` and keep BTCUSDT's full depth answer after every tick."""
    answers = {}
    for tick in ticks:
        market.step(START_MS + tick * 100)
        answers[START_MS + tick * 100] = market.symbols["BTCUSDT"].depth(5000)
    return answers


def test_depth_as_of_is_exactly_the_book_that_was_live_then() -> None:
    market = Market([spec_for("BTCUSDT", levels_per_side=500)], seed=2)
    market.remember(3_000)
    answers = run(market, range(60))
    btc = market.symbols["BTCUSDT"]
    # Within the remembered 3 s, every earlier book comes back, update id and all levels.
    for as_of_ms in range(START_MS + 3_100, START_MS + 6_000, 100):
        assert btc.depth(5000, as_of_ms=as_of_ms) == answers[as_of_ms]
    # Between ticks, the book is the one after the last event at or before that time.
    assert btc.depth(5000, as_of_ms=START_MS + 4_250) == answers[START_MS + 4_200]
    assert (
        btc.depth(20, as_of_ms=START_MS + 4_250)["bids"] == answers[START_MS + 4_200]["bids"][:20]
    )
    # The log is bounded: no further back than remembered, so older asks get the oldest book.
    assert btc.depth(5000, as_of_ms=START_MS) == answers[START_MS + 2_900]
    assert btc.depth(5000) == answers[START_MS + 5_900]


def test_remembering_history_changes_nothing_the_market_sends() -> None:
    def events(remember_ms: int) -> list[dict[str, Any]]:
        market = Market([spec_for("BTCUSDT"), spec_for("ETHUSDT", activity=0.3)], seed=4)
        market.remember(remember_ms)
        return [e for tick in range(50) for e in market.step(START_MS + tick * 100)]

    assert events(2_000) == events(0)


def test_without_history_depth_can_only_answer_the_live_book() -> None:
    market = Market([spec_for("BTCUSDT", levels_per_side=200)], seed=1)
    answers = run(market, range(10))
    assert market.symbols["BTCUSDT"].depth(5000, as_of_ms=START_MS) == answers[START_MS + 900]
    assert not market.symbols["BTCUSDT"].history


@pytest.mark.parametrize("kind", list(Kind))
def test_long_quantities_have_17_to_19_digits_within_int64_of_1e8_everywhere(kind: Kind) -> None:
    """Events, depth answers and truth all carry them; prices and the neighbour are untouched."""
    long, plain = spec_for("PEPEUSDT", long_quantities=True), spec_for("BTCUSDT")
    market = Market([plain, long], seed=3, truth_depth=20, kind=kind)
    stream = [e for tick in range(100) for e in market.step(START_MS + tick * 100)]
    alone = Market([plain], seed=3, kind=kind)
    assert [e for e in stream if e["s"] == "BTCUSDT"] == [
        e for tick in range(100) for e in alone.step(START_MS + tick * 100)
    ], "a long-quantity symbol changes nothing its neighbour sends"
    events = [e for e in stream if e["s"] == "PEPEUSDT"]
    depth = market.symbols["PEPEUSDT"].depth(1000)
    truth = [line for line in market.truth_lines() if line["symbol"] == "PEPEUSDT"]
    assert len(events) > 50
    assert len(truth) >= 8
    levels = [
        *(level for e in events for level in e["b"] + e["a"]),
        *depth["bids"],
        *depth["asks"],
        *(level for line in truth for level in line["bids"] + line["asks"]),
    ]
    digits: Counter[int] = Counter()
    for price, qty in levels:
        assert len(price.partition(".")[2]) == quoting(kind).price_decimals
        assert len(qty.partition(".")[2]) == 8, "Binance's spelling: always 8 decimals"
        lots = int(Decimal(qty) * 10**8)
        assert Decimal(lots) == Decimal(qty) * 10**8
        assert 0 <= lots <= INT64_MAX
        if lots:
            digits[len(Decimal(qty).normalize().as_tuple().digits)] += 1
    assert set(digits) == {17, 18, 19}
    assert min(digits.values()) > sum(digits.values()) / 5, "each width is common"
    assert digits.total() > 1000
    assert any(lots > 9 * 10**18 for lots in (int(Decimal(q) * 10**8) for _, q in levels))


def due_all(life: ConnectionLife, now_s: float) -> list[Act]:
    acts = []
    while (act := life.due(now_s)) is not None:
        acts.append(act)
    return acts


def test_pings_are_sent_on_schedule_whatever_else_happens() -> None:
    life = ConnectionLife(FaultPlan(ping_interval_s=20, pong_timeout_s=60), opened_s=0.0)
    assert due_all(life, 19.9) == []
    assert due_all(life, 20.0) == [Act.PING]
    assert life.pong(life.ping_payload)
    assert due_all(life, 39.0) == []
    assert due_all(life, 40.1) == [Act.PING]
    # A late caller gets one ping, not a burst, and the schedule restarts from then.
    assert life.pong(life.ping_payload)
    assert due_all(life, 95.0) == [Act.PING]
    assert due_all(life, 114.9) == []


def test_an_unanswered_ping_closes_the_connection_at_the_pong_deadline() -> None:
    life = ConnectionLife(FaultPlan(ping_interval_s=20, pong_timeout_s=60), opened_s=0.0)
    assert due_all(life, 20.0) == [Act.PING]
    assert due_all(life, 40.0) == [Act.PING]
    assert due_all(life, 60.0) == [Act.PING]
    assert life.due(79.9) is None
    assert life.due(80.0) is Act.PONG_TIMEOUT  # 60 s after the first ping


def test_only_a_pong_echoing_a_pending_ping_keeps_the_connection() -> None:
    life = ConnectionLife(FaultPlan(ping_interval_s=1, pong_timeout_s=3), opened_s=0.0)
    assert due_all(life, 1.0) == [Act.PING]
    first = life.ping_payload
    assert due_all(life, 2.0) == [Act.PING]
    assert not life.pong(b""), "an unsolicited pong keeps nothing alive"
    assert not life.pong(b"nonsense")
    assert life.pong(life.ping_payload), "answering the latest ping answers the older one too"
    assert not life.pong(first), "already answered"
    assert due_all(life, 3.0) == [Act.PING]  # unanswered from here on
    assert due_all(life, 5.9) == [Act.PING]
    assert life.due(6.0) is Act.PONG_TIMEOUT


def test_shutdown_is_announced_once_then_the_connection_closes_after_the_grace() -> None:
    plan = FaultPlan(shutdown_after_s=5, shutdown_grace_s=2, ping_interval_s=100)
    life = ConnectionLife(plan, opened_s=10.0)
    assert life.due(14.9) is None
    assert due_all(life, 15.0) == [Act.ANNOUNCE_SHUTDOWN]
    assert due_all(life, 16.9) == []
    assert life.due(17.0) is Act.SHUT_DOWN
    # With no grace, the close follows the notice at once.
    sudden = ConnectionLife(FaultPlan(shutdown_after_s=5, shutdown_grace_s=0), opened_s=0.0)
    assert [sudden.due(5.0), sudden.due(5.0)] == [Act.ANNOUNCE_SHUTDOWN, Act.SHUT_DOWN]


@pytest.mark.parametrize(
    ("plan", "age_s", "act"),
    [
        (FaultPlan(close_after_s=3), 3.0, Act.CLOSE),
        (FaultPlan(abort_after_s=3), 3.0, Act.ABORT),
        (FaultPlan(abort_after_s=3, close_after_s=3), 3.0, Act.ABORT),
        (FaultPlan(close_after_s=3, shutdown_after_s=1, shutdown_grace_s=5), 3.0, Act.CLOSE),
    ],
)
def test_age_faults_end_the_connection(plan: FaultPlan, age_s: float, act: Act) -> None:
    life = ConnectionLife(plan, opened_s=100.0)
    assert life.due(100.0 + age_s - 0.1) in (None, Act.ANNOUNCE_SHUTDOWN)
    assert life.due(100.0 + age_s) is act


@pytest.mark.parametrize(
    "fields",
    [
        {"stale_snapshot_rate": 1.5},
        {"stale_by_s": 0},
        {"ping_interval_s": 0},
        {"pong_timeout_s": -1},
        {"shutdown_after_s": 0},
        {"shutdown_grace_s": -1},
        {"rest_delay_s": -0.5},
        {"rest_jitter_s": -1},
        {"weight_limit": 0},
    ],
)
def test_impossible_plans_are_refused(fields: dict[str, float]) -> None:
    with pytest.raises(InvalidValueError, match=next(iter(fields))) as info:
        FaultPlan(**fields)  # type: ignore[arg-type]
    assert info.value.parameter == next(iter(fields))
    assert info.value.value == next(iter(fields.values()))


def test_rest_dice_are_seeded_and_within_the_plan() -> None:
    plan = FaultPlan(stale_snapshot_rate=0.5, rest_delay_s=1.0, rest_jitter_s=0.5)

    def rolls(seed: int) -> list[tuple[bool, float]]:
        dice = FaultDice(plan, seed)
        return [(dice.stale_snapshot(), dice.rest_delay_s()) for _ in range(200)]

    assert rolls(7) == rolls(7)
    assert rolls(7) != rolls(8)
    assert all(1.0 <= delay_s <= 1.5 for _, delay_s in rolls(7))
    assert 50 < sum(stale for stale, _ in rolls(7)) < 150
    assert FaultDice(FaultPlan(rest_delay_s=0.3), 1).rest_delay_s() == 0.3
    assert not any(FaultDice(FaultPlan(), 1).stale_snapshot() for _ in range(100))
