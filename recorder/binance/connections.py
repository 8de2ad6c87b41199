"""When to open a WebSocket connection again. Pure: the caller passes the time and the dice.

The rules are in docs/architecture.md, "Binance's rules" and "The recorder at run time".

At most 300 connection attempts per 5 minutes per IP. ``AttemptBudget`` keeps a sliding window of
attempts and says how long to wait before the next one, keeping a margin below the limit for
other programs on the same IP.

``ReconnectBackoff`` says how long to wait after a connection ended. One that opened and
delivered data was a success, however short it lived (a server recycling connections, a network
flap): the network and the exchange work, so the next attempt follows at once, with a small
jitter. Only attempts that fail to open, or die before delivering anything, back off
exponentially: those are what a broken network or an overloaded exchange look like.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

ATTEMPTS_PER_WINDOW = 300
WINDOW_S = 300.0
RECONNECT_BASE_S = 0.5
RECONNECT_CAP_S = 30.0
RECONNECT_JITTER_S = 0.2
"""After a connection that delivered, reconnect within this much: feeds broken at the same
moment do not all dial in the same instant."""


class AttemptBudget:
    def __init__(
        self, limit: int = ATTEMPTS_PER_WINDOW, window_s: float = WINDOW_S, share: float = 0.8
    ) -> None:
        self._allowed = max(1, int(limit * share))
        self._window_s = window_s
        self._attempts: deque[float] = deque()

    def delay(self, now_s: float) -> float:
        """Seconds to wait before the next attempt may be made."""
        while self._attempts and self._attempts[0] <= now_s - self._window_s:
            self._attempts.popleft()
        if len(self._attempts) < self._allowed:
            return 0.0
        return self._attempts[0] + self._window_s - now_s

    def record(self, now_s: float) -> None:
        self._attempts.append(now_s)


@dataclass(slots=True)
class ReconnectBackoff:
    """The wait before the next connection attempt of one feed."""

    failures: int = 0
    """Attempts in a row that failed to open or died before delivering."""

    def after(self, delivered: bool, unit: float) -> float:
        """Seconds to wait after a connection ended; ``delivered`` if it delivered any frame,
        ``unit`` a random draw in [0, 1). Failures wait 0.5 s, 1 s, 2 s ... up to 30 s, each
        jittered down by up to half."""
        if delivered:
            self.failures = 0
            return RECONNECT_JITTER_S * unit
        self.failures += 1
        delay = min(RECONNECT_CAP_S, RECONNECT_BASE_S * 2.0 ** (self.failures - 1))
        return delay * (1.0 - 0.5 * unit)
