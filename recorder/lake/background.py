"""``record --ship-to``: ship finished hours beside the recorder, never in its way.

Every ``interval_s`` the shipper opens the database read-only (as any reader would), ships what
became final in a worker thread (pyarrow's S3 calls block), and updates the run's lag (hours
waiting, in ``/metrics``). A failure of the store is logged and retried with exponential
backoff (from the interval, doubling up to ten intervals or ``MAX_BACKOFF_S``): the recorder
keeps recording, prune keeps what is not shipped, and the next round resumes where the last
stopped. When the run stops, the thread finishes the hour it is on and ships no further.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from recorder.errors import DatabaseMissingError, RecorderError
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
                await asyncio.to_thread(shipper.ship, shipped, halt)
            except DatabaseMissingError:
                delay_s = interval_s  # nothing stored yet
            except RecorderError as exc:  # the store is away, refuses us, or another ships
                log.warning("ship: %s; trying again in %.0f s", exc, backoff_s)
                delay_s = backoff_s
                backoff_s = min(MAX_BACKOFF_S, 10 * interval_s, 2 * backoff_s)
            else:
                delay_s, backoff_s = interval_s, interval_s
            totals.ship_hours_waiting = await asyncio.to_thread(_waiting, request)
            await asyncio.sleep(delay_s)
    finally:
        halt.set()


def _waiting(request: ShipRequest) -> dict[str, int]:
    try:
        with Database.open(request.db_path) as db:
            return waiting_hours(db, request.db_path, str(request.url))
    except DatabaseMissingError:
        return {}
