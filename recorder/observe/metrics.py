"""``/metrics`` (Prometheus) and ``/healthz`` from one aiohttp server in the recorder's loop.

The collector reads the run counters at scrape time, so nothing is counted twice and the hot
path never sees Prometheus. Names and meanings are listed in docs/observability.md; the
histograms are copied from ``runstats.Histogram``, which already keeps Prometheus's buckets.
Needs the ``metrics`` extra (prometheus-client); the CLI checks for it before starting.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.process_collector import ProcessCollector

from recorder.errors import UsageError
from recorder.observe.health import check_health
from recorder.observe.summary import Observed, summarize
from recorder.runstats import Histogram, RunStats, SymbolState

log = logging.getLogger("obrec")

_SYMBOL_COUNTERS: tuple[tuple[str, str, Callable[[RunStats], int]], ...] = (
    ("obrec_events", "Depth updates received.", lambda s: s.events),
    ("obrec_symbol_gaps", "Gap records written (seconds without a snapshot).", lambda s: s.gaps),
    (
        "obrec_symbol_gap_seconds",
        "Seconds without a snapshot, in gap records.",
        lambda s: s.gap_seconds,
    ),
)


class RecorderCollector:
    """A prometheus-client collector over a running recorder's counters."""

    def __init__(self, observed: Observed) -> None:
        self._observed = observed

    def collect(self) -> Iterator[Metric]:
        observed = self._observed
        symbols = observed.symbols
        stats = observed.stats
        for name, doc, read in _SYMBOL_COUNTERS:
            family = CounterMetricFamily(name, doc, labels=["symbol"])
            for symbol in symbols:
                family.add_metric([symbol], read(stats[symbol]))
            yield family
        yield from self._symbol_gauges()
        yield from self._totals()

    def _symbol_gauges(self) -> Iterator[Metric]:
        observed = self._observed
        live = GaugeMetricFamily(
            "obrec_symbol_live", "1 if the book is in sync.", labels=["symbol"]
        )
        resyncs = CounterMetricFamily(
            "obrec_resyncs", "Times the book was lost after being live.", labels=["symbol"]
        )
        changes = CounterMetricFamily(
            "obrec_level_changes", "Price-level changes applied to the book.", labels=["symbol"]
        )
        lag = GaugeMetricFamily(
            "obrec_lag_seconds",
            "Receipt time minus exchange event time of the last update (clock offset included).",
            labels=["symbol"],
        )
        stored = GaugeMetricFamily(
            "obrec_last_stored_second",
            "Unix second of the last snapshot stored.",
            labels=["symbol"],
        )
        states = dict.fromkeys(SymbolState, 0)
        for symbol in observed.symbols:
            state = observed.state(symbol)
            states[state] += 1
            live.add_metric([symbol], 1 if state is SymbolState.LIVE else 0)
            sync = observed.syncs[symbol]
            resyncs.add_metric([symbol], sync.resyncs)
            changes.add_metric([symbol], sync.changes)
            stats = observed.stats[symbol]
            if stats.lag_ms is not None:
                lag.add_metric([symbol], stats.lag_ms / 1000)
            if stats.last_stored_s is not None:
                stored.add_metric([symbol], stats.last_stored_s)
        by_state = GaugeMetricFamily("obrec_symbols", "Symbols in each state.", labels=["state"])
        for state, count in states.items():
            by_state.add_metric([state.value], count)
        yield from (live, resyncs, changes, lag, stored, by_state)

    def _totals(self) -> Iterator[Metric]:
        observed = self._observed
        totals = observed.totals
        counters = (
            ("obrec_snapshots_written", "Snapshots written to RocksDB.", totals.snapshots_written),
            ("obrec_reconnects", "Stream connections lost and reopened.", totals.reconnects),
            ("obrec_rollovers", "Connections replaced before they closed.", totals.rollovers),
            (
                "obrec_malformed_frames",
                "Frames that did not decode (ignored).",
                totals.malformed_frames,
            ),
            ("obrec_rest_requests", "REST depth snapshot requests.", totals.rest_requests),
            ("obrec_rest_weight", "REST request weight this run has spent.", totals.rest_weight),
            ("obrec_rate_limited", "429 and 418 answers.", totals.rate_limited),
            (
                "obrec_weight_waits",
                "Times the exchange's weight count neared its limit and every REST call waited.",
                totals.weight_waits,
            ),
        )
        for name, doc, value in counters:
            yield CounterMetricFamily(name, doc, value=value)
        gaps = CounterMetricFamily("obrec_gaps", "Gap records by reason.", labels=["reason"])
        gap_seconds = CounterMetricFamily(
            "obrec_gap_seconds", "Seconds without a snapshot by reason.", labels=["reason"]
        )
        for reason, count in sorted(totals.gaps_by_reason.items()):
            gaps.add_metric([reason], count)
            gap_seconds.add_metric([reason], totals.gap_seconds_by_reason[reason])
        yield from (gaps, gap_seconds)
        if totals.ship_hours_waiting is not None:
            waiting = GaugeMetricFamily(
                "obrec_ship_hours_waiting",
                "Final hours not yet shipped to the lake (record --ship-to).",
                labels=["symbol"],
            )
            for symbol, hours in sorted(totals.ship_hours_waiting.items()):
                waiting.add_metric([symbol], hours)
            yield waiting
            yield CounterMetricFamily(
                "obrec_ship_hours_shipped",
                "Symbol-hours shipped to the lake by this run.",
                value=totals.ship_hours_shipped,
            )
        yield _histogram(
            "obrec_write_seconds", "Duration of each RocksDB batch write.", totals.write_seconds
        )
        yield _histogram(
            "obrec_snapshot_delay_seconds",
            "From the end of a second to its snapshot being written.",
            totals.snapshot_delay_seconds,
        )
        gauges: list[tuple[str, str, float | None]] = [
            (
                "obrec_exchange_used_weight_1m",
                "The exchange's X-MBX-USED-WEIGHT-1M for this IP at the last REST answer.",
                totals.exchange_used_weight_1m,
            ),
            ("obrec_disk_bytes", "Bytes of the database directory.", observed.disk_bytes()),
            (
                "obrec_last_write_timestamp_seconds",
                "Wall time of the last batch that stored snapshots.",
                totals.last_write_s,
            ),
            (
                "obrec_start_time_seconds",
                "Wall time the store was opened.",
                totals.started_s or None,
            ),
            (
                "obrec_ready",
                "1 once the store is open and every task runs.",
                float(observed.ready.is_set()),
            ),
        ]
        for name, doc, reading in gauges:
            if reading is not None:
                yield GaugeMetricFamily(name, doc, value=reading)


def _histogram(name: str, doc: str, histogram: Histogram) -> HistogramMetricFamily:
    buckets = [
        (f"{bound:g}", float(n))
        for bound, n in zip(histogram.bounds, histogram.cumulative(), strict=True)
    ]
    buckets.append(("+Inf", float(histogram.count)))
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=histogram.total)


def metrics_app(observed: Observed) -> web.Application:
    registry = CollectorRegistry()
    registry.register(RecorderCollector(observed))
    ProcessCollector(registry=registry)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(_: web.Request) -> web.Response:
        health = check_health(summarize(observed), time.time())
        return web.json_response(health.body, status=200 if health.ok else 503)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    return app


@contextlib.asynccontextmanager
async def serve_metrics(observed: Observed, host: str, port: int) -> AsyncIterator[str]:
    """Serve ``/metrics`` and ``/healthz`` on ``host:port`` (0: any free port); yield the URL."""
    runner = web.AppRunner(metrics_app(observed), access_log=None)  # scrapes would flood the log
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise UsageError(
                f"--metrics-port {port}: cannot listen on {host}: {exc.strerror or exc}"
            ) from None
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        url = f"http://{shown}:{bound_port}"
        log.info("metrics at %s/metrics, health at %s/healthz", url, url)
        yield url
    finally:
        await runner.cleanup()
