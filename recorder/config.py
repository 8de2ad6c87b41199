"""Configuration of a recording run: frozen values built by the CLI (or by tests and the demo)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from recorder.binance.endpoints import (
    DEPTH_LIMITS,
    REST_BASE,
    WEIGHT_BUDGET_PER_MINUTE,
    WS_BASE,
)
from recorder.errors import UsageError

DB_ENV = "OBREC_DB"
WEIGHT_PER_MINUTE = 4800
"""Our default pace: 80 % of Binance's 6,000 REST weight per minute and IP."""
MAX_DEPTH = 5000
ROLLOVER_AFTER_HOURS = 23
"""Our default connection age for a make-before-break rollover: Binance closes at 24 h."""
CONNECTION_LIFETIME_S = 24 * 3600
"""Binance closes every WebSocket connection at this age."""


def default_db_path() -> Path:
    """``$OBREC_DB``, else ``$XDG_DATA_HOME/obrec`` (``~/.local/share/obrec``)."""
    if env := os.environ.get(DB_ENV):
        return Path(env)
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "obrec"


def parse_symbols(text: str) -> tuple[str, ...]:
    """``"btcusdt, ETHUSDT"`` -> ``("BTCUSDT", "ETHUSDT")``, order kept, duplicates dropped.

    ``@FILE`` reads them from a file: separated by commas, spaces or lines; ``#`` starts a comment.
    """
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise UsageError(
                f"cannot read symbols from {path}: {exc.strerror}; "
                "pass --symbols BTCUSDT,ETHUSDT or @FILE with one symbol per line"
            ) from None
        text = ",".join(line.split("#", 1)[0].replace(" ", ",") for line in lines)
    symbols = dict.fromkeys(s.strip().upper() for s in text.split(",") if s.strip())
    if not symbols:
        raise UsageError("no symbols given; pass e.g. --symbols BTCUSDT,ETHUSDT")
    bad = [s for s in symbols if not s.isalnum() or not s.isascii()]
    if bad:
        raise UsageError(f"not a symbol: {bad[0]!r}; symbols are letters and digits, e.g. BTCUSDT")
    return tuple(symbols)


@dataclass(frozen=True, slots=True)
class RecordConfig:
    symbols: tuple[str, ...]
    """Empty when ``all_quote`` is set."""
    db_path: Path
    depth: int = 20
    snapshot_limit: int = 1000
    rest_url: str = REST_BASE
    ws_url: str = WS_BASE
    flush_interval_s: float = 0.25
    grace_ms: int = 1000
    """How long past a quiet second's end (by exchange time) before it is final."""
    all_quote: str | None = None
    """Record every trading symbol with this quote asset (``--all-usdt``)."""
    retain_s: int | None = None
    """Prune what is older than this, hourly, inside the recorder (``--retain``)."""
    weight_per_minute: int = WEIGHT_PER_MINUTE
    """Our pace in REST weight per minute: 80 % of Binance's 6,000 (``--weight-budget``). Other
    clients on the IP are noticed through the exchange's own count and waited for."""
    exchange_weight_limit: int = WEIGHT_BUDGET_PER_MINUTE
    exchange_weight_window_s: float = 60.0
    """The exchange's weight window (tests shorten the simulator's, and this with it)."""
    rollover_after_s: float = ROLLOVER_AFTER_HOURS * 3600.0
    """Replace each connection this long after it opened, before Binance closes it at 24 h."""

    def __post_init__(self) -> None:
        if bool(self.symbols) == (self.all_quote is not None):
            raise UsageError("give either --symbols or --all-usdt")
        if not 1 <= self.depth <= MAX_DEPTH:
            raise UsageError(f"--depth {self.depth} is out of range; use 1 to {MAX_DEPTH}")
        if self.snapshot_limit not in DEPTH_LIMITS:
            allowed = ", ".join(map(str, DEPTH_LIMITS))
            raise UsageError(f"--snapshot-limit {self.snapshot_limit} is not one of {allowed}")
        exchange_per_minute = int(self.exchange_weight_limit * 60 / self.exchange_weight_window_s)
        if not 0 < self.weight_per_minute <= exchange_per_minute:
            raise UsageError(
                f"--weight-budget {self.weight_per_minute} is out of range; use 1 to "
                f"{exchange_per_minute} (the exchange's limit per minute)"
            )
        if not 0 < self.rollover_after_s < CONNECTION_LIFETIME_S:
            raise UsageError(
                f"--rollover-after {self.rollover_after_s:g} s is out of range; use a duration "
                "under 24h (Binance closes connections at 24 h), e.g. 23h"
            )
        if self.snapshot_limit < self.depth:
            raise UsageError(
                f"--snapshot-limit {self.snapshot_limit} is below --depth {self.depth}; "
                "the REST snapshot must hold at least as many levels as are stored"
            )
