"""Decode: one combined-stream frame into a typed DepthUpdate, against parsing it with orjson.

Frames are the simulator's (mean 36 level changes), decoded one by one as the recorder does.
``orjson.loads`` only parses into dicts and strings, before any check; with ``float()`` over
every price and quantity it gives what the array book needs, still unchecked. Both are lower
bounds for doing the same with orjson (docs/benchmarks.md).

    uv run python -m bench.decode [--symbols 50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import orjson

from bench.common import frames, symbol_names, synced_books
from recorder.binance.wire import decode_frame


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
        ("decode_frame (msgspec: typed, checked, doubles)", lambda r: decode_frame(r, 0)),
        ("orjson.loads (strings, unchecked)", orjson.loads),
        ("orjson.loads + float() per number (unchecked)", orjson_with_floats),
    ]
    for what, decode in rows:
        print(f"{what:<50} {per_frame_us(decode, raws):.2f} µs/frame")


def orjson_with_floats(raw: bytes) -> object:
    data = orjson.loads(raw)["data"]
    bids = [(float(p), float(q)) for p, q in data["b"]]
    return bids, [(float(p), float(q)) for p, q in data["a"]]


if __name__ == "__main__":
    main()
