"""One combined stream kept flowing for months: reconnects and make-before-break rollovers.

A ``StreamFeed`` owns the WebSocket connections of one group of symbols and hands every frame to
``deliver``; it never decodes or touches a book.

- A connection that breaks calls ``lost`` (every symbol on it must resync), then reconnects: at
  once if it had delivered data, else after a capped, jittered exponential backoff
  (``ReconnectBackoff``), always within Binance's connection-attempt limit.
- A connection nearing Binance's 24 h limit, or whose server announced ``serverShutdown``
  (``announce_shutdown``), is replaced make-before-break: a successor connects and holds its
  frames; once it has delivered one (so it is subscribed) and a short overlap has passed, the old
  connection closes and the held frames are delivered. Every event published after the successor
  subscribed is in its frames and every earlier one came on the old connection, so together they
  miss nothing, and the sync machines drop the duplicates (rule S4): no second is lost. Should
  something still be missing, the continuity check finds it; nothing is trusted blindly.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from recorder.binance.connections import AttemptBudget, ReconnectBackoff
from recorder.errors import ExchangeError
from recorder.net.stream import frames

log = logging.getLogger("obrec")

RETRY_ROLLOVER_S = 30.0
"""After a successor failed to connect, how long the old connection is kept before trying again."""
OVERLAP_S = 1.0
"""After the successor's first frame, how long both connections stay open: frames still in
flight on the old one arrive meanwhile."""
SUCCESSOR_WAIT_S = 10.0
"""A quiet stream may send nothing for a while: switch after this long even without a frame."""


@dataclass(slots=True)
class _Link:
    """One connection; its frames are held (``held`` is a list) until it becomes the active one."""

    held: list[tuple[str, int]] | None = None
    first_frame: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True, slots=True)
class _Ended:
    """Why a connection ended, and whether it had delivered a frame (``ReconnectBackoff``)."""

    why: str
    delivered: bool


class StreamFeed:
    """Keep ``url`` (one combined stream) flowing into ``deliver``. ``await run(session)``."""

    def __init__(
        self,
        url: str,
        *,
        deliver: Callable[[str, int], None],
        lost: Callable[[], None],
        rolled_over: Callable[[], None],
        attempts: AttemptBudget,
        wall: Callable[[], float],
        now_ms: Callable[[], int],
        rollover_after_s: float,
    ) -> None:
        self.url = url
        self.up = False
        """True while a connection is delivering; False from a break until the next frame."""
        self._deliver = deliver
        self._lost = lost
        self._rolled_over = rolled_over
        self._attempts = attempts
        self._wall = wall
        self._now_ms = now_ms
        self._rollover_after_s = rollover_after_s
        self._shutdown_notice = asyncio.Event()

    def announce_shutdown(self) -> None:
        """The server said ``serverShutdown``: roll over to a new connection now."""
        self._shutdown_notice.set()

    async def run(self, session: aiohttp.ClientSession) -> None:
        backoff = ReconnectBackoff()
        active: asyncio.Task[_Ended] | None = None
        try:
            while True:
                if active is None:
                    opened_s = await self._spend_attempt()
                    active = asyncio.ensure_future(self._pump(session, _Link()))
                    roll_at_s = opened_s + self._rollover_after_s
                ended = await self._until_ended_or_due(active, roll_at_s)
                if ended is not None:
                    active = None
                    self.up = False
                    self._lost()
                    delay = backoff.after(ended.delivered, random.random())
                    log.warning("stream %s; reconnecting in %.1f s", ended.why, delay)
                    await asyncio.sleep(delay)
                    continue
                self._shutdown_notice.clear()
                successor = await self._roll_over(session, active)
                if successor is None:
                    roll_at_s = self._wall() + RETRY_ROLLOVER_S  # keep the old one; try again
                else:
                    active = successor
                    opened_s = self._wall()
                    roll_at_s = opened_s + self._rollover_after_s
        finally:
            if active is not None:
                active.cancel()
                await asyncio.wait([active])

    async def _spend_attempt(self) -> float:
        """Wait until Binance's connection-attempt limit allows one more; returns the time."""
        while (wait_s := self._attempts.delay(self._wall())) > 0:
            log.warning("connection attempt budget spent; waiting %.0f s", wait_s)
            await asyncio.sleep(wait_s)
        now_s = self._wall()
        self._attempts.record(now_s)
        return now_s

    async def _until_ended_or_due(
        self, active: asyncio.Task[_Ended], roll_at_s: float
    ) -> _Ended | None:
        """Why the active connection ended, or None when it is time to roll it over."""
        notice = asyncio.ensure_future(self._shutdown_notice.wait())
        try:
            await asyncio.wait(
                [active, notice],
                timeout=max(0.0, roll_at_s - self._wall()),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            notice.cancel()
        return active.result() if active.done() else None

    async def _roll_over(
        self, session: aiohttp.ClientSession, old: asyncio.Task[_Ended]
    ) -> asyncio.Task[_Ended] | None:
        """Open a successor beside ``old``, then close ``old`` and let the successor deliver.
        Returns the successor's task, or None (``old`` kept) when it could not connect."""
        await self._spend_attempt()
        link = _Link(held=[])
        successor = asyncio.ensure_future(self._pump(session, link))
        first = asyncio.ensure_future(link.first_frame.wait())
        try:
            await asyncio.wait(
                [first, successor, old],
                timeout=SUCCESSOR_WAIT_S,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if first.done() and not old.done():
                await asyncio.wait([successor, old], timeout=OVERLAP_S)
        except asyncio.CancelledError:
            successor.cancel()  # stopping mid-rollover: leave no connection behind
            await asyncio.wait([successor])
            raise
        finally:
            first.cancel()
        if successor.done():
            log.warning(
                "rollover: new connection failed (%s); keeping the old one", successor.result().why
            )
            return None
        old.cancel()
        await asyncio.wait([old])
        held, link.held = link.held or [], None  # from here on the successor delivers
        for raw, recv_ms in held:
            self._deliver(raw, recv_ms)
        self._rolled_over()
        log.info("rolled over to a new connection (%d frame(s) handed over)", len(held))
        return successor

    async def _pump(self, session: aiohttp.ClientSession, link: _Link) -> _Ended:
        """Read one connection until it ends; returns why it ended."""
        try:
            async for raw, recv_ms in frames(session, self.url, self._now_ms):
                if link.held is None:
                    self.up = True
                    self._deliver(raw, recv_ms)
                else:
                    link.held.append((raw, recv_ms))
                link.first_frame.set()
        except ExchangeError as exc:
            return _Ended(str(exc), link.first_frame.is_set())
        return _Ended("closed by the server", link.first_frame.is_set())
