"""Faults the simulated exchange can inject, decided purely from a seeded random source.

A ``FaultPlan`` says how often each fault happens; ``FaultDice`` rolls for it. The server asks the
dice before each action, so a seed replays the same faults. The plan also holds Binance's ping
rules (``connection.py`` applies them), so that tests can compress them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from recorder.binance.market import Market, spec
from recorder.errors import InvalidValueError

MALFORMED_FRAMES = (
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":17',  # truncated JSON
    "this is not JSON",
    '{"stream":"btcusdt@depth@100ms"}',  # JSON without data
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","s":"BTCUSDT"}}',  # no ids
)


@dataclass(frozen=True, slots=True)
class FaultPlan:
    drop_rate: float = 0.0
    """Chance that one diff event is never sent (a sequence gap for the client)."""
    malformed_rate: float = 0.0
    """Chance that a garbage frame is sent after a real one."""
    abort_after_s: float | None = None
    """Drop every connection abruptly (no close frame) once it is this old."""
    close_after_s: float | None = None
    """Close every connection with a close frame once it is this old (Binance: 24 h)."""
    weight_limit: int = 6000
    """REST weight allowed per window (Binance: 6,000 per minute); beyond it, 429."""
    weight_window_s: float = 60.0
    """The weight window; tests shorten it so that a limit resets within seconds."""
    ban_s: float = 120.0
    """How long a 418 ban lasts (Binance: 2 minutes to 3 days)."""
    shutdown_after_s: float | None = None
    """Send a ``serverShutdown`` event on every connection once it is this old."""
    shutdown_grace_s: float = 10.0
    """How long after its ``serverShutdown`` a connection is closed (Binance: about 10 minutes)."""
    ping_interval_s: float = 20.0
    """The server pings every connection this often (Binance: 20 s)."""
    pong_timeout_s: float = 60.0
    """A connection that leaves a ping unanswered this long is closed (Binance: 1 minute)."""
    stale_snapshot_rate: float = 0.0
    """Chance that a depth answer is the book as it was ``stale_by_s`` ago."""
    stale_by_s: float = 5.0
    """How old a stale depth answer is (the market remembers this much history)."""
    rest_delay_s: float = 0.0
    """Every depth answer is sent this late (the book is taken when the request arrives)."""
    rest_jitter_s: float = 0.0
    """Up to this much more delay, uniformly at random."""

    @classmethod
    def for_market(cls, market: Market, **faults: Any) -> FaultPlan:
        """``faults`` at ``market``'s own limits (weight per minute, ping interval, pong timeout),
        each of which ``faults`` may also set."""
        row = spec(market)
        limits = {
            "weight_limit": row.weight_per_minute,
            "ping_interval_s": row.ping_interval_s,
            "pong_timeout_s": row.pong_timeout_s,
        }
        return cls(**(limits | faults))

    def __post_init__(self) -> None:
        """Refuse impossible plans: ``InvalidValueError`` names the field (the CLI, its flag)."""
        for name in ("drop_rate", "malformed_rate", "stale_snapshot_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise InvalidValueError(name, rate, "is not between 0 and 1")
        for name in ("weight_window_s", "ban_s", "ping_interval_s", "pong_timeout_s", "stale_by_s"):
            if getattr(self, name) <= 0:
                raise InvalidValueError(name, getattr(self, name), "must be positive")
        if self.weight_limit <= 0:
            raise InvalidValueError("weight_limit", self.weight_limit, "must be positive")
        for name in ("abort_after_s", "close_after_s", "shutdown_after_s"):
            age = getattr(self, name)
            if age is not None and age <= 0:
                raise InvalidValueError(name, age, "must be positive")
        for name in ("shutdown_grace_s", "rest_delay_s", "rest_jitter_s"):
            if getattr(self, name) < 0:
                raise InvalidValueError(name, getattr(self, name), "must not be negative")


class FaultDice:
    def __init__(self, plan: FaultPlan, seed: int) -> None:
        self.plan = plan
        self._rng = random.Random(seed)
        # REST answers roll their own dice: when they are asked depends on the client, and the
        # stream's faults should replay the same whatever the REST traffic.
        self._rest_rng = random.Random(seed + 1)
        self.dropped = 0
        self.malformed = 0

    def drop_event(self) -> bool:
        if self.plan.drop_rate and self._rng.random() < self.plan.drop_rate:
            self.dropped += 1
            return True
        return False

    def malformed_frame(self) -> str | None:
        """A garbage frame to send after a real one, or None."""
        if self.plan.malformed_rate and self._rng.random() < self.plan.malformed_rate:
            self.malformed += 1
            return self._rng.choice(MALFORMED_FRAMES)
        return None

    def stale_snapshot(self) -> bool:
        """Whether this depth answer should be the book as it was ``stale_by_s`` ago."""
        rate = self.plan.stale_snapshot_rate
        return bool(rate) and self._rest_rng.random() < rate

    def rest_delay_s(self) -> float:
        """How long to hold this depth answer back."""
        plan = self.plan
        if not plan.rest_jitter_s:
            return plan.rest_delay_s
        return plan.rest_delay_s + self._rest_rng.uniform(0.0, plan.rest_jitter_s)
