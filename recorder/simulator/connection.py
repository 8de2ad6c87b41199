"""What happens to one simulated stream connection over its life, decided from the clock alone.

Pure: the server passes the time, asks ``due`` what to do (until it answers None) and does it.
Binance's rules (spot, web-socket-streams.md), enforced so that a client that breaks them is
caught:

- the server pings every ``ping_interval_s`` (20 s) whatever else is sent, with a payload;
- a pong counts only if it echoes the payload of a ping still waiting for its answer (it also
  answers every older one); unsolicited pongs are allowed but keep nothing alive;
- a connection with a ping unanswered for ``pong_timeout_s`` (1 minute) is closed.

aiohttp's own ``heartbeat`` differs on every point (it pings only after ``heartbeat`` seconds
without any data from the client, accepts any data as liveness, and closes after half the
interval), which is why the server pings and checks pongs itself.

The fault plan adds, by connection age: a ``serverShutdown`` notice followed by a close once the
grace period has passed, a plain close, and an abrupt drop.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from recorder.simulator.faults import FaultPlan


class Act(enum.Enum):
    PING = "ping"
    """Send a ping with ``ConnectionLife.ping_payload``."""
    ANNOUNCE_SHUTDOWN = "announce shutdown"
    """Send ``{"e": "serverShutdown", "E": ms}`` and keep streaming."""
    SHUT_DOWN = "shut down"
    """The announced shutdown's grace period is over: close (ends the connection)."""
    PONG_TIMEOUT = "pong timeout"
    """A ping went unanswered for too long: close (ends the connection)."""
    CLOSE = "close"
    """The connection reached ``close_after_s``: close frame (ends the connection)."""
    ABORT = "abort"
    """The connection reached ``abort_after_s``: drop TCP, no close frame (ends the connection)."""


ENDINGS = frozenset({Act.SHUT_DOWN, Act.PONG_TIMEOUT, Act.CLOSE, Act.ABORT})


@dataclass(slots=True)
class ConnectionLife:
    plan: FaultPlan
    opened_s: float
    ping_payload: bytes = field(default=b"", init=False)
    """The payload of the latest ping, for the server to send after ``Act.PING``."""
    _pings_sent: int = field(default=0, init=False)
    _unanswered: dict[bytes, float] = field(default_factory=dict, init=False)
    """Payload -> when sent, oldest first."""
    _next_ping_s: float = field(default=0.0, init=False)
    _announced: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._next_ping_s = self.opened_s + self.plan.ping_interval_s

    def due(self, now_s: float) -> Act | None:
        """The next thing to do at ``now_s``; call again until None. After an ending, stop."""
        plan = self.plan
        age_s = now_s - self.opened_s
        if plan.abort_after_s is not None and age_s >= plan.abort_after_s:
            return Act.ABORT
        oldest_ping_s = next(iter(self._unanswered.values()), None)
        if oldest_ping_s is not None and now_s - oldest_ping_s >= plan.pong_timeout_s:
            return Act.PONG_TIMEOUT
        if plan.close_after_s is not None and age_s >= plan.close_after_s:
            return Act.CLOSE
        if plan.shutdown_after_s is not None and age_s >= plan.shutdown_after_s:
            if not self._announced:
                self._announced = True
                return Act.ANNOUNCE_SHUTDOWN
            if age_s >= plan.shutdown_after_s + plan.shutdown_grace_s:
                return Act.SHUT_DOWN
        if now_s >= self._next_ping_s:
            self._pings_sent += 1
            self.ping_payload = str(self._pings_sent).encode()
            self._unanswered[self.ping_payload] = now_s
            self._next_ping_s += plan.ping_interval_s
            if self._next_ping_s <= now_s:  # the caller was late: no burst of pings
                self._next_ping_s = now_s + plan.ping_interval_s
            return Act.PING
        return None

    def pong(self, payload: bytes) -> bool:
        """A pong arrived: True if it answered a ping (and so every older one too)."""
        if payload not in self._unanswered:
            return False
        for sent in list(self._unanswered):
            del self._unanswered[sent]
            if sent == payload:
                break
        return True
