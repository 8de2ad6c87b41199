"""bench/peer_hook.py keeps the peer benchmark's contract on the recorder's own path."""

from __future__ import annotations

import orjson

from bench.peer_hook import replay


def frame(first: int, last: int, time_ms: int, bids: list[list[str]], asks: list[list[str]]) -> str:
    data = {"e": "depthUpdate", "E": time_ms, "s": "BTCUSDT", "U": first, "u": last}
    body = {"stream": "btcusdt@depth@100ms", "data": data | {"b": bids, "a": asks}}
    return orjson.dumps(body).decode()


def test_replay_returns_the_full_book_after_binance_rules() -> None:
    snapshot = orjson.dumps(
        {"lastUpdateId": 100, "bids": [["10.00", "1.0"]], "asks": [["20.00", "1.0"], ["21", "3"]]}
    ).decode()
    frames = [
        frame(95, 99, 1_000, [["9", "9"]], []),  # older than the snapshot: dropped (S2)
        frame(100, 102, 1_100, [["11.50", "2"]], [["20.00", "0.00000000"]]),  # bridges (S3)
        frame(103, 103, 2_500, [["10.00", "0"], ["12", "0.5"]], [["22", "1"]]),
    ]
    book = replay(snapshot, frames)
    assert book["bids"] == [("12", "0.5"), ("11.5", "2")]  # best first
    assert book["asks"] == [("21", "3"), ("22", "1")]
