"""REST request-weight budget. Pure: the caller passes the time.

Binance's weights and limits are in docs/architecture.md, "Binance's rules".

A token bucket in weight units that refills at ``per_minute / 60`` per second up to ``burst``.
``reserve`` books the weight at once and says how long to wait before sending, so that many
concurrent callers (a mass resync) queue up in order and are spread over time instead of
bursting into a 429. Exchange pauses (429/418 Retry-After) stop every reservation until they end.

The bucket only knows our own requests; other clients may share the IP. So the exchange's own
count (``X-MBX-USED-WEIGHT-1M``) is watched too: once it nears the exchange's limit, every request
waits for the exchange's window to turn, and a 429 never comes.
"""

from __future__ import annotations

BURST_WINDOW_FRACTION = 8
"""The default burst is one window's worth at our pace divided by this."""
WINDOW_MARGIN_S = 1.0
"""Wait this long past the exchange's window turn: our clock and the exchange's differ a little."""


class WeightBudget:
    """Pace REST weight at ``per_minute``. Unless given, ``burst`` is an eighth of a window at
    our pace, and never more than fits in one exchange window beside a full window at our pace,
    under the ceiling: 600 at 4,800 of 6,000 per minute. Proportional to the pace, so recorders
    that split the IP's budget between them split the burst too (two at 2,400 burst 300 each).
    A burst never goes below ``min_burst`` (one request must fit)."""

    def __init__(
        self,
        per_minute: int,
        burst: int | None = None,
        *,
        exchange_limit: int = 6000,
        exchange_window_s: float = 60.0,
        headroom: float = 0.1,
        min_burst: int = 1,
    ) -> None:
        self._exchange_ceiling = exchange_limit * (1.0 - headroom)
        """Requests of ours (or anyone's) still in flight must fit between this and the limit."""
        self._exchange_window_s = exchange_window_s
        self._rate_per_s = per_minute / 60.0
        if burst is None:
            per_window = self._rate_per_s * exchange_window_s
            burst = int(
                min(per_window / BURST_WINDOW_FRACTION, self._exchange_ceiling - per_window)
            )
            burst = max(min_burst, burst)
        if per_minute <= 0 or burst <= 0:
            raise ValueError("weight budget and burst must be positive")
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated_s: float | None = None
        self._paused_until_s = 0.0

    def reserve(self, weight: int, now_s: float) -> float:
        """Book ``weight`` now; returns seconds to wait before the request may be sent."""
        self._refill(now_s)
        self._tokens -= weight
        pause_s = max(0.0, self._paused_until_s - now_s)
        debt_s = -self._tokens / self._rate_per_s if self._tokens < 0 else 0.0
        return pause_s + debt_s

    def paused_for(self, now_s: float) -> float:
        """Seconds left of an exchange-imposed pause (0 when none)."""
        return max(0.0, self._paused_until_s - now_s)

    def pause(self, until_s: float, now_s: float) -> None:
        """The exchange said stop (429/418 Retry-After) until ``until_s``; no refill meanwhile."""
        self._refill(now_s)
        self._tokens = min(self._tokens, 0.0)
        self._paused_until_s = max(self._paused_until_s, until_s)
        self._updated_s = self._paused_until_s

    def observe_used(self, used: int, now_s: float) -> bool:
        """The exchange's count of this IP's weight in its current window. Past the ceiling,
        pause every request until the window turns; returns whether it paused."""
        if used < self._exchange_ceiling:
            return False
        window_end_s = (now_s // self._exchange_window_s + 1) * self._exchange_window_s
        self.pause(window_end_s + WINDOW_MARGIN_S, now_s)
        return True

    def _refill(self, now_s: float) -> None:
        if self._updated_s is None:
            self._updated_s = now_s
        elif now_s > self._updated_s:
            elapsed = now_s - self._updated_s
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate_per_s)
            self._updated_s = now_s
