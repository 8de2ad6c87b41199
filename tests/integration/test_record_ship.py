"""``record --ship-to``: a recorder ships its finished hours while it records, and keeps
recording while the store is away; when the store comes back the hours arrive, whole.

The simulated exchange runs a few seconds before an hour boundary (its clock is shifted), so an
hour finishes within seconds instead of an hour.
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from recorder.app import Recorder
from recorder.config import RecordConfig
from recorder.lake.layout import HOUR_S, LakeUrl, hour_of
from recorder.lake.ship import ShipRequest
from recorder.observe.runner import Observers, record_observed
from recorder.read import Database
from recorder.simulator.market import Market
from recorder.simulator.server import SimulatorServer, spec_for
from tests.s3server import S3Server

pytestmark = pytest.mark.integration
WAIT_S = 90.0


def test_recorder_ships_while_recording_and_rides_out_the_store_going_away(
    s3: S3Server, tmp_path: Path
) -> None:
    bucket = s3.new_root()
    db = tmp_path / "db"
    now = time.time()
    boundary_s = hour_of(int(now)) + HOUR_S
    shift_s = boundary_s - now - 8  # the exchange is 8 s before an hour ends
    market = Market([spec_for("BTCUSDT")], seed=3)
    request = ShipRequest(db, LakeUrl.parse(f"s3://{bucket}/lake"))
    first_hour = boundary_s - HOUR_S
    part = f"{LakeUrl.parse(f's3://{bucket}/lake').hour_dir('spot', 'BTCUSDT', first_hour)}"

    async def scenario() -> tuple[Recorder, int, dict[str, int] | None]:
        async with SimulatorServer(market, clock=lambda: time.time() + shift_s) as server:
            recorder = Recorder(
                RecordConfig(("BTCUSDT",), db, rest_url=server.rest_url, ws_url=server.ws_url)
            )
            stop = asyncio.Event()
            observers = Observers(None, None, None, ship=request, ship_interval_s=0.5)
            s3.stop()  # the store is away from the start
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(record_observed(recorder, stop, observers))
                    # Past the boundary the first hour is final, and waits.
                    deadline = time.monotonic() + WAIT_S
                    while not (recorder.totals.ship_hours_waiting or {}).get("BTCUSDT"):
                        assert time.monotonic() < deadline, "the hour never became due"
                        await asyncio.sleep(0.2)
                    written_while_away = recorder.totals.snapshots_written
                    waiting = dict(recorder.totals.ship_hours_waiting or {})
                    await asyncio.to_thread(s3.start)
                    while recorder.totals.ship_hours_shipped < 1:
                        assert time.monotonic() < deadline, "the hour never arrived"
                        await asyncio.sleep(0.2)
                    stop.set()
            finally:
                if s3.process is None:
                    s3.start()
            assert recorder.totals.snapshots_written > written_while_away
            return recorder, written_while_away, waiting

    recorder, _, waiting = asyncio.run(scenario())
    assert waiting == {"BTCUSDT": 1}
    objects = s3.objects(bucket)
    shipped = pq.read_table(io.BytesIO(objects[f"{part}/part-0.parquet"]))
    with Database.open(db) as database:
        stored = [s.ts_s for s in database.snapshots("BTCUSDT", first_hour, boundary_s - 1)]
    assert stored
    assert shipped.column("ts").to_pylist() == stored
    assert recorder.totals.ship_hours_waiting == {"BTCUSDT": 0}
