"""Prometheus metrics read from the run counters at scrape time, and the HTTP endpoints."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from recorder.errors import UsageError
from recorder.observe.metrics import RecorderCollector, serve_metrics
from recorder.runstats import SymbolState
from tests.helpers import FakeRecorder


def running() -> FakeRecorder:
    fake = FakeRecorder({"BTCUSDT": SymbolState.LIVE, "ETHUSDT": SymbolState.RESYNCING}, disk=4096)
    fake.ready.set()
    totals = fake.totals
    totals.started_s = time.time() - 60
    totals.last_write_s = time.time()
    totals.snapshots_written, totals.reconnects, totals.rest_weight = 118, 1, 100
    totals.exchange_used_weight_1m = 240
    totals.weight_waits = 2
    totals.gaps_by_reason.update({"startup": 2, "disconnect": 1})
    totals.gap_seconds_by_reason.update({"startup": 2, "disconnect": 5})
    totals.write_seconds.observe(0.002, n=3)
    totals.snapshot_delay_seconds.observe(0.6, n=118)
    btc = fake.stats["BTCUSDT"]
    btc.events, btc.last_stored_s = 600, 1_795_000_000
    fake.syncs["BTCUSDT"].changes = 21_000
    btc.last_event_time_ms, btc.last_recv_ms = 1_795_000_000_000, 1_795_000_000_042
    fake.syncs["ETHUSDT"].resyncs = 1
    return fake


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_collector_copies_counters_gauges_and_histograms() -> None:
    got = samples(generate_latest(RecorderCollector(running())).decode())
    btc, eth = (("symbol", "BTCUSDT"),), (("symbol", "ETHUSDT"),)
    assert got["obrec_events_total", btc] == 600
    assert got["obrec_level_changes_total", btc] == 21_000
    assert got["obrec_lag_seconds", btc] == pytest.approx(0.042)
    assert got["obrec_last_stored_second", btc] == 1_795_000_000
    assert ("obrec_lag_seconds", eth) not in got, "no lag before the first update"
    assert got["obrec_symbol_live", btc] == 1
    assert got["obrec_symbol_live", eth] == 0
    assert got["obrec_resyncs_total", eth] == 1
    assert got["obrec_symbols", (("state", "resyncing"),)] == 1
    assert got["obrec_gaps_total", (("reason", "disconnect"),)] == 1
    assert got["obrec_gap_seconds_total", (("reason", "disconnect"),)] == 5
    assert got["obrec_snapshots_written_total", ()] == 118
    assert got["obrec_reconnects_total", ()] == 1
    assert got["obrec_rest_weight_total", ()] == 100
    assert got["obrec_exchange_used_weight_1m", ()] == 240
    assert got["obrec_weight_waits_total", ()] == 2
    assert got["obrec_disk_bytes", ()] == 4096
    assert got["obrec_write_seconds_bucket", (("le", "0.001"),)] == 0
    assert got["obrec_write_seconds_bucket", (("le", "0.0025"),)] == 3
    assert got["obrec_write_seconds_count", ()] == 3
    assert got["obrec_snapshot_delay_seconds_bucket", (("le", "0.75"),)] == 118
    assert got["obrec_snapshot_delay_seconds_bucket", (("le", "+Inf"),)] == 118
    assert got["obrec_snapshot_delay_seconds_sum", ()] == pytest.approx(70.8)
    assert got["obrec_ready", ()] == 1


def test_the_server_answers_metrics_and_health_and_follows_the_run() -> None:
    fake = running()

    async def main() -> None:
        async with serve_metrics(fake, "127.0.0.1", 0) as url, aiohttp.ClientSession() as http:
            async with http.get(f"{url}/metrics") as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/plain")
                text = await response.text()
            assert 'obrec_events_total{symbol="BTCUSDT"} 600.0' in text
            assert "process_resident_memory_bytes" in text
            async with http.get(f"{url}/healthz") as response:
                assert response.status == 503
                body = await response.json()
            assert body["not_live"] == {"ETHUSDT": "resyncing"}
            fake.states["ETHUSDT"] = SymbolState.LIVE
            async with http.get(f"{url}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"

    asyncio.run(main())


def test_a_port_in_use_is_a_usage_error() -> None:
    async def main() -> None:
        async with serve_metrics(FakeRecorder(), "127.0.0.1", 0) as url:
            port = int(url.rsplit(":", 1)[1])
            with pytest.raises(UsageError, match=f"--metrics-port {port}: cannot listen"):
                async with serve_metrics(FakeRecorder(), "127.0.0.1", port):
                    pass

    asyncio.run(main())


def test_the_ship_lag_is_a_gauge_per_symbol_only_when_shipping() -> None:
    fake = running()
    assert "obrec_ship" not in generate_latest(RecorderCollector(fake)).decode()
    fake.totals.ship_hours_waiting = {"BTCUSDT": 3, "ETHUSDT": 0}
    fake.totals.ship_hours_shipped = 7
    got = samples(generate_latest(RecorderCollector(fake)).decode())
    assert got["obrec_ship_hours_waiting", (("symbol", "BTCUSDT"),)] == 3
    assert got["obrec_ship_hours_waiting", (("symbol", "ETHUSDT"),)] == 0
    assert got["obrec_ship_hours_shipped_total", ()] == 7
