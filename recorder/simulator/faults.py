"""Faults the simulated exchange can inject, decided purely from a seeded random source.

A ``FaultPlan`` says how often each fault happens; ``FaultDice`` rolls for it. The server asks the
dice before each action, so a seed replays the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

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

    def __post_init__(self) -> None:
        for name in ("drop_rate", "malformed_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} {rate} is not between 0 and 1")
        if self.weight_limit <= 0 or self.weight_window_s <= 0 or self.ban_s <= 0:
            raise ValueError("weight limit, window and ban must be positive")
        for name in ("abort_after_s", "close_after_s"):
            age = getattr(self, name)
            if age is not None and age <= 0:
                raise ValueError(f"{name} {age} must be positive")


class FaultDice:
    def __init__(self, plan: FaultPlan, seed: int) -> None:
        self.plan = plan
        self._rng = random.Random(seed)
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
