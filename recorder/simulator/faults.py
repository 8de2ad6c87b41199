"""Faults the simulated exchange can inject, decided purely from a seeded random source.

A ``FaultPlan`` says how often each fault happens; ``FaultDice`` rolls for it. The server asks the
dice before each action, so a seed replays the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FaultPlan:
    drop_rate: float = 0.0
    """Chance that one diff event is never sent (a sequence gap for the client)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.drop_rate <= 1.0:
            raise ValueError(f"drop rate {self.drop_rate} is not between 0 and 1")


class FaultDice:
    def __init__(self, plan: FaultPlan, seed: int) -> None:
        self.plan = plan
        self._rng = random.Random(seed)
        self.dropped = 0

    def drop_event(self) -> bool:
        if self.plan.drop_rate and self._rng.random() < self.plan.drop_rate:
            self.dropped += 1
            return True
        return False
