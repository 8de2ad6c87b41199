"""Run the recorder with the chosen observers beside it, in one task group.

The observers only read; they end when the run ends (the panel draws its last frame, systemd
hears STOPPING=1). A failing observer stops the run like a failing recorder task would, and a
``RecorderError`` from either comes out as itself, for ``cli.main`` to report.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console

from recorder.errors import UsageError, first_product_error
from recorder.observe.logs import log_status
from recorder.observe.panel import show_panel
from recorder.observe.systemd import Notifier, notify_systemd, watchdog_interval_s

if TYPE_CHECKING:
    from recorder.app import Recorder
    from recorder.lake.ship import ShipRequest


@dataclass(frozen=True, slots=True)
class Observers:
    panel: Console | None
    """Draw the live panel on this console; None for plain log lines."""
    status_interval_s: float | None
    """Without a panel, log a status line this often (None: never)."""
    metrics_address: tuple[str, int] | None
    """Serve ``/metrics`` and ``/healthz`` on (host, port)."""
    ship: ShipRequest | None = None
    """Ship finished hours to this lake beside the run (not an observer, but like them it only
    reads the database; docs/lake.md)."""
    ship_interval_s: float = 60.0


def require_metrics() -> None:
    """Fail with the fix before anything starts, if the ``metrics`` extra is missing."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise UsageError(
            "--metrics-port needs prometheus-client: pip install 'obrec[metrics]'"
        ) from None


async def record_observed(recorder: Recorder, stop: asyncio.Event, observers: Observers) -> None:
    """``recorder.run(stop)`` with the observers running until it returns."""
    watchers: list[Coroutine[Any, Any, None]] = []
    async with contextlib.AsyncExitStack() as stack:
        if observers.metrics_address is not None:
            from recorder.observe.metrics import serve_metrics

            await stack.enter_async_context(serve_metrics(recorder, *observers.metrics_address))
        if observers.panel is not None:
            watchers.append(show_panel(recorder, observers.panel))
        elif observers.status_interval_s is not None:
            watchers.append(log_status(recorder, observers.status_interval_s))
        if observers.ship is not None:
            from recorder.lake.background import ship_beside

            watchers.append(
                ship_beside(
                    recorder.ready,
                    observers.ship,
                    recorder.totals,
                    interval_s=observers.ship_interval_s,
                )
            )
        notifier = Notifier.from_env()
        if notifier is not None:
            stack.callback(notifier.close)
            watchers.append(notify_systemd(recorder, stop, notifier, watchdog_interval_s()))
        await _beside(recorder.run(stop), watchers)


async def _beside(
    main: Coroutine[Any, Any, None], watchers: list[Coroutine[Any, Any, None]]
) -> None:
    with first_product_error():
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(watcher) for watcher in watchers]
            await asyncio.wait([group.create_task(main)])
            for task in tasks:
                task.cancel()
