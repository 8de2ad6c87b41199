"""A seeded market that evolves like real Binance books (spot or futures), and remembers the truth.

What it is calibrated on is in docs/architecture.md, "The simulator".

Pure: time is an argument. Each symbol's book is kept in integer ticks and lots, independently of
``recorder.book`` (so comparing the recorder with this truth is not circular). ``step`` produces the
``depthUpdate`` events of one 100 ms tick; ``depth`` answers a REST snapshot; ``truth`` holds, per
second, the top levels after every event of that second, exactly what the recorder must store.
When asked to ``remember`` some history, each symbol keeps an undo log of its recent events, so
that ``depth`` can also answer with the book as it was a few seconds ago (a stale snapshot): the
log costs one entry per level change in the window, where copies of the book would cost thousands.

The shape follows the August 2024 BTCUSDT capture: ~10 events/s, level changes per event
log-normal with mean ~36 and median ~16, ~48 % removals, half the changes more than ~110 USD from
the touch, books of a few thousand levels per side at tick 0.01, prices and quantities as
8-decimal strings. A futures market (``kind``) speaks its own protocol on the same shape
(docs/markets.md, "The simulator"): update ids that skip between events, chained by ``pu``, a
transaction time ``T`` a few ms before ``E``, COIN-M's ``ps``, and the market's quoting (USD-M:
tick 0.1, quantities of 0.001; COIN-M: tick 0.1, whole contracts). A symbol with
``long_quantities`` has the widest quantities Binance's wire can carry (17 to 19 significant
digits, up to the int64-of-1e-8 maximum), on the same code path: only its lots and their quoting
differ, and every other symbol's stream is the one its seed always gave.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, assert_never

from recorder.binance.market import Market as Kind

MAX_ID_SKIP = 8
"""Futures ids skip 0..8 between events: Binance's own examples skip 7 (USD-M) and 5 (COIN-M)."""
INT64_MAX = 2**63 - 1
"""Binance's numbers are int64s of 1e-8 units: 92233720368.54775807 is the largest it can send."""
LONG_QTY_DIGITS = (17, 19)
"""Significant digits of a ``long_quantities`` symbol's quantities: more than a double holds."""


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """How one simulated symbol behaves."""

    symbol: str
    mid_price: float = 97_000.0
    levels_per_side: int = 5_000
    activity: float = 1.0
    """Chance that a 100 ms tick produces an event: 1.0 is BTCUSDT-busy, 0.05 a quiet symbol."""
    long_quantities: bool = False
    """Quantities in lots of 1e-8 of 17 to 19 significant digits (``1230527355.65245744``), up
    to ``INT64_MAX`` lots: numbers only an exact book can hold. Prices stay the market's."""


@dataclass(frozen=True, slots=True)
class Quoting:
    """How a market writes integer ticks and lots as decimal strings."""

    ticks_per_unit: int
    price_decimals: int
    lot_decimals: int
    qty_decimals: int

    def price(self, ticks: int) -> str:
        units, frac = divmod(ticks, self.ticks_per_unit)
        digits = len(str(self.ticks_per_unit)) - 1
        return f"{units}.{frac:0{digits}d}" + "0" * (self.price_decimals - digits)

    def qty(self, lots: int) -> str:
        if not self.lot_decimals:
            return str(lots)
        units, frac = divmod(lots, 10**self.lot_decimals)
        return f"{units}.{frac:0{self.lot_decimals}d}" + "0" * (
            self.qty_decimals - self.lot_decimals
        )


def quoting(kind: Kind, long_quantities: bool = False) -> Quoting:
    """The market's quoting; ``long_quantities`` keeps its prices and writes lots of 1e-8."""
    match kind:
        case Kind.SPOT:
            quote = Quoting(ticks_per_unit=100, price_decimals=8, lot_decimals=5, qty_decimals=8)
        case Kind.USDM:
            quote = Quoting(ticks_per_unit=10, price_decimals=2, lot_decimals=3, qty_decimals=3)
        case Kind.COINM:
            quote = Quoting(ticks_per_unit=10, price_decimals=1, lot_decimals=0, qty_decimals=0)
        case _:
            assert_never(kind)
    return replace(quote, lot_decimals=8, qty_decimals=8) if long_quantities else quote


SPOT_QUOTING = quoting(Kind.SPOT)


Book = dict[int, int]
"""Price in ticks -> quantity in lots."""
Top = tuple[list[tuple[str, str]], list[tuple[str, str]]]


def top_levels(bids: Book, asks: Book, depth: int, quote: Quoting = SPOT_QUOTING) -> Top:
    """The best ``depth`` levels per side as Binance's decimal strings, best first."""
    return (
        [(quote.price(p), quote.qty(bids[p])) for p in heapq.nlargest(depth, bids)],
        [(quote.price(p), quote.qty(asks[p])) for p in heapq.nsmallest(depth, asks)],
    )


@dataclass(frozen=True, slots=True)
class Undo:
    """How to take one event back out of the book."""

    event_time_ms: int
    prev_update_id: int
    """The ``u`` of the event before it: the book's id once it is taken back out."""
    levels: list[tuple[bool, int, int | None]]
    """(is bid, price, lots before or None if the level was absent), in the order applied."""


@dataclass(slots=True)
class SymbolMarket:
    """One symbol's true book and update-id counter."""

    spec: SymbolSpec
    rng: random.Random
    kind: Kind = Kind.SPOT
    quote: Quoting = SPOT_QUOTING
    bids: Book = field(default_factory=dict)
    asks: Book = field(default_factory=dict)
    mid: int = 0
    last_update_id: int = 1_000_000
    truth_next_s: int | None = None
    truth: dict[int, Top] = field(default_factory=dict)
    history_ms: int = 0
    """How far back ``depth`` can look; 0 keeps no history."""
    history: deque[Undo] = field(default_factory=deque)
    _undo: list[tuple[bool, int, int | None]] = field(default_factory=list, init=False)

    def seed_book(self) -> None:
        self.mid = int(self.spec.mid_price * self.quote.ticks_per_unit)
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
        if self.spec.long_quantities:
            # As many 17-, 18- as 19-digit numbers, odd so that the last digit is never a 0
            # that the recorder's spelling would drop (each keeps all its significant digits).
            digits = self.rng.randint(*LONG_QTY_DIGITS)
            return self.rng.randint(10 ** (digits - 1), min(10**digits - 1, INT64_MAX)) | 1
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
        self._undo = []
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
                self._change(is_bid, price, 0)
                out.append([self.quote.price(price), self.quote.qty(0)])
            else:
                lots = self._lots()
                self._change(is_bid, price, lots)
                out.append([self.quote.price(price), self.quote.qty(lots)])
        if not bids and not asks:
            return None  # Binance sends no empty events
        previous = self.last_update_id
        if self.history_ms:
            self.history.append(Undo(now_ms, previous, self._undo))
            while self.history[0].event_time_ms <= now_ms - self.history_ms:
                self.history.popleft()
        if self.kind is Kind.SPOT:
            self.last_update_id += len(bids) + len(asks)
            return {
                "e": "depthUpdate",
                "E": now_ms,
                "s": self.spec.symbol,
                "U": previous + 1,
                "u": self.last_update_id,
                "b": bids,
                "a": asks,
            }
        return self._futures_event(now_ms, previous, bids, asks)

    def _futures_event(
        self, now_ms: int, previous: int, bids: list[list[str]], asks: list[list[str]]
    ) -> dict[str, Any]:
        """The futures form: ids skip, ``pu`` chains, ``T`` precedes ``E``; COIN-M adds ``ps``."""
        first = previous + 1 + self.rng.randint(0, MAX_ID_SKIP)
        self.last_update_id = first + len(bids) + len(asks) - 1
        event: dict[str, Any] = {
            "e": "depthUpdate",
            "E": now_ms,
            "T": now_ms - self.rng.randint(1, 20),
            "s": self.spec.symbol,
        }
        if self.kind is Kind.COINM:
            event["ps"] = self.spec.symbol.partition("_")[0]
        event.update(U=first, u=self.last_update_id, pu=previous, b=bids, a=asks)
        return event

    def _change(self, is_bid: bool, price: int, lots: int) -> None:
        """Set one level (0 lots removes it), remembering how to undo it if history is kept."""
        side = self.bids if is_bid else self.asks
        before = side.pop(price, None) if lots == 0 else side.get(price)
        if lots:
            side[price] = lots
        if self.history_ms and before != (lots or None):
            self._undo.append((is_bid, price, before))

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
            if price in self.asks:
                self._change(False, price, 0)
                asks.append([self.quote.price(price), self.quote.qty(0)])
        for price in range(new_mid + 1, self.mid + 1):
            if price in self.bids:
                self._change(True, price, 0)
                bids.append([self.quote.price(price), self.quote.qty(0)])
        self.mid = new_mid

    def top(self, depth: int) -> Top:
        return top_levels(self.bids, self.asks, depth, self.quote)

    def depth(self, limit: int, as_of_ms: int | None = None) -> dict[str, Any]:
        """A REST depth answer: the book now, or as it was after the last event at or before
        ``as_of_ms`` (as far back as the remembered history reaches)."""
        bids, asks, last_update_id = self.bids, self.asks, self.last_update_id
        if as_of_ms is not None and self.history and self.history[-1].event_time_ms > as_of_ms:
            bids, asks = dict(bids), dict(asks)
            for undo in reversed(self.history):
                if undo.event_time_ms <= as_of_ms:
                    break
                for is_bid, price, lots in reversed(undo.levels):
                    side = bids if is_bid else asks
                    if lots is None:
                        del side[price]
                    else:
                        side[price] = lots
                last_update_id = undo.prev_update_id
        top_bids, top_asks = top_levels(bids, asks, limit, self.quote)
        return {
            "lastUpdateId": last_update_id,
            "bids": [list(level) for level in top_bids],
            "asks": [list(level) for level in top_asks],
        }


class Market:
    """Every simulated symbol, seeded from one number so a run can be replayed exactly."""

    def __init__(
        self,
        specs: list[SymbolSpec],
        seed: int = 1,
        truth_depth: int = 0,
        kind: Kind = Kind.SPOT,
    ) -> None:
        self.truth_depth = truth_depth
        self.kind = kind
        """Which Binance market this one speaks as (docs/markets.md)."""
        self.symbols: dict[str, SymbolMarket] = {}
        for index, spec in enumerate(specs):
            rng = random.Random(seed * 1_000_003 + index)
            market = SymbolMarket(spec, rng, kind, quoting(kind, spec.long_quantities))
            market.seed_book()
            self.symbols[spec.symbol] = market

    def remember(self, history_ms: int) -> None:
        """Keep ``history_ms`` of each symbol's events, so that ``depth`` can look back that far."""
        for market in self.symbols.values():
            market.history_ms = history_ms

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
