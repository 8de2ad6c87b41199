"""Binance's "manage a local order book correctly" procedure, plus per-second snapshots, per symbol.

Pure and synchronous: events, REST snapshots, a watermark and losses go in; outcomes come out.
No I/O, no clock; the caller stamps times and performs the outcomes. The rules (their Binance
sources: docs/architecture.md, "Binance's rules"):

Sync
  S1  Buffer stream events; ask for a REST snapshot once the first event is buffered. Until the
      request is sent, keep only the newest few: the snapshot will contain the older ones.
  S2  Drop buffered events with ``u < bridge`` (``bridge``: ``lastUpdateId + 1`` on spot,
      ``lastUpdateId`` on futures). If the first remaining event has ``U > bridge``, the
      snapshot is older than the stream: ask for another one.
  S3  The first applied event must satisfy ``U <= bridge <= u``; then the book is live.
      Or sooner, on spot: if a buffered event ends exactly at the snapshot (``u ==
      lastUpdateId``, as on a quiet symbol), the snapshot is the book right after that event,
      so the book is live from it, and the next event must continue it (S4). A quiet symbol need
      not wait for its next event, and every second from that event's on is known. (Futures
      keep such an event, since ``u == lastUpdateId`` bridges there, and apply it as usual.)
  S4  Live, each event must follow the previous one by the market's continuity rule: spot
      ``U == previous u + 1``, futures ``pu == previous u`` (futures ids skip: ``U`` is not
      ``previous u + 1``, so the spot rule must never be applied there). An event with
      ``u <= previous u`` is an old duplicate and is ignored. Anything else is a sequence gap:
      the book is lost.
  S5  A crossed book (best bid >= best ask), checked when a second is finalised on the book that
      would be stored, is a lost book too; so is an event whose levels the book refuses as it
      applies them (not Binance's numbers: beyond int64 units of 1e-8, or malformed).
  S6  A lost book keeps buffering and asks for a new snapshot; other symbols are not touched.
      After a bad level, every request counts as a failed one until a second is stored again,
      so a symbol that keeps sending numbers the book cannot hold resyncs at the caller's
      capped retry pace, not once a second (each resync costs REST weight the others need).

States (``SyncState``) and what moves a symbol between them
  WAITING   no snapshot asked for: before the first event, or after a loss until the next one.
  QUEUED    a snapshot is asked for (``RequestSnapshot``); its REST call waits for the budget,
            and only the newest few events are kept (S1).
  FETCHING  the call is out (``on_request_sent``): every event from here on is kept.
  BRIDGING  a snapshot is held (``on_snapshot``), waiting for an event that bridges it (S2, S3).
  LIVE      events apply to the book (S4, S5) and seconds are finalised (T1-T5).

  WAITING   --event-->                         QUEUED    RequestSnapshot
  QUEUED    --on_request_sent-->               FETCHING
  QUEUED, FETCHING --on_snapshot-->            BRIDGING  (then at once as below if it can)
  QUEUED, FETCHING --on_snapshot_failed-->     QUEUED    RequestSnapshot, the next attempt
  BRIDGING  --bridging event, or one ending at the snapshot (S3)--> LIVE  Gap, Synced
  BRIDGING  --snapshot older than the events (S2) or unusable--> QUEUED  RequestSnapshot
  LIVE      --gap (S4), crossed or bad book (S5)--> QUEUED  Invalidate, RequestSnapshot
  LIVE, BRIDGING --on_disconnect-->            WAITING   (QUEUED and FETCHING stay: the
            snapshot they will bring is still good for the events that follow)

Snapshots (``T`` is a unix second; "book at T" means after every event with ``E < (T+1)*1000``)
  T1  Second T is final when a live event with ``E >= (T+1)*1000`` arrives: the book before that
      event is stored for every not-yet-final second up to the event's own second.
  T2  A quiet symbol's seconds are final once the caller's watermark (exchange-time estimate
      minus a grace period) passes their end.
  T3  An event that lands in a second already finalised by the watermark proves those seconds
      wrong: they are invalidated (deleted) and finalised again later from the right book.
  T4  A lost book makes every second from the one of the last applied event onwards unknown: the
      missing events may have happened in it. Those seconds are invalidated and become a gap,
      which closes at the second in which the book is live again (that second is known again).
  T5  The second in progress at shutdown is never final.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from recorder.binance.market import Continuity
from recorder.binance.wire import DepthSnapshot, DepthUpdate
from recorder.book.orderbook import OrderBook
from recorder.book.snapshot import Sample

MAX_BUFFERED_EVENTS = 5_000
"""About 8 minutes of a 100 ms stream: bounded, so a REST outage cannot grow memory forever."""
PRE_REQUEST_EVENTS = 50
"""Events kept while a snapshot request waits for its turn (~5 s of a busy stream), so that a
mass resync of 1,500 symbols does not hold minutes of events for each."""


@dataclass(slots=True)
class EventWindow:
    """How many events a symbol keeps while its snapshot request waits. Shared by every symbol
    of a run: snapshots come from one exchange, so one that turns out older than the events kept
    makes every symbol keep twice as many. Many symbols refused under the same window widen it
    once, not once each (that would reach the maximum, and its memory, at once)."""

    events: int = PRE_REQUEST_EVENTS

    def widen_from(self, events: int) -> None:
        """A snapshot was older than the ``events`` kept before its request went out."""
        if events == self.events:
            self.events = min(MAX_BUFFERED_EVENTS, 2 * self.events)


class SyncState(Enum):
    """Where one symbol is in the procedure; the transitions are the table in the module
    docstring."""

    WAITING = "waiting"
    QUEUED = "queued"
    FETCHING = "fetching"
    BRIDGING = "bridging"
    LIVE = "live"


class GapReason(Enum):
    STARTUP = "startup"
    SEQUENCE_GAP = "sequence_gap"
    CROSSED_BOOK = "crossed_book"
    BAD_LEVEL = "bad_level"
    DISCONNECT = "disconnect"
    SHUTDOWN = "shutdown"


@dataclass(frozen=True, slots=True)
class RequestSnapshot:
    """Fetch a REST depth snapshot and hand it to ``on_snapshot``. ``attempt`` counts from 1 and
    grows only with failed REST calls in a row (the caller paces those): a snapshot refused as
    too old, or one needed after a loss, is fetched again as soon as the weight budget allows."""

    symbol: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Synced:
    """The book is live again, from the event with update id ``update_id``."""

    symbol: str
    update_id: int


@dataclass(frozen=True, slots=True)
class Invalidate:
    """Seconds from ``from_s`` on are not known after all: delete anything stored for them."""

    symbol: str
    from_s: int


@dataclass(frozen=True, slots=True)
class Gap:
    """Seconds ``from_s..to_s`` (inclusive) have no snapshot, for ``reason``."""

    symbol: str
    from_s: int
    to_s: int
    reason: GapReason


Outcome = RequestSnapshot | Synced | Sample | Invalidate | Gap


class SymbolSync:
    """The sync procedure and snapshot clock of one symbol. Feed it; perform what it returns."""

    def __init__(
        self,
        symbol: str,
        depth: int,
        window: EventWindow | None = None,
        continuity: Continuity = Continuity.CONSECUTIVE,
    ) -> None:
        self.symbol = symbol
        self.depth = depth
        self._chained = continuity is Continuity.CHAINED
        """Rule S4 by ``pu`` (futures) rather than by ``U`` (spot)."""
        self._bridge_offset = 0 if self._chained else 1
        """Rules S2/S3: the id the first applied event must span is ``lastUpdateId`` plus this."""
        self.book = OrderBook()
        self.state = SyncState.WAITING
        self.resyncs = 0
        self.ignored_events = 0
        self.changes = 0  # level changes applied to the book
        self._buffer: list[DepthUpdate] = []
        self._pending: DepthSnapshot | None = None
        """The snapshot held while BRIDGING."""
        self._sent_under: int | None = None
        """The event window in force when the requested snapshot's REST call went out; None
        until it goes out."""
        self._window = window if window is not None else EventWindow()
        self._attempt = 0
        self._last_u = 0
        self._last_event_time_ms = 0
        self._last_recv_time_ms = 0
        self._next_s = 0  # first second not final yet (live only)
        self._gap_from: int | None = None
        self._gap_reason = GapReason.STARTUP

    @property
    def live(self) -> bool:
        return self.state is SyncState.LIVE

    @property
    def update_id(self) -> int:
        """The last update id applied to the book."""
        return self._last_u

    # -- inputs -----------------------------------------------------------------------------

    def on_event(self, event: DepthUpdate) -> list[Outcome]:
        out: list[Outcome] = []
        self.on_event_into(event, out)
        return out

    def on_event_into(self, event: DepthUpdate, out: list[Outcome]) -> None:
        """``on_event`` appending to the caller's list (the hot path allocates nothing more)."""
        if self.state is SyncState.LIVE:
            self._on_live_event(event, out)
        else:
            self._buffer_event(event, out)

    def on_snapshot(self, snapshot: DepthSnapshot) -> list[Outcome]:
        """A REST snapshot arrived (it may answer a request made before a later loss)."""
        out: list[Outcome] = []
        if self.state is SyncState.LIVE:
            return out
        self.state = SyncState.BRIDGING
        self._pending = snapshot
        self._try_bridge(out)
        return out

    def on_request_sent(self) -> None:
        """The REST call for the requested snapshot goes out now: keep every event from here."""
        self._sent_under = self._window.events
        if self.state is SyncState.QUEUED:
            self.state = SyncState.FETCHING

    def on_snapshot_failed(self) -> list[Outcome]:
        """The REST call failed; ask again (the caller paces retries by ``attempt``)."""
        out: list[Outcome] = []
        if self.state is SyncState.QUEUED or self.state is SyncState.FETCHING:
            self.state = SyncState.WAITING
            self._request(out, failed=True)
        return out

    def on_watermark(self, exchange_time_ms: int) -> list[Outcome]:
        """Rule T2: no event with ``E < exchange_time_ms`` can still arrive."""
        out: list[Outcome] = []
        if self.state is SyncState.LIVE:
            self._finalise_until(exchange_time_ms // 1000, out)
        return out

    def on_disconnect(self) -> list[Outcome]:
        """The stream carrying this symbol broke: events may be lost."""
        out: list[Outcome] = []
        self._lose(GapReason.DISCONNECT, out)
        self._buffer.clear()
        if self.state is SyncState.BRIDGING:
            self.state = SyncState.WAITING  # the snapshot held needs events that are gone
        self._pending = None
        return out

    def on_shutdown(self, exchange_time_ms: int) -> list[Outcome]:
        """Rule T5, and close any open gap at the last second that has ended."""
        out: list[Outcome] = []
        last_ended_s = exchange_time_ms // 1000 - 1
        if not self.live and self._gap_from is not None:
            if last_ended_s >= self._gap_from:
                out.append(Gap(self.symbol, self._gap_from, last_ended_s, self._gap_reason))
            self._gap_from = None
        return out

    # -- live path ------------------------------------------------------------------------

    def _on_live_event(self, event: DepthUpdate, out: list[Outcome]) -> None:
        if event.last_update_id <= self._last_u:
            self.ignored_events += 1
            return
        if (
            event.prev_last_update_id != self._last_u
            if self._chained
            else event.first_update_id != self._last_u + 1
        ):
            self._lose(GapReason.SEQUENCE_GAP, out)
            self._buffer_event(event, out)
            return
        # Binance's E never goes backwards; were it to, the event counts from the open second.
        event_s = max(event.event_time_ms // 1000, self._last_event_time_ms // 1000)
        if event_s < self._next_s:
            # T3: with E monotonic, every second from event_s to _next_s was watermark-finalised.
            out.append(Invalidate(self.symbol, event_s))
            self._next_s = event_s
        else:
            self._finalise_until(event_s, out)
            if not self.live:  # S5 found the book wrong: resync from here
                self._buffer_event(event, out)
                return
        self._apply(event, out)

    def _apply(self, event: DepthUpdate, out: list[Outcome]) -> None:
        """Apply one event (the book queues it), or lose the book if it refuses the levels (S5)."""
        self._last_u = event.last_update_id
        self._last_event_time_ms = event.event_time_ms
        self._last_recv_time_ms = event.recv_time_ms
        try:
            self.changes += self.book.apply(event.bids, event.asks)
        except ValueError:
            self._lose(GapReason.BAD_LEVEL, out)
            self._request(out)

    def _finalise_until(self, end_s: int, out: list[Outcome]) -> None:
        """Rule T1/T2: store the current book for every second in ``[_next_s, end_s)``, unless
        it is crossed (S5)."""
        if end_s <= self._next_s:
            return
        top = self.book.top(self.depth)
        if self.book.is_crossed():
            self._lose(GapReason.CROSSED_BOOK, out)
            return
        self._attempt = 0  # S6: a stored second ends a run of resyncs
        for ts_s in range(self._next_s, end_s):
            out.append(
                Sample(
                    self.symbol,
                    ts_s,
                    self._last_event_time_ms,
                    self._last_u,
                    self._last_recv_time_ms,
                    *top,
                )
            )
        self._next_s = end_s

    def _lose(self, reason: GapReason, out: list[Outcome]) -> None:
        """Rule T4/S6."""
        if self.state is SyncState.LIVE:
            from_s = self._last_event_time_ms // 1000
            if self._next_s > from_s:
                out.append(Invalidate(self.symbol, from_s))
            self._gap_from = from_s
            self._gap_reason = reason
            self.resyncs += 1
            self.state = SyncState.WAITING
        self.book.clear()

    # -- syncing path -----------------------------------------------------------------------

    def _buffer_event(self, event: DepthUpdate, out: list[Outcome]) -> None:
        event_s = event.event_time_ms // 1000
        if self._gap_from is None or (
            self._gap_reason is GapReason.STARTUP and event_s < self._gap_from
        ):
            self._gap_from = event_s  # a start-up gap begins at the earliest second seen
        unsent = self._sent_under is None
        if len(self._buffer) >= (self._window.events if unsent else MAX_BUFFERED_EVENTS):
            del self._buffer[0]  # S2 will then reject any snapshot older than what is kept
        self._buffer.append(event)
        if self.state is SyncState.BRIDGING:
            self._try_bridge(out)
        else:
            self._request(out)

    def _request(self, out: list[Outcome], *, failed: bool = False) -> None:
        if self.state is not SyncState.QUEUED and self.state is not SyncState.FETCHING:
            self.state = SyncState.QUEUED
            self._sent_under = None
            failed = failed or self._gap_reason is GapReason.BAD_LEVEL  # S6
            self._attempt = self._attempt + 1 if failed else 1
            out.append(RequestSnapshot(self.symbol, self._attempt))

    def _try_bridge(self, out: list[Outcome]) -> None:
        snapshot = self._pending
        assert snapshot is not None
        last_id = snapshot.last_update_id
        bridge = last_id + self._bridge_offset
        buffer = self._buffer
        drop = 0
        while drop < len(buffer) and buffer[drop].last_update_id < bridge:
            drop += 1
        ends_at = buffer[drop - 1] if drop and buffer[drop - 1].last_update_id == last_id else None
        del buffer[:drop]  # S2
        if not buffer and ends_at is None:
            return  # wait for the first event newer than the snapshot
        if buffer and buffer[0].first_update_id > bridge:
            self._pending = None  # S2: snapshot too old
            if self._sent_under is not None:
                self._window.widen_from(self._sent_under)
            self._request(out)
            return
        # S3: first.U <= bridge <= first.u
        self._pending = None
        try:
            self.book.replace(snapshot.bids, snapshot.asks)
        except ValueError:  # the book is empty again
            self._request(out, failed=True)  # levels the book cannot hold: ask for another
            return
        if self._gap_reason is not GapReason.BAD_LEVEL:
            self._attempt = 0  # S6: after a bad level, only a stored second does that
        self.state = SyncState.LIVE
        first = ends_at or buffer[0]
        live_s = first.event_time_ms // 1000
        if self._gap_from is not None and live_s > self._gap_from:
            out.append(Gap(self.symbol, self._gap_from, live_s - 1, self._gap_reason))
        self._gap_from = None
        self._next_s = live_s
        out.append(Synced(self.symbol, first.last_update_id))
        if ends_at is None:
            self._apply(first, out)
            replay, self._buffer = buffer[1:], []
        else:  # S3, sooner: the snapshot already holds this event's changes
            self._last_u = last_id
            self._last_event_time_ms = first.event_time_ms
            self._last_recv_time_ms = first.recv_time_ms
            replay, self._buffer = buffer, []
        for event in replay:
            self.on_event_into(event, out)
