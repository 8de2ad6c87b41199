"""The end-to-end feed's tape: combined-stream frames pre-generated from the simulator's Market.

Generating 15,000 events/s costs about 1.4 CPU seconds per second (~90 µs per event), more than
the machine can spare next to the recorder, so the tape is made before the run, in worker
processes, and kept as ready WebSocket frames: one buffer per chunk of ``CHUNK_STREAMS`` streams
per 100 ms tick. Serving a tick is then one socket write per chunk, and each of the recorder's
connections (split as ``connection_groups`` splits them) is a union of whole chunks. Buffers are
kept zlib-compressed (4.3 times smaller; inflating 20 MB/s of frames costs the feed about 5 % of a
core), since a 1,500-symbol tape of several minutes would otherwise need about 20 MB per second of
tape.

The clock the tape will be served on is not known while it is made, so events carry the times of
``GEN_BASE_MS`` and each frame's ``E`` (13 digits until 2286) is overwritten in place when its
tick is sent (``patch_event_times``). Update ids and books need no patching.

Every ``CHECKPOINT_TICKS`` the top ``limit`` levels of every book are kept as a compressed REST
body with its ``lastUpdateId``, to answer ``/api/v3/depth`` with a book consistent with the tape
(``pick_checkpoint`` chooses one the client can bridge from, per Binance's rules).
"""

from __future__ import annotations

import zlib
from array import array
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import orjson

from recorder.binance.endpoints import connection_groups, depth_stream_name
from recorder.simulator.market import Market
from recorder.simulator.server import spec_for

GEN_BASE_MS = 1_800_000_000_000
"""Tick k of the tape is generated at GEN_BASE_MS + k * TICK_MS (a whole second, 13 digits)."""
TICK_MS = 100
CHUNK_STREAMS = 32
"""At most this many streams per chunk; chunks never straddle two of the recorder's connections."""
GROUPING_WS_BASE = "ws://127.0.0.1:65535"
"""As long as the feed's URL: the recorder splits streams by URL length (Binance's 8,000
characters), and the feed listens on an ephemeral port, which has five digits."""
CHECKPOINT_TICKS = 10
"""A book a second: Binance's snapshots trail its stream by far less, and a recorder keeps
only a few seconds of events while its request waits (recorder/book/sync.py)."""
ZLIB_LEVEL = 3
E_DIGITS = 13
_E_FIELD = b'"E":'


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A REST depth body (zlib-compressed JSON) of the book after every event of ``tick``."""

    tick: int
    last_update_id: int
    body: bytes


@dataclass(slots=True)
class ChunkTape:
    """The frames of a few symbols, tick by tick; a tick's buffer is dropped once it is sent."""

    symbols: tuple[str, ...]
    ticks: list[bytes | None] = field(default_factory=list)
    """Per tick, the zlib-compressed concatenation of its frames (headers included)."""
    event_time_at: list[array[int]] = field(default_factory=list)
    """Per tick, the offset of each frame's ``E`` digits in its inflated buffer."""
    checkpoints: dict[str, list[Checkpoint]] = field(default_factory=dict)
    truth: dict[str, dict[int, tuple[list[tuple[str, str]], list[tuple[str, str]]]]] = field(
        default_factory=dict
    )
    """The simulator's true top levels per generated second, when asked for (tests)."""
    frames: int = 0
    frame_bytes: int = 0
    stored_bytes: int = 0
    """Compressed: what the tape's frames take in memory."""
    changes: int = 0
    """Level changes in all frames (the real stream's mean is 36 per event)."""

    @property
    def checkpoint_bytes(self) -> int:
        return sum(len(c.body) for cps in self.checkpoints.values() for c in cps)


def ws_text_header(length: int) -> bytes:
    """The header of an unmasked, final text frame (RFC 6455 §5.2: servers never mask)."""
    if length < 126:
        return bytes((0x81, length))
    if length < 1 << 16:
        return bytes((0x81, 126)) + length.to_bytes(2, "big")
    return bytes((0x81, 127)) + length.to_bytes(8, "big")


def generate_chunk(
    symbols: tuple[str, ...], ticks: int, seed: int, limit: int, truth_depth: int = 0
) -> ChunkTape:
    """``ticks`` ticks of ``symbols``, with a depth checkpoint every CHECKPOINT_TICKS."""
    market = Market([spec_for(s) for s in symbols], seed=seed, truth_depth=truth_depth)
    streams = {s: depth_stream_name(s) for s in symbols}
    tape = ChunkTape(symbols, checkpoints={s: [] for s in symbols})
    for tick in range(ticks):
        buffer = bytearray()
        offsets = array("I")
        for event in market.step(GEN_BASE_MS + tick * TICK_MS):
            tape.changes += len(event["b"]) + len(event["a"])
            payload = orjson.dumps({"stream": streams[event["s"]], "data": event})
            buffer += ws_text_header(len(payload))
            offsets.append(len(buffer) + payload.index(_E_FIELD) + len(_E_FIELD))
            buffer += payload
        stored = zlib.compress(buffer, ZLIB_LEVEL)
        tape.ticks.append(stored)
        tape.event_time_at.append(offsets)
        tape.frames += len(offsets)
        tape.frame_bytes += len(buffer)
        tape.stored_bytes += len(stored)
        if tick % CHECKPOINT_TICKS == 0:
            for symbol, book in market.symbols.items():
                body = book.depth(limit)
                tape.checkpoints[symbol].append(
                    Checkpoint(
                        tick, body["lastUpdateId"], zlib.compress(orjson.dumps(body), ZLIB_LEVEL)
                    )
                )
    if truth_depth:
        tape.truth = {s: book.truth for s, book in market.symbols.items()}
    return tape


def build_tape(
    symbols: list[str],
    seconds: int,
    *,
    limit: int,
    workers: int,
    seed: int = 1,
    truth_depth: int = 0,
) -> list[ChunkTape]:
    """The whole tape in chunks of up to CHUNK_STREAMS symbols, made by ``workers`` processes.
    Each of the recorder's connections is a union of whole chunks."""
    ticks = seconds * 1000 // TICK_MS
    chunks = [
        group[i : i + CHUNK_STREAMS]
        for group in connection_groups(GROUPING_WS_BASE, symbols)
        for i in range(0, len(group), CHUNK_STREAMS)
    ]
    jobs = [(chunk, ticks, seed * 1_000 + i, limit, truth_depth) for i, chunk in enumerate(chunks)]
    if workers <= 1:
        return [generate_chunk(*job) for job in jobs]
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(generate_chunk, *job) for job in jobs]
        return [f.result() for f in futures]


def patch_event_times(buffer: bytearray, offsets: array[int], event_time_ms: int) -> None:
    """Give every frame of a tick the time it is actually sent (a fixed-width overwrite)."""
    digits = b"%d" % event_time_ms
    if len(digits) != E_DIGITS:
        raise ValueError(f"event time {event_time_ms} is not {E_DIGITS} digits")
    for at in offsets:
        buffer[at : at + E_DIGITS] = digits


def pick_checkpoint(
    checkpoints: list[Checkpoint], sent_tick: int, subscribed_tick: int | None
) -> Checkpoint | None:
    """The book to answer a depth request with, so that the client can bridge (rule S2 of
    ``book/sync.py``; docs/architecture.md, "Binance's rules").

    ``sent_tick`` is the last tick sent (-1 before the first); ``subscribed_tick`` the first tick
    the client's stream received (None: not subscribed). A past checkpoint works when the client
    has buffered the events after it, as with Binance, whose snapshot usually trails the stream;
    otherwise the next one is given and the client waits for the stream to pass it. None when
    the tape has no checkpoint left.
    """
    if sent_tick >= 0 and subscribed_tick is not None:
        latest = checkpoints[min(sent_tick // CHECKPOINT_TICKS, len(checkpoints) - 1)]
        if latest.tick >= subscribed_tick - 1:
            return latest
    upcoming = sent_tick // CHECKPOINT_TICKS + 1 if sent_tick >= 0 else 0
    return checkpoints[upcoming] if upcoming < len(checkpoints) else None
