"""Configuration of a recording run: frozen values built by the CLI (or by tests and the demo)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from recorder.binance.market import Market, is_symbol, spec
from recorder.errors import UsageError

DB_ENV = "OBREC_DB"
WEIGHT_SHARE = 0.8
"""Our default pace: 80 % of the market's REST weight per minute and IP."""
WEIGHT_PER_MINUTE = int(WEIGHT_SHARE * spec(Market.SPOT).weight_per_minute)
"""Spot's default pace: 4,800 of Binance's 6,000 (futures: 1,920 of 2,400)."""
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


def parse_symbols(text: str, market: Market | None = Market.SPOT) -> tuple[str, ...]:
    """``"btcusdt, ETHUSDT"`` -> ``("BTCUSDT", "ETHUSDT")``, order kept, duplicates dropped.

    ``@FILE`` reads them from a file: separated by commas, spaces or lines; ``#`` starts a comment.
    Futures symbols may also hold ``_`` (``BTCUSD_PERP``); ``market`` None accepts any market's
    spelling (readers: the database knows its symbols).
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
    markets = list(Market) if market is None else [market]
    bad = [s for s in symbols if not any(is_symbol(m, s) for m in markets)]
    if bad:
        kind = f" {market.value}" if market not in (None, Market.SPOT) else ""
        spelt = "letters and digits" if market is Market.SPOT else "letters, digits and _"
        example = spec(market or Market.COINM).symbol_example
        raise UsageError(f"not a{kind} symbol: {bad[0]!r}; symbols are {spelt}, e.g. {example}")
    return tuple(symbols)


@dataclass(frozen=True, slots=True)
class RecordConfig:
    symbols: tuple[str, ...]
    """Empty when ``all_quote`` is set."""
    db_path: Path
    depth: int = 20
    snapshot_limit: int = 1000
    market: Market = Market.SPOT
    """The one market recorded (docs/markets.md); the defaults below that say so are its."""
    rest_url: str = ""
    """Empty: the market's own (``https://data-api.binance.vision`` for spot)."""
    ws_url: str = ""
    """Empty: the market's own (``wss://data-stream.binance.vision`` for spot)."""
    flush_interval_s: float = 0.25
    grace_ms: int = 1000
    """How long past a quiet second's end (by exchange time) before it is final."""
    all_quote: str | None = None
    """Record every trading symbol with this quote asset (``--all-usdt``)."""
    retain_s: int | None = None
    """Prune what is older than this, hourly, inside the recorder (``--retain``)."""
    weight_per_minute: int = 0
    """Our pace in REST weight per minute (``--weight-budget``); 0: 80 % of the market's limit
    (spot 4,800 of 6,000, futures 1,920 of 2,400). Other clients on the IP are noticed through
    the exchange's own count and waited for."""
    exchange_weight_limit: int = 0
    """The exchange's weight per window; 0: the market's own."""
    exchange_weight_window_s: float = 60.0
    """The exchange's weight window (tests shorten the simulator's, and this with it)."""
    rollover_after_s: float = ROLLOVER_AFTER_HOURS * 3600.0
    """Replace each connection this long after it opened, before Binance closes it at 24 h."""

    def __post_init__(self) -> None:
        market = spec(self.market)
        for name, default in (
            ("rest_url", market.rest_base),
            ("ws_url", market.ws_base),
            ("exchange_weight_limit", market.weight_per_minute),
        ):
            if not getattr(self, name):
                object.__setattr__(self, name, default)
        if not self.weight_per_minute:
            share = int(
                WEIGHT_SHARE * self.exchange_weight_limit * 60 / self.exchange_weight_window_s
            )
            object.__setattr__(self, "weight_per_minute", share)
        if bool(self.symbols) == (self.all_quote is not None):
            raise UsageError("give either --symbols or --all-usdt")
        if self.all_quote is not None and self.market is Market.COINM:
            raise UsageError(
                "--all-usdt is for spot and usdm; COIN-M contracts are not quoted in USDT, "
                "so pass --symbols BTCUSD_PERP,..."
            )
        if not 1 <= self.depth <= MAX_DEPTH:
            raise UsageError(f"--depth {self.depth} is out of range; use 1 to {MAX_DEPTH}")
        if self.snapshot_limit not in market.depth_limits:
            allowed = ", ".join(map(str, market.depth_limits))
            raise UsageError(
                f"--snapshot-limit {self.snapshot_limit} is not one of {allowed} "
                f"(on {self.market.value})"
            )
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
