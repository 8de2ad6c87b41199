"""Helpers shared by integration and end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

Levels = Sequence[Sequence[str]]


def exact(levels: Levels) -> list[tuple[Decimal, Decimal]]:
    """Levels as exact numbers: the recorder normalises spelling ("1.50000000" -> "1.5")."""
    return [(Decimal(p), Decimal(q)) for p, q in levels]


def mismatches(
    stored: Iterable[tuple[str, int, Levels, Levels]],
    truth: dict[tuple[str, int], tuple[Levels, Levels]],
) -> list[str]:
    """Every stored (symbol, second) whose book differs from the truth, or has no truth."""
    wrong = []
    for symbol, ts_s, bids, asks in stored:
        true = truth.get((symbol, ts_s))
        if true is None:
            wrong.append(f"{symbol}:{ts_s} has no truth")
        elif (exact(bids), exact(asks)) != (exact(true[0]), exact(true[1])):
            wrong.append(f"{symbol}:{ts_s} differs from the truth")
    return wrong


def truth_from_lines(
    lines: Iterable[dict[str, Any]],
) -> dict[tuple[str, int], tuple[Levels, Levels]]:
    return {(line["symbol"], line["ts"]): (line["bids"], line["asks"]) for line in lines}
