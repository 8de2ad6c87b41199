"""obrec's decode -> SymbolSync -> book path behind the peer benchmark's hook (docs/benchmarks.md).

    cp -r ../shared/peerbench /tmp/peerbench && cd /tmp/peerbench && ...   (its README)
    .venv/bin/python run.py --peers dict,python-binance --obrec bench.peer_hook:replay \\
        --obrec-path <this checkout> --runs 5

Drives ``SymbolSync`` exactly as the recorder does: frames decoded by ``decode_frame``, the REST
snapshot by ``decode_depth_snapshot``, Binance's rules inside ``SymbolSync``, and the top 20 of
every second that the recorder stores, taken on the way (work the peers do not do). Returns the
full book through the book's public ``top``, as the exact decimals the readers would get. Kept
here, beside the code it drives, so that it moves with it (the shared ``obrec_hook.py`` reaches
into the book's internals).
"""

from __future__ import annotations

from collections.abc import Iterable

from recorder.binance.wire import DepthUpdate, decode_depth_snapshot, decode_frame
from recorder.book.orderbook import BookSide
from recorder.book.snapshot import DECIMALS, Level
from recorder.book.sync import Outcome, SymbolSync
from recorder.storage.codec import format_decimal


def replay(snapshot_text: str, frames: Iterable[str]) -> dict[str, list[Level]]:
    """The peer benchmark's contract: snapshot text and frame texts in, the full book out."""
    sync = SymbolSync("BTCUSDT", depth=20)
    snapshot = decode_depth_snapshot(snapshot_text)
    out: list[Outcome] = []
    waiting = True
    for raw in frames:
        event = decode_frame(raw, 0)
        assert isinstance(event, DepthUpdate)
        out.clear()
        sync.on_event_into(event, out)
        if waiting:  # the snapshot answers the request the first event made
            sync.on_request_sent()
            sync.on_snapshot(snapshot)
            waiting = False
    assert sync.live, "obrec never synced"
    return {"bids": _levels(sync.book.bids), "asks": _levels(sync.book.asks)}


def _levels(side: BookSide) -> list[Level]:
    prices, qtys = side.top(len(side))
    return [
        (format_decimal(p, -DECIMALS), format_decimal(q, -DECIMALS))
        for p, q in zip(prices, qtys, strict=True)
    ]
