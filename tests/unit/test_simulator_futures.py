"""The simulator's futures protocol, pure parts: events with ``pu`` chains over ids that skip,
``T`` and ``ps``, each market's quoting, stale depth answers, and the market's own limits."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from recorder.binance.market import Market as Kind
from recorder.simulator.faults import FaultPlan
from recorder.simulator.market import MAX_ID_SKIP, Market, quoting
from recorder.simulator.server import default_symbols, spec_for

START_MS = 1_700_000_000_000


def events(kind: Kind, ticks: int = 200) -> list[dict[str, Any]]:
    symbol = default_symbols(kind)[0]
    market = Market([spec_for(symbol, levels_per_side=300)], seed=4, kind=kind)
    return [e for tick in range(ticks) for e in market.step(START_MS + tick * 100)]


@pytest.mark.parametrize("kind", [Kind.USDM, Kind.COINM])
def test_futures_ids_skip_and_pu_chains_them(kind: Kind) -> None:
    stream = events(kind)
    assert len(stream) > 150
    skips = []
    for previous, event in itertools.pairwise(stream):
        assert event["pu"] == previous["u"]
        assert event["U"] <= event["u"]
        skips.append(event["U"] - previous["u"] - 1)
    assert min(skips) >= 0
    assert max(skips) == MAX_ID_SKIP
    assert sum(1 for s in skips if s) > len(skips) / 2, "most events skip ids"
    for event in stream:
        assert 1 <= event["E"] - event["T"] <= 20
    assert ("ps" in stream[0]) is (kind is Kind.COINM)
    if kind is Kind.COINM:
        assert {e["ps"] for e in stream} == {"BTCUSD"}


def test_spot_events_are_unchanged_contiguous_and_without_futures_fields() -> None:
    stream = events(Kind.SPOT)
    for previous, event in itertools.pairwise(stream):
        assert event["U"] == previous["u"] + 1
    assert set(stream[0]) == {"e", "E", "s", "U", "u", "b", "a"}


@pytest.mark.parametrize(
    ("kind", "price", "qty"),
    [
        (Kind.SPOT, "97000.01000000", "0.02000000"),
        (Kind.USDM, "9700.10", "2.000"),
        (Kind.COINM, "9700.1", "2000"),
    ],
)
def test_each_market_writes_its_own_decimals(kind: Kind, price: str, qty: str) -> None:
    quote = quoting(kind)
    ticks = 9_700_001 if kind is Kind.SPOT else 97_001
    assert quote.price(ticks) == price
    assert quote.qty(2000) == qty
    assert Decimal(quote.price(ticks)) * quote.ticks_per_unit == ticks


@pytest.mark.parametrize("kind", [Kind.USDM, Kind.COINM])
def test_a_stale_futures_depth_answer_names_the_previous_events_u(kind: Kind) -> None:
    """Taken back to before an event, the book's id is that event's ``pu``, not ``U - 1``."""
    symbol = default_symbols(kind)[0]
    market = Market([spec_for(symbol, levels_per_side=300)], seed=5, kind=kind)
    market.remember(10_000)
    stream = [e for tick in range(30) for e in market.step(START_MS + tick * 100)]
    event = stream[-1]
    stale = market.symbols[symbol].depth(1000, as_of_ms=event["E"] - 1)
    assert stale["lastUpdateId"] == event["pu"]
    assert market.symbols[symbol].depth(1000)["lastUpdateId"] == event["u"]


@pytest.mark.parametrize(
    ("kind", "weight", "ping_s", "pong_s"),
    [(Kind.SPOT, 6000, 20.0, 60.0), (Kind.USDM, 2400, 180.0, 600.0), (Kind.COINM, 2400, 180, 600)],
)
def test_fault_plans_start_from_the_markets_limits(
    kind: Kind, weight: int, ping_s: float, pong_s: float
) -> None:
    plan = FaultPlan.for_market(kind, drop_rate=0.1)
    assert (plan.weight_limit, plan.ping_interval_s, plan.pong_timeout_s) == (
        weight,
        ping_s,
        pong_s,
    )
    assert plan.drop_rate == 0.1
    assert FaultPlan.for_market(kind, ping_interval_s=0.5).ping_interval_s == 0.5
