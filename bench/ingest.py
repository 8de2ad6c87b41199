"""Ingest: simulator-shaped frames through obrec's own decode -> sync -> book -> sampling path.

One process, one core, no network: frames are pre-generated JSON text exactly as the simulator
sends them, books start from 5,000-level REST snapshots, and every finalised second takes the
top 20 levels (and, with --encode, encodes them as the recorder would before writing).

    uv run python bench/ingest.py [--symbols 20] [--seconds 60] [--encode] [--no-freeze]
        [--market spot|usdm|coinm] [--snapshot-limit N]

``--market`` shapes the frames as that market's (futures: ``pu``, ``T``, ids that skip, their
quoting) and syncs by its continuity rule; books start from its largest REST snapshot.

``--no-freeze`` leaves the start-up objects in the collector's view, which the recorder does not
(``gc.freeze`` in ``app.py``): the difference is what freezing saves per event.
"""

from __future__ import annotations

import argparse
import gc
import time

from bench.common import frames, symbol_names, synced_books
from recorder.binance.market import Market
from recorder.binance.wire import DepthUpdate, decode_frame
from recorder.book.snapshot import Sample
from recorder.storage.codec import encode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--encode", action="store_true", help="also encode every snapshot")
    parser.add_argument("--no-freeze", action="store_true", help="skip gc.freeze()")
    parser.add_argument("--market", choices=[m.value for m in Market], default="spot")
    parser.add_argument(
        "--snapshot-limit", type=int, help="levels of the books' first snapshot (market's max)"
    )
    args = parser.parse_args()

    kind = Market(args.market)
    names = symbol_names(args.symbols, kind)
    market, syncs = synced_books(names, kind=kind, limit=args.snapshot_limit)
    assert all(s.live for s in syncs.values())
    stream = frames(market, args.seconds)
    changes = sum(raw.count("],[") + raw.count("[[") for raw, _ in stream)  # one per level
    levels = sum(len(s.book.bids) + len(s.book.asks) for s in syncs.values()) / 2 / len(syncs)

    snapshots = 0
    gc.collect()
    if not args.no_freeze:
        gc.freeze()
    started = time.process_time()
    for raw, recv_ms in stream:
        event = decode_frame(raw, recv_ms)
        assert isinstance(event, DepthUpdate)
        for outcome in syncs[event.symbol].on_event(event):
            if type(outcome) is Sample:
                snapshots += 1
                if args.encode:
                    encode(outcome)
    elapsed = time.process_time() - started

    print(
        f"{kind.value}: symbols {args.symbols}, market seconds {args.seconds}, "
        f"frames {len(stream):,}"
    )
    print(f"level changes {changes:,} (mean {changes / len(stream):.1f} per event)")
    print(f"book size at start: {levels:,.0f} levels per side on average")
    print(f"snapshots sampled {snapshots:,}{' and encoded' if args.encode else ''}")
    print(
        f"CPU {elapsed:.2f} s: {changes / elapsed:,.0f} level changes/s, "
        f"{len(stream) / elapsed:,.0f} events/s, {elapsed / len(stream) * 1e6:.1f} µs/event"
    )


if __name__ == "__main__":
    main()
