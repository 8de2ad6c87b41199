"""Binance's limit on opening WebSocket connections. Pure: the caller passes the time.

The rule is in docs/architecture.md, "Binance's rules".

At most 300 connection attempts per 5 minutes per IP. ``AttemptBudget`` keeps a sliding window of
attempts and says how long to wait before the next one, keeping a margin below the limit for
other programs on the same IP.
"""

from __future__ import annotations

from collections import deque

ATTEMPTS_PER_WINDOW = 300
WINDOW_S = 300.0


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
