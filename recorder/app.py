"""The recorder runtime: streams in, snapshots out, in one asyncio task group.

Data flows one way: WebSocket frames -> ``decode_frame`` -> the symbol's ``SymbolSync`` -> outcomes
-> ``Outcomes`` (outcomes.py) gathers encoded values into one batch -> one RocksDB write every
flush interval. REST snapshots enter the same machines from the workers of
``snapshot_workers.py``, paced by a weight budget, so a resync never stalls the stream of any
symbol. This module is the task group and its wiring, and the recorder's clock: it reads the
wall clock and passes times to everything it drives (docs/architecture.md, "Who reads clocks").

Shutdown is a trigger (an ``asyncio.Event``) so that the CLI, the demo and tests control it: the
tasks are cancelled, every symbol reports what is final, the last batch is written, and the store
closes. Nothing still in progress is stored (sync rule T5).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from recorder.binance.connections import AttemptBudget
from recorder.binance.endpoints import combined_stream_url, connection_groups
from recorder.binance.market import spec
from recorder.binance.wire import SERVER_SHUTDOWN, DepthUpdate, decode_frame
from recorder.book.exchange_clock import ExchangeClock
from recorder.book.sync import EventWindow, Outcome, SymbolSync
from recorder.config import RecordConfig
from recorder.errors import (
    MalformedMessageError,
    StorageError,
    UnknownSymbolError,
    first_product_error,
)
from recorder.net.feed import StreamFeed
from recorder.net.rest import RestClient
from recorder.outcomes import Outcomes
from recorder.read.retention import apply_prune, plan_prune
from recorder.runstats import RunStats, RunTotals, SymbolState
from recorder.snapshot_workers import SNAPSHOT_WORKERS, SnapshotWorkers
from recorder.storage.shipmarks import unshipped_from
from recorder.storage.store import Store, check_market

log = logging.getLogger("obrec")

RETENTION_INTERVAL_S = 3600.0
DISK_BYTES_MAX_AGE_S = 30.0
"""Observers ask every second; measuring lists every file of the directory, in the event loop."""
MALFORMED_LOG_INTERVAL_S = 10.0


@dataclass(slots=True)
class _Connection:
    """The symbols of one combined stream (as many as Binance allows), with its exchange clock."""

    symbols: tuple[str, ...]
    clock: ExchangeClock
    feed: StreamFeed


class Recorder:
    """One recording run over one directory. Construct, then ``await run(stop)``."""

    def __init__(
        self, config: RecordConfig, *, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.symbols: tuple[str, ...] = ()
        """What is recorded: ``config.symbols``, or every trading ``--all-quote`` symbol."""
        self.syncs: dict[str, SymbolSync] = {}
        self.stats: dict[str, RunStats] = {}
        """Per-symbol counters, and ``totals`` for the run: observers poll them (runstats.py)."""
        self.totals = RunTotals()
        self.ready = asyncio.Event()
        """Set once the store is open and every task runs (systemd's READY=1)."""
        self._events_out: list[Outcome] = []  # reused for every event: nothing allocated per frame
        self._malformed_logged_s = float("-inf")
        self._wall = wall_clock
        self._workers = SnapshotWorkers(config, self.syncs, self.totals, wall_clock)
        self._outcomes = Outcomes(self.stats, self.totals, self._workers.request)
        self._handle = self._outcomes.handle
        self._connections: list[_Connection] = []
        self._connection_of: dict[str, _Connection] = {}
        self._attempts = AttemptBudget()
        """Shared by every connection: Binance counts attempts per IP."""
        self._store: Store | None = None
        self._prune_job: asyncio.Future[None] | None = None
        self._disk_bytes: tuple[float, int] | None = None  # (measured at, bytes)

    def now_ms(self) -> int:
        return int(self._wall() * 1000)

    def state(self, symbol: str) -> SymbolState:
        sync = self.syncs[symbol]
        if sync.live:
            return SymbolState.LIVE
        return SymbolState.RESYNCING if sync.resyncs else SymbolState.SYNCING

    def disk_bytes(self) -> int | None:
        """Bytes of the database directory, None before it is open; at most 30 s old."""
        if self._store is None:
            return None
        now_s = self._wall()
        if self._disk_bytes is None or now_s - self._disk_bytes[0] >= DISK_BYTES_MAX_AGE_S:
            self._disk_bytes = (now_s, self._store.size_on_disk())
        return self._disk_bytes[1]

    # -- lifecycle -----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Validate symbols, open the store, record until ``stop`` is set, then flush and close.
        A database of another market is refused first, before any network call."""
        market = self.config.market
        check_market(self.config.db_path, market)
        async with aiohttp.ClientSession() as session:
            rest = RestClient(
                session,
                self.config.rest_url,
                market=market,
                on_used_weight=self._workers.on_used_weight,
            )
            self._prepare(await self._resolve_symbols(rest))
            with Store.open_writer(self.config.db_path, market=market) as store:
                self._store = store
                start_s = int(self._wall())
                self.totals.started_s = self._wall()
                store.put_session(start_s, self._session_doc(start_s, end_s=None))
                log.info("recording %d symbol(s) into %s", len(self.symbols), store.path)
                # Long-lived start-up objects leave the collector's view: less per-event cost
                # (docs/benchmarks.md, "gc.freeze"); bench/ingest.py does the same.
                gc.collect()
                gc.freeze()
                storage_failed = False
                try:
                    await self._run_tasks(session, rest, stop)
                except StorageError:
                    # Disk full or I/O error: write nothing more (a half-written value is worse
                    # than a missing one); RocksDB's WAL keeps every batch already written.
                    storage_failed = True
                    raise
                finally:
                    if self._prune_job is not None:  # never close the store under a prune
                        await asyncio.wait([self._prune_job])
                    if not storage_failed:
                        self._finish(start_s)

    async def _run_tasks(
        self, session: aiohttp.ClientSession, rest: RestClient, stop: asyncio.Event
    ) -> None:
        with first_product_error():  # e.g. the disk is full
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(c.feed.run(session)) for c in self._connections]
                tasks += [
                    group.create_task(self._workers.run(rest, self._handle))
                    for _ in range(SNAPSHOT_WORKERS)
                ]
                tasks.append(group.create_task(self._ticker()))
                if self.config.retain_s is not None:
                    tasks.append(group.create_task(self._retention(self.config.retain_s)))
                self.ready.set()
                await stop.wait()
                for task in tasks:
                    task.cancel()

    async def _resolve_symbols(self, rest: RestClient) -> tuple[str, ...]:
        """The configured symbols, checked against exchangeInfo, or all trading ones of a quote."""
        quote = self.config.all_quote
        trading = await rest.trading_symbols(quote)
        if quote is not None:
            if not trading:
                raise UnknownSymbolError(
                    f"no trading {quote} symbols on {self.config.market.value} at "
                    f"{self.config.rest_url}; check --rest-url and --market"
                )
            return tuple(sorted(trading))
        unknown = [s for s in self.config.symbols if s not in trading]
        if unknown:
            market = spec(self.config.market)
            raise UnknownSymbolError(
                f"unknown or non-trading {market.market.value} symbol(s): {', '.join(unknown)} "
                f"at {self.config.rest_url}; check the spelling and --market "
                f"(e.g. {market.symbol_example} on {market.market.value})"
            )
        return self.config.symbols

    def _prepare(self, symbols: tuple[str, ...]) -> None:
        """One sync machine per symbol, and streams spread over as few connections as
        Binance's limits allow (1,024 streams, an 8,000-character URL)."""
        self.symbols = symbols
        window = EventWindow()  # one exchange: one estimate of how stale its snapshots are
        market = self.config.market
        continuity = spec(market).continuity
        # Filled in place: the outcomes and the snapshot workers hold these dicts.
        self.syncs.update(
            (s, SymbolSync(s, self.config.depth, window, continuity)) for s in symbols
        )
        self.stats.update((s, RunStats()) for s in symbols)
        groups = connection_groups(self.config.ws_url, symbols, market)
        self._connections = [self._connection(group) for group in groups]
        self._connection_of = {s: c for c in self._connections for s in c.symbols}

    def _connection(self, symbols: tuple[str, ...]) -> _Connection:
        def deliver(raw: str, recv_ms: int) -> None:
            self._on_frame(conn, raw, recv_ms)

        def lost() -> None:
            self.totals.reconnects += 1
            for symbol in symbols:
                self._handle(self.syncs[symbol].on_disconnect())

        def rolled_over() -> None:
            self.totals.rollovers += 1

        feed = StreamFeed(
            combined_stream_url(self.config.ws_url, symbols, self.config.market),
            deliver=deliver,
            lost=lost,
            rolled_over=rolled_over,
            attempts=self._attempts,
            wall=self._wall,
            now_ms=self.now_ms,
            rollover_after_s=self.config.rollover_after_s,
        )
        conn = _Connection(symbols, ExchangeClock(), feed)
        return conn

    def _finish(self, start_s: int) -> None:
        store = self._store
        if store is None:
            return
        for symbol, sync in self.syncs.items():
            exchange_now = self._connection_of[symbol].clock.exchange_now(self.now_ms())
            self._handle(sync.on_shutdown(exchange_now))
        self._flush()
        store.put_session(start_s, self._session_doc(start_s, end_s=int(self._wall())))
        total = sum(s.snapshots for s in self.stats.values())
        log.info("stopped: %d snapshot(s) stored in this run", total)

    def _session_doc(self, start_s: int, end_s: int | None) -> dict[str, object]:
        return {
            "market": self.config.market.value,
            "symbols": list(self.symbols),
            "depth": self.config.depth,
            "start": start_s,
            "end": end_s,
            "rest_url": self.config.rest_url,
            "ws_url": self.config.ws_url,
        }

    # -- tasks ---------------------------------------------------------------------------------

    def _on_frame(self, conn: _Connection, raw: str, recv_ms: int) -> None:
        try:
            message = decode_frame(raw, recv_ms)
        except MalformedMessageError as exc:
            self._count_malformed(str(exc))
            return
        if not isinstance(message, DepthUpdate):
            if message.event_type == SERVER_SHUTDOWN:
                log.info("the server announced serverShutdown; rolling over to a new connection")
                conn.feed.announce_shutdown()
            else:
                log.info("stream event %s on %s", message.event_type, message.stream)
            return
        sync = self.syncs.get(message.symbol)
        if sync is None:
            self._count_malformed(f"event for unsubscribed symbol {message.symbol}")
            return
        conn.clock.observe(message.event_time_ms, recv_ms)
        stats = self.stats[message.symbol]
        stats.events += 1
        stats.last_event_time_ms = message.event_time_ms
        stats.last_recv_ms = recv_ms
        outcomes = self._events_out
        sync.on_event_into(message, outcomes)
        if outcomes:
            self._handle(outcomes)
            outcomes.clear()

    def _count_malformed(self, what: str) -> None:
        """Count every bad frame; log at most one line per interval, so garbage cannot flood
        the journal."""
        self.totals.malformed_frames += 1
        now_s = self._wall()
        if now_s - self._malformed_logged_s >= MALFORMED_LOG_INTERVAL_S:
            self._malformed_logged_s = now_s
            log.warning("%s (ignored; %d bad frame(s) so far)", what, self.totals.malformed_frames)

    async def _ticker(self) -> None:
        grace_ms = self.config.grace_ms
        while True:
            await asyncio.sleep(self.config.flush_interval_s)
            now_ms = self.now_ms()
            for conn in self._connections:
                watermark = conn.clock.watermark(now_ms, grace_ms) if conn.feed.up else None
                if watermark is not None:
                    for symbol in conn.symbols:
                        outcomes = self.syncs[symbol].on_watermark(watermark)
                        if outcomes:
                            self._handle(outcomes)
            self._flush()

    async def _retention(self, retain_s: int) -> None:
        """``--retain``: prune hourly in a worker thread, leaving compaction to RocksDB. The job
        is shielded from cancellation and awaited by ``run`` before the store closes."""
        while True:
            self._prune_job = asyncio.ensure_future(
                asyncio.to_thread(self._prune, int(self._wall()) - retain_s)
            )
            await asyncio.shield(self._prune_job)
            await asyncio.sleep(RETENTION_INTERVAL_S)

    def _prune(self, cutoff_s: int) -> None:
        store = self._store
        assert store is not None
        plan = plan_prune(store, cutoff_s, keep_from=unshipped_from(store.path))
        if plan.total or plan.gap_deletes:
            apply_prune(store, plan, compact=False)
            log.info(
                "retention: deleted %d snapshot(s) before %d; RocksDB's background "
                "compaction returns the space",
                plan.total,
                cutoff_s,
            )

    def _flush(self) -> None:
        """Write what the outcomes gathered since the last tick as one batch."""
        store = self._store
        if store is None or not self._outcomes.pending:
            return
        pending = self._outcomes.take()
        started = time.perf_counter()
        store.write(pending)
        self._outcomes.written(pending, took_s=time.perf_counter() - started, now_s=self._wall())
