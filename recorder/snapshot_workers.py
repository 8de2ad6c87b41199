"""The REST side of syncing: ``RequestSnapshot`` outcomes queue up, a few workers answer them.

Each call first reserves its weight in the ``WeightBudget`` (docs/architecture.md, "The recorder
at run time"), so a cold start or a mass resync is spread out rather than burst; 429 and 418
pause every call for their Retry-After, and the exchange's own count of the IP's weight pauses
them too when other clients use it. A resync never stalls a stream: the workers run beside the
feeds and hand what they get to the symbol's sync machine, whose outcomes they pass on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from recorder.binance.endpoints import depth_weight
from recorder.binance.weights import WeightBudget
from recorder.book.sync import Outcome, RequestSnapshot, SymbolSync
from recorder.config import RecordConfig
from recorder.errors import ExchangeError, RateLimitedError
from recorder.net.rest import RestClient
from recorder.runstats import RunTotals

log = logging.getLogger("obrec")

SNAPSHOT_WORKERS = 4
_RETRY_CAP_S = 30.0


class SnapshotWorkers:
    """The request queue, the weight budget, and the workers that share them."""

    def __init__(
        self,
        config: RecordConfig,
        syncs: dict[str, SymbolSync],
        totals: RunTotals,
        wall: Callable[[], float],
    ) -> None:
        self._limit = config.snapshot_limit
        self._weight = depth_weight(config.snapshot_limit, config.market)
        self._syncs = syncs
        """The recorder's machines, shared (it fills the dict once the symbols are known)."""
        self._totals = totals
        self._wall = wall
        self._requests: asyncio.Queue[RequestSnapshot] = asyncio.Queue()
        self._budget = WeightBudget(
            config.weight_per_minute,
            exchange_limit=config.exchange_weight_limit,
            exchange_window_s=config.exchange_weight_window_s,
            min_burst=self._weight,
        )

    def request(self, request: RequestSnapshot) -> None:
        self._requests.put_nowait(request)

    async def run(self, rest: RestClient, handle: Callable[[list[Outcome]], None]) -> None:
        """One worker: answer requests, oldest first, handing the sync machine's outcomes to
        ``handle``, until cancelled."""
        budget = self._budget
        while True:
            request = await self._requests.get()
            sync = self._syncs[request.symbol]
            if sync.live:
                continue  # answered by an earlier snapshot
            delay = budget.reserve(self._weight, self._wall())
            if request.attempt > 1:
                delay = max(delay, min(_RETRY_CAP_S, 0.25 * 2 ** (request.attempt - 2)))
            await asyncio.sleep(delay)
            while (paused := budget.paused_for(self._wall())) > 0:
                # Take a fresh place in the queue after the pause, so queued calls stay spread.
                await asyncio.sleep(paused)
                await asyncio.sleep(budget.reserve(self._weight, self._wall()))
            totals = self._totals
            totals.rest_requests += 1
            totals.rest_weight += self._weight
            sync.on_request_sent()
            try:
                snapshot = await rest.depth(request.symbol, self._limit)
            except RateLimitedError as exc:
                totals.rate_limited += 1
                now_s = self._wall()
                budget.pause(now_s + exc.retry_after_s, now_s)
                log.warning("%s; every REST call waits", exc)
                outcomes = sync.on_snapshot_failed()
            except ExchangeError as exc:
                log.warning("depth snapshot of %s failed: %s", request.symbol, exc)
                outcomes = sync.on_snapshot_failed()
            else:
                outcomes = sync.on_snapshot(snapshot)
            handle(outcomes)

    def on_used_weight(self, used: int) -> None:
        """The exchange's count of this IP's weight (``X-MBX-USED-WEIGHT-1M``) on each answer."""
        now_s = self._wall()
        self._totals.exchange_used_weight_1m = used
        paused = self._budget.paused_for(now_s)
        if self._budget.observe_used(used, now_s) and not paused:
            self._totals.weight_waits += 1
            log.warning(
                "the exchange counts %d REST weight for this IP this minute (other clients "
                "share it?); every REST call waits %.0f s for the next minute",
                used,
                self._budget.paused_for(now_s),
            )
