"""``record --ship-to``: ship finished hours beside the recorder, never in its way.

The shipper opens the database read-only (as any reader would), ships what became final in a
worker thread (pyarrow's S3 calls block), and updates the run's lag (hours waiting, in
``/metrics``). Caught up, it looks again ``interval_s`` after the next hour ends by the wall
clock; while an hour the clock has finished is not final yet (a quiet symbol's, waiting for
its next event), every ``interval_s``. A failure of the store is logged and retried with exponential
backoff (from the interval, doubling up to ten intervals or ``MAX_BACKOFF_S``): the recorder
keeps recording, prune keeps what is not shipped, and the next round resumes where the last
stopped. When the run stops, the thread finishes the hour it is on and ships no further.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from recorder.errors import DatabaseMissingError, RecorderError
from recorder.lake.layout import HOUR_S, hour_of
from recorder.lake.ship import HourShipped, Shipper, ShipRequest, waiting_hours
from recorder.read.database import Database
from recorder.runstats import RunTotals

log = logging.getLogger("obrec")
SHIP_INTERVAL_S = 60.0
MAX_BACKOFF_S = 600.0


async def ship_beside(
    ready: asyncio.Event,
    request: ShipRequest,
    totals: RunTotals,
    *,
    interval_s: float = SHIP_INTERVAL_S,
    wall: Callable[[], float] = time.time,
) -> None:
    """Ship until cancelled, once the recorder is ``ready`` (its database exists)."""
    await ready.wait()
    shipper = Shipper(request)
    halt = threading.Event()
    backoff_s = interval_s

    def shipped(hour: HourShipped) -> None:  # called in the worker thread
        totals.ship_hours_shipped += 1

    try:
        while True:
            try:
                report = await asyncio.to_thread(shipper.ship, shipped, halt)
            except DatabaseMissingError:
                delay_s = interval_s  # nothing stored yet
            except RecorderError as exc:  # the store is away, refuses us, or another ships
                log.warning("ship: %s; trying again in %.0f s", exc, backoff_s)
                delay_s = backoff_s
                backoff_s = min(MAX_BACKOFF_S, 10 * interval_s, 2 * backoff_s)
                totals.ship_hours_waiting = await asyncio.to_thread(_waiting, request)
            else:
                totals.ship_hours_waiting = {p.symbol: len(p.hours) for p in report.plans}
                backoff_s = interval_s
                # Caught up, and every hour the wall clock has finished is final: nothing can
                # be due before the next hour ends, so the database is not opened again until
                # then (a large one takes a while to open). Else a quiet symbol's hour waits
                # for its next event: look again soon.
                now_s = wall()
                behind = any(p.final_before_s < hour_of(int(now_s)) for p in report.plans)
                delay_s = interval_s if behind else interval_s + HOUR_S - now_s % HOUR_S
            await asyncio.sleep(delay_s)
    finally:
        halt.set()


def _waiting(request: ShipRequest) -> dict[str, int]:
    try:
        with Database.open(request.db_path) as db:
            return waiting_hours(db, request.db_path, str(request.url))
    except DatabaseMissingError:
        return {}
