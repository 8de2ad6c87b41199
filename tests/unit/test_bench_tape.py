"""The end-to-end benchmark's tape: ready frames that decode as Binance's, and depth checkpoints
chosen so that a client can always bridge (bench/tape.py)."""

from __future__ import annotations

import zlib
from array import array

import orjson
import pytest

from bench.tape import (
    CHECKPOINT_TICKS,
    GEN_BASE_MS,
    TICK_MS,
    Checkpoint,
    generate_chunk,
    patch_event_times,
    pick_checkpoint,
    ws_text_header,
)
from recorder.binance.wire import DepthUpdate, decode_frame


def split_frames(buffer: bytes) -> list[bytes]:
    """Unframe unmasked text frames (RFC 6455 §5.2)."""
    frames, at = [], 0
    while at < len(buffer):
        assert buffer[at] == 0x81  # final text frame
        length, at = buffer[at + 1], at + 2
        if length == 126:
            length, at = int.from_bytes(buffer[at : at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(buffer[at : at + 8], "big"), at + 8
        frames.append(buffer[at : at + length])
        at += length
    return frames


@pytest.mark.parametrize("length", [0, 125, 126, 65_535, 65_536])
def test_header_encodes_every_length_class(length: int) -> None:
    assert split_frames(ws_text_header(length) + b"x" * length) == [b"x" * length]


def test_patched_frames_decode_with_the_send_time_and_contiguous_ids() -> None:
    tape = generate_chunk(("BTCUSDT", "ETHUSDT"), ticks=12, seed=3, limit=100)
    sent_ms = 1_795_000_000_300
    last_u: dict[str, int] = {}
    events = 0
    for tick, stored in enumerate(tape.ticks):
        assert stored is not None
        buffer = bytearray(zlib.decompress(stored))
        patch_event_times(buffer, tape.event_time_at[tick], sent_ms + tick * TICK_MS)
        for raw in split_frames(bytes(buffer)):
            event = decode_frame(raw.decode(), 0)
            assert isinstance(event, DepthUpdate)
            assert event.event_time_ms == sent_ms + tick * TICK_MS
            if event.symbol in last_u:
                assert event.first_update_id == last_u[event.symbol] + 1
            last_u[event.symbol] = event.last_update_id
            events += 1
    assert events == tape.frames > 12
    assert set(last_u) == {"BTCUSDT", "ETHUSDT"}


def test_checkpoints_hold_the_book_after_their_tick() -> None:
    tape = generate_chunk(("BTCUSDT",), ticks=CHECKPOINT_TICKS + 1, seed=3, limit=100)
    first, second = tape.checkpoints["BTCUSDT"]
    assert (first.tick, second.tick) == (0, CHECKPOINT_TICKS)
    body = orjson.loads(zlib.decompress(second.body))
    assert body["lastUpdateId"] == second.last_update_id > first.last_update_id
    assert len(body["bids"]) == len(body["asks"]) == 100
    # The last frame of the checkpoint's tick ends exactly at its lastUpdateId.
    frames = split_frames(zlib.decompress(tape.ticks[CHECKPOINT_TICKS] or b""))
    assert orjson.loads(frames[-1])["data"]["u"] == second.last_update_id


def test_patch_refuses_a_time_of_another_width() -> None:
    with pytest.raises(ValueError, match="13 digits"):
        patch_event_times(bytearray(20), array("I", [0]), GEN_BASE_MS * 10)


C = CHECKPOINT_TICKS
CPS = [Checkpoint(i * C, 1000 + i, b"") for i in range(3)]
MID = C + C // 2  # a tick between the second and the third checkpoint


@pytest.mark.parametrize(
    ("sent_tick", "subscribed_tick", "expected_tick"),
    [
        (-1, None, 0),  # nothing sent yet: the first checkpoint, which the stream will pass
        (-1, 0, 0),
        (MID, 0, C),  # the client buffered everything after tick C: bridge from there
        (MID, C + 1, C),  # ... including tick C + 1, the first one after the checkpoint
        (MID, C + 2, 2 * C),  # the event after tick C was never sent to it: wait for the next
        (MID, None, 2 * C),  # not subscribed: a checkpoint the stream has yet to reach
        (C, 0, C),
    ],
)
def test_pick_checkpoint_answers_one_the_client_can_bridge(
    sent_tick: int, subscribed_tick: int | None, expected_tick: int
) -> None:
    picked = pick_checkpoint(CPS, sent_tick, subscribed_tick)
    assert picked is not None
    assert picked.tick == expected_tick


def test_pick_checkpoint_is_none_when_the_tape_has_none_left() -> None:
    assert pick_checkpoint(CPS, 2 * C + C // 2, 2 * C + C // 4) is None
    assert pick_checkpoint(CPS, 2 * C + C // 2, 0) is CPS[2]
