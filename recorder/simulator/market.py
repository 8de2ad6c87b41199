"""A seeded market that evolves like real Binance spot books (DESIGN §3), and remembers the truth.

Pure: time is an argument. Each symbol's book is kept in integer ticks and lots, independently of
``recorder.book`` (so comparing the recorder with this truth is not circular). ``step`` produces the
``depthUpdate`` events of one 100 ms tick; ``depth`` answers a REST snapshot; ``truth`` holds, per
second, the top levels after every event of that second, exactly what the recorder must store.

The shape follows the August 2024 BTCUSDT capture: ~10 events/s, level changes per event
log-normal with mean ~36 and median ~16, ~48 % removals, half the changes more than ~110 USD from
the touch, books of a few thousand levels per side at tick 0.01, prices and quantities as
8-decimal strings.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from typing import Any

PRICE_DECIMALS = 8
QTY_LOT_DECIMALS = 5  # quantities move in steps of 0.00001
TICKS_PER_UNIT = 100  # tick 0.01


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """How one simulated symbol behaves."""

    symbol: str
    mid_price: float = 97_000.0
    levels_per_side: int = 5_000
    activity: float = 1.0
    """Chance that a 100 ms tick produces an event: 1.0 is BTCUSDT-busy, 0.05 a quiet symbol."""


def format_ticks(ticks: int) -> str:
    units, frac = divmod(ticks, TICKS_PER_UNIT)
    return f"{units}.{frac:02d}000000"


def format_lots(lots: int) -> str:
    units, frac = divmod(lots, 10**QTY_LOT_DECIMALS)
    return f"{units}.{frac:05d}000"


@dataclass(slots=True)
class SymbolMarket:
    """One symbol's true book and update-id counter."""

    spec: SymbolSpec
    rng: random.Random
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    mid: int = 0
    last_update_id: int = 1_000_000
    truth_next_s: int | None = None
    truth: dict[int, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = field(
        default_factory=dict
    )

    def seed_book(self) -> None:
        self.mid = int(self.spec.mid_price * TICKS_PER_UNIT)
        for _ in range(self.spec.levels_per_side * 3):
            if (
                len(self.bids) < self.spec.levels_per_side
                and (bid := self.mid - self._distance()) > 0
            ):
                self.bids[bid] = self._lots()
            if len(self.asks) < self.spec.levels_per_side:
                self.asks[self.mid + 1 + self._distance()] = self._lots()

    def _distance(self) -> int:
        """Ticks from the touch: a busy region near it and a log-normal far tail."""
        if self.rng.random() < 0.35:
            return int(self.rng.expovariate(1 / 40))
        return int(self.rng.lognormvariate(math.log(16_000), 1.6))

    def _lots(self) -> int:
        return max(1, int(self.rng.lognormvariate(math.log(2_000), 2.0)))

    def _changes_count(self) -> int:
        return max(1, min(1_076, round(self.rng.lognormvariate(math.log(16), 1.27))))

    def step(self, now_ms: int, truth_depth: int) -> dict[str, Any] | None:
        """One 100 ms tick: maybe an event (as Binance's ``data`` dict), recording truth first."""
        if truth_depth:
            self._settle_truth(now_ms // 1000, truth_depth)
        if self.rng.random() >= self.spec.activity:
            return None
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        self._move_mid(bids, asks)
        for _ in range(self._changes_count()):
            is_bid = self.rng.random() < 0.5
            side, out = (self.bids, bids) if is_bid else (self.asks, asks)
            price = self.mid - self._distance() if is_bid else self.mid + 1 + self._distance()
            if price <= 0:
                continue  # a cheap symbol's far bids would go below zero
            if self.rng.random() < 0.48:
                if len(side) > self.spec.levels_per_side:
                    price = next(iter(side))  # the oldest level leaves: keeps the size steady
                side.pop(price, None)
                out.append([format_ticks(price), format_lots(0)])
            else:
                lots = self._lots()
                side[price] = lots
                out.append([format_ticks(price), format_lots(lots)])
        if not bids and not asks:
            return None  # Binance sends no empty events
        first = self.last_update_id + 1
        self.last_update_id += len(bids) + len(asks)
        return {
            "e": "depthUpdate",
            "E": now_ms,
            "s": self.spec.symbol,
            "U": first,
            "u": self.last_update_id,
            "b": bids,
            "a": asks,
        }

    def _settle_truth(self, end_s: int, depth: int) -> None:
        """Seconds before ``end_s`` are over: no later event can belong to them."""
        if self.truth_next_s is None:
            self.truth_next_s = end_s  # the second in progress when the market started is partial
        elif end_s > self.truth_next_s:
            top = self.top(depth)
            for ts_s in range(self.truth_next_s, end_s):
                self.truth[ts_s] = top
            self.truth_next_s = end_s

    def _move_mid(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        step = self.rng.choice((-2, -1, -1, 0, 0, 0, 0, 1, 1, 2))
        new_mid = self.mid + step
        # Levels that the move would cross leave the book in the same event.
        for price in range(self.mid + 1, new_mid + 1):
            if self.asks.pop(price, None) is not None:
                asks.append([format_ticks(price), format_lots(0)])
        for price in range(new_mid + 1, self.mid + 1):
            if self.bids.pop(price, None) is not None:
                bids.append([format_ticks(price), format_lots(0)])
        self.mid = new_mid

    def top(self, depth: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        best_bids = heapq.nlargest(depth, self.bids)
        best_asks = heapq.nsmallest(depth, self.asks)
        return (
            [(format_ticks(p), format_lots(self.bids[p])) for p in best_bids],
            [(format_ticks(p), format_lots(self.asks[p])) for p in best_asks],
        )

    def depth(self, limit: int) -> dict[str, Any]:
        bids, asks = self.top(limit)
        return {
            "lastUpdateId": self.last_update_id,
            "bids": [list(level) for level in bids],
            "asks": [list(level) for level in asks],
        }


class Market:
    """Every simulated symbol, seeded from one number so a run can be replayed exactly."""

    def __init__(self, specs: list[SymbolSpec], seed: int = 1, truth_depth: int = 0) -> None:
        self.truth_depth = truth_depth
        self.symbols: dict[str, SymbolMarket] = {}
        for index, spec in enumerate(specs):
            market = SymbolMarket(spec, random.Random(seed * 1_000_003 + index))
            market.seed_book()
            self.symbols[spec.symbol] = market

    def truth_lines(self) -> list[dict[str, Any]]:
        """Every remembered true snapshot, by symbol then second (for ``simulate --truth``)."""
        return [
            {"symbol": symbol, "ts": ts_s, "bids": bids, "asks": asks}
            for symbol, market in self.symbols.items()
            for ts_s, (bids, asks) in sorted(market.truth.items())
        ]

    def step(self, now_ms: int) -> list[dict[str, Any]]:
        """Every symbol's event (if any) for the tick at ``now_ms``."""
        events = []
        for market in self.symbols.values():
            event = market.step(now_ms, self.truth_depth)
            if event is not None:
                events.append(event)
        return events
