"""Estimate exchange time from local time, for finalising quiet seconds (sync rule T2). Pure.

Every event says when the exchange made it (``E``) and we know when it arrived. The smallest
``arrival - E`` over the recent past is clock offset plus the fastest delivery; an event made at
exchange time ``t`` arrives no earlier than ``t + min_delay``. So once local time passes
``t + min_delay + grace``, events before ``t`` should all be in. The minimum is kept over two
rolling windows so that clock drift is followed. A violation (a late event) is detected by the
sync machine and repaired (rule T3), so the grace trades latency for fewer repairs.
"""

from __future__ import annotations


class ExchangeClock:
    def __init__(self, window_ms: int = 60_000) -> None:
        self._window_ms = window_ms
        self._window_start_ms: int | None = None
        self._current_min: int | None = None
        self._previous_min: int | None = None

    def observe(self, event_time_ms: int, recv_time_ms: int) -> None:
        delay = recv_time_ms - event_time_ms
        elapsed = None if self._window_start_ms is None else recv_time_ms - self._window_start_ms
        if elapsed is None or elapsed >= self._window_ms:
            # After a silence of two windows the old minimum says nothing about now.
            self._previous_min = (
                self._current_min if elapsed and elapsed < 2 * self._window_ms else None
            )
            self._current_min = delay
            self._window_start_ms = recv_time_ms
        elif self._current_min is None or delay < self._current_min:
            self._current_min = delay

    @property
    def min_delay_ms(self) -> int | None:
        """Offset plus fastest delivery, None before the first event."""
        if self._current_min is None:
            return None
        if self._previous_min is None:
            return self._current_min
        return min(self._current_min, self._previous_min)

    def watermark(self, local_ms: int, grace_ms: int) -> int | None:
        """Exchange time before which every event should have arrived; None if not known yet."""
        delay = self.min_delay_ms
        return None if delay is None else local_ms - delay - grace_ms

    def exchange_now(self, local_ms: int) -> int:
        """Best guess of the exchange's clock now (local time if nothing was observed)."""
        delay = self.min_delay_ms
        return local_ms if delay is None else local_ms - delay
