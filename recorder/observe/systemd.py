"""systemd's notify protocol with the standard library: a datagram to ``$NOTIFY_SOCKET``.

A unit with ``Type=notify`` and ``WatchdogSec=`` gets: ``READY=1`` once the store is open and
every task runs; ``STATUS=`` with the status line every ``STATUS_INTERVAL_S`` (``systemctl
status`` shows it); ``WATCHDOG=1`` every half of ``$WATCHDOG_USEC`` while snapshots keep being
written (``health.watchdog_may_pet``), so systemd restarts a wedged recorder; ``STOPPING=1`` as
soon as a stop is asked for. Without ``$NOTIFY_SOCKET`` nothing is sent. A socket address that
starts with ``@`` is in Linux's abstract namespace.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Mapping

from recorder.observe.health import watchdog_may_pet
from recorder.observe.summary import Observed, status_text, summarize

log = logging.getLogger("obrec")

STATUS_INTERVAL_S = 10.0


class Notifier:
    """Sends notifications; a failed send is logged once, never raised (systemd then sees a
    missing notification, which is what its timeouts are for)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._target = "\0" + address[1:] if address.startswith("@") else address
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._warned = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Notifier | None:
        address = environ.get("NOTIFY_SOCKET", "")
        return cls(address) if address.startswith(("/", "@")) else None

    def send(self, *assignments: str) -> None:
        try:
            self._socket.sendto("\n".join(assignments).encode(), self._target)
        except OSError as exc:
            if not self._warned:
                log.warning("systemd notification to %s failed: %s", self.address, exc)
                self._warned = True

    def close(self) -> None:
        self._socket.close()


def watchdog_interval_s(environ: Mapping[str, str] = os.environ) -> float | None:
    """Half of ``$WATCHDOG_USEC`` (systemd's advice), if the watchdog is meant for this process."""
    pid = environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


async def notify_systemd(
    observed: Observed,
    stop: asyncio.Event,
    notifier: Notifier,
    watchdog_s: float | None,
) -> None:
    """READY=1, then STATUS= (and WATCHDOG=1) until ``stop``; STOPPING=1 however it ends."""
    try:
        await observed.ready.wait()
        notifier.send("READY=1", f"STATUS={status_text(summarize(observed))}")
        interval_s = min(watchdog_s or STATUS_INTERVAL_S, STATUS_INTERVAL_S)
        while not await _set_within(stop, interval_s):
            summary = summarize(observed)
            message = [f"STATUS={status_text(summary)}"]
            if watchdog_s is not None and watchdog_may_pet(summary, time.time()):
                message.append("WATCHDOG=1")
            notifier.send(*message)
    finally:
        notifier.send("STOPPING=1", "STATUS=stopping: storing the final seconds")


async def _set_within(event: asyncio.Event, timeout_s: float) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True
