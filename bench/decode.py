"""Decode: one combined-stream frame into a typed DepthUpdate and its levels into the book's
integers, against doing it with orjson and Python.

Frames are the simulator's (mean 36 level changes), decoded one by one as the recorder does.
``orjson.loads`` only parses into dicts and strings, before any check; turning each price and
quantity into an exact integer of 1e-8 in Python (``int`` of the digits, assuming spot's fixed
8 decimals, unchecked) gives what the book needs. Both are lower bounds for doing the same with
orjson (docs/benchmarks.md).

    uv run python -m bench.decode [--symbols 50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import orjson

from bench.common import frames, symbol_names, synced_books
from recorder.binance.wire import DepthUpdate, decode_frame
from recorder.book.fixedpoint import parse_levels


def per_frame_us(decode: Callable[[bytes], object], raws: list[bytes], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for raw in raws:
            decode(raw)
        best = min(best, time.process_time() - started)
    return best / len(raws) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    market, _ = synced_books(symbol_names(args.symbols))
    raws = [raw.encode() for raw, _ in frames(market, args.seconds)]
    mean_bytes = sum(map(len, raws)) / len(raws)
    print(f"{len(raws):,} frames, {mean_bytes:,.0f} B each on average, best of 5 passes")
    rows: list[tuple[str, Callable[[bytes], object]]] = [
        ("decode_frame (msgspec: header typed, checked; raw levels)", lambda r: decode_frame(r, 0)),
        ("decode_frame + the book's parse of both sides (exact)", decode_and_parse),
        ("orjson.loads (strings, unchecked)", orjson.loads),
        ("orjson.loads + int() per number (8 decimals assumed)", orjson_with_ints),
    ]
    for what, decode in rows:
        print(f"{what:<60} {per_frame_us(decode, raws):.2f} µs/frame")


_PRICES = np.empty(1 << 16, np.int64)
_QTYS = np.empty(1 << 16, np.int64)


def decode_and_parse(raw: bytes) -> object:
    update = decode_frame(raw, 0)
    assert isinstance(update, DepthUpdate)
    count = parse_levels(update.bids, _PRICES, _QTYS, 0)
    return parse_levels(update.asks, _PRICES, _QTYS, count)


def orjson_with_ints(raw: bytes) -> object:
    data = orjson.loads(raw)["data"]
    bids = [(int(p.replace(".", "")), int(q.replace(".", ""))) for p, q in data["b"]]
    return bids, [(int(p.replace(".", "")), int(q.replace(".", ""))) for p, q in data["a"]]


if __name__ == "__main__":
    main()
