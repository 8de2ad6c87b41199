"""REST calls to a Binance-compatible endpoint: exchangeInfo and depth snapshots.

The only aiohttp client code for REST. Network failures, HTTP errors and bad bodies are translated
here into ``ExchangeError``; 429 and 418 become ``RateLimitedError`` carrying Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import orjson

from recorder.binance.endpoints import WEIGHT_HEADER, depth_url, exchange_info_url
from recorder.binance.market import Market
from recorder.binance.wire import (
    DepthSnapshot,
    decode_depth_snapshot,
    decode_trading_symbols,
)
from recorder.errors import ExchangeError, MalformedMessageError, RateLimitedError

_DEFAULT_RETRY_AFTER_S = 60.0


class RestClient:
    """Typed REST calls over one shared ``aiohttp.ClientSession``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        timeout_s: float = 10.0,
        *,
        market: Market = Market.SPOT,
        on_used_weight: Callable[[int], None] | None = None,
    ) -> None:
        self._session = session
        self._base_url = base_url
        self._market = market
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._on_used_weight = on_used_weight
        """Told the exchange's count of this IP's weight this minute, whenever an answer has it."""

    async def trading_symbols(self, quote: str | None = None) -> frozenset[str]:
        """Every trading symbol (with quote asset ``quote`` only, when given)."""
        url = exchange_info_url(self._base_url, market=self._market)
        body = await self._get(url)
        try:
            info = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedMessageError(f"{url} answered with non-JSON: {body[:80]!r}") from exc
        return decode_trading_symbols(info, quote, self._market)

    async def depth(self, symbol: str, limit: int) -> DepthSnapshot:
        return decode_depth_snapshot(
            await self._get(depth_url(self._base_url, symbol, limit, self._market))
        )

    async def _get(self, url: str) -> bytes:
        """The body of a 200 answer to ``url``."""
        try:
            async with self._session.get(url, timeout=self._timeout) as response:
                weight = response.headers.get(WEIGHT_HEADER)
                if weight is not None and weight.isdigit() and self._on_used_weight is not None:
                    self._on_used_weight(int(weight))
                body = await response.read()
                if response.status in (418, 429):
                    raise RateLimitedError(
                        response.status, _retry_after_s(response.headers.get("Retry-After")), url
                    )
                if response.status != 200:
                    raise ExchangeError(f"{url} answered HTTP {response.status}: {body[:200]!r}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ExchangeError(f"cannot reach {url}: {exc or type(exc).__name__}") from exc
        return body


def _retry_after_s(header: str | None) -> float:
    try:
        return max(0.0, float(header)) if header is not None else _DEFAULT_RETRY_AFTER_S
    except ValueError:
        return _DEFAULT_RETRY_AFTER_S
