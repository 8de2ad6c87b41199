"""The one exception tree of obrec.

Every error a user can meet derives from ``RecorderError`` and carries a message that names the
problem and, where there is one, the fix. ``cli.main`` is the only place that turns these into a
line on stderr and an exit code; library code raises, it never prints.

    RecorderError                     exit 1 unless stated
    ├── UsageError                    exit 2: bad flag, bad time, unknown symbol, bad config
    │   └── UnknownSymbolError        a symbol the exchange (or the database) does not know
    ├── StorageError                  RocksDB could not be opened, read or written
    │   ├── DatabaseLockedError       another process holds the write lock
    │   ├── DatabaseMissingError      no obrec database at the path (exit 2)
    │   └── CorruptValueError         a stored value does not decode; names the key
    └── ExchangeError                 the exchange (or simulator) answered badly or not at all
        └── RateLimitedError          429/418: REST calls must wait ``retry_after_s``
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class RecorderError(Exception):
    """Root of every obrec error; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class UsageError(RecorderError):
    """The user asked for something malformed or impossible."""

    exit_code = 2


class UnknownSymbolError(UsageError):
    """A symbol that the exchange or the database does not know."""


class StorageError(RecorderError):
    """RocksDB refused an open, read or write."""


class DatabaseLockedError(StorageError):
    """Another process (usually a running ``obrec record``) holds the write lock."""


class DatabaseMissingError(StorageError):
    """The path holds no obrec database."""

    exit_code = 2


class CorruptValueError(StorageError):
    """A stored value does not decode."""

    def __init__(self, key: bytes, reason: str) -> None:
        self.key = key
        super().__init__(
            f"corrupt value at key {key.decode(errors='replace')!r}: {reason} "
            "(use --skip-corrupt to carry on past it)"
        )


class ExchangeError(RecorderError):
    """The exchange answered with an error, garbage, or not at all."""


class RateLimitedError(ExchangeError):
    """The exchange asked us to stop REST calls for a while (HTTP 429 or 418)."""

    def __init__(self, status: int, retry_after_s: float, url: str) -> None:
        self.status = status
        self.retry_after_s = retry_after_s
        kind = "IP banned (418)" if status == 418 else "rate limited (429)"
        super().__init__(f"{kind} by {url}; retry after {retry_after_s:g} s")


@contextlib.contextmanager
def first_product_error() -> Iterator[None]:
    """Around a ``TaskGroup``: a task that failed with a ``RecorderError`` (the disk is full, the
    port is taken) surfaces as that error, one line for the user, not as an ``ExceptionGroup``."""
    try:
        yield
    except ExceptionGroup as errors:
        first = errors.exceptions[0]
        if isinstance(first, RecorderError):
            raise first from errors
        raise
