"""The one exception tree of obrec.

Every error a user can meet derives from ``RecorderError`` and carries a message that names the
problem and, where there is one, the fix. ``cli.main`` is the only place that turns these into a
line on stderr and an exit code; library code raises, it never prints.

Library errors speak of the library's parameters (``from_s``, ``db_path``, ``force``): a message
writes each one it names as ``{name}`` and lists it in ``parameters``. ``str(error)`` says the
Python name; ``error.message(names)`` says the caller's, which is how the CLI puts its flag names
(``--from``, ``--db``, ``--force``) in, from one table in ``cli/common.py``.

    RecorderError                     exit 1 unless stated
    ├── UsageError                    exit 2: bad flag, bad time, unknown symbol, bad config
    │   ├── InvalidValueError         one parameter's impossible value (fields: which, what, why)
    │   ├── UnknownSymbolError        a symbol the exchange (or the database) does not know
    │   └── MarketMismatchError       recording one market into a database of another (fields)
    ├── StorageError                  RocksDB could not be opened, read or written
    │   ├── DatabaseLockedError       another process holds the write lock
    │   ├── DatabaseMissingError      no obrec database at the path (exit 2)
    │   └── CorruptValueError         a stored value does not decode; names the key
    ├── ExchangeError                 the exchange (or simulator) answered badly or not at all
    │   ├── RateLimitedError          429/418: REST calls must wait ``retry_after_s``
    │   └── MalformedMessageError     a frame or REST body that does not match Binance's schema
    └── LakeError                     the object store (S3) could not be reached or answered badly
        ├── LakeAccessError           exit 2: credentials refused, no such bucket (fields: url)
        └── LakeConflictError         exit 2: another recorder ships that symbol to that prefix
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path


class RecorderError(Exception):
    """Root of every obrec error; ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, *, parameters: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.parameters = parameters
        """The library parameters the message names, each written ``{name}`` in it."""

    def message(self, names: Mapping[str, str]) -> str:
        """The message with each named parameter called ``names[parameter]`` (default: itself)."""
        text = str(self.args[0]) if self.args else ""
        for parameter in self.parameters:
            text = text.replace("{" + parameter + "}", names.get(parameter, parameter))
        return text

    def __str__(self) -> str:
        return self.message({})


class UsageError(RecorderError):
    """The user asked for something malformed or impossible."""

    exit_code = 2


class InvalidValueError(UsageError):
    """One parameter's value is impossible; the fields say which, what it was and why."""

    def __init__(self, parameter: str, value: object, problem: str) -> None:
        self.parameter = parameter
        self.value = value
        self.problem = problem
        super().__init__(f"{{{parameter}}} {value} {problem}", parameters=(parameter,))


class UnknownSymbolError(UsageError):
    """A symbol that the exchange or the database does not know."""


class MarketMismatchError(UsageError):
    """One database holds one market: recording another into it is refused, before anything
    is written (docs/markets.md)."""

    def __init__(self, path: Path, stored: str, wanted: str) -> None:
        self.path = path
        self.stored = stored
        self.wanted = wanted
        super().__init__(
            f"{path} holds the {stored} market and cannot record {wanted}; record {wanted} "
            f"into another {{db_path}}, or pass {{market}} {stored}",
            parameters=("db_path", "market"),
        )


class StorageError(RecorderError):
    """RocksDB refused an open, read or write."""


class DatabaseLockedError(StorageError):
    """Another process (usually a running ``obrec record``) holds the write lock."""

    def __init__(self, path: Path, *, problem: str | None = None) -> None:
        self.path = path
        problem = problem or (
            "is in use by another obrec process (RocksDB lock held); "
            "stop the other recorder or choose another {db_path}"
        )
        super().__init__(f"{path} {problem}", parameters=("db_path",))


class DatabaseMissingError(StorageError):
    """The path holds no obrec database."""

    exit_code = 2

    def __init__(self, path: Path, *, problem: str | None = None) -> None:
        self.path = path
        message = f"{path} {problem}"
        if problem is None:
            message = f"no obrec database at {path}; pass {{db_path}} to a directory written by "
            message += "`obrec record`"
        super().__init__(message, parameters=("db_path",))


class CorruptValueError(StorageError):
    """A stored value does not decode."""

    def __init__(self, key: bytes, reason: str) -> None:
        self.key = key
        super().__init__(
            f"corrupt value at key {key.decode(errors='replace')!r}: {reason} "
            "(use {skip_corrupt} to carry on past it)",
            parameters=("skip_corrupt",),
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


class MalformedMessageError(ExchangeError):
    """A frame or REST body that does not match the documented schema."""


class LakeError(RecorderError):
    """The object store failed or could not be reached; worth retrying later."""

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")


class LakeAccessError(LakeError):
    """The store refused us (credentials, permissions) or the bucket does not exist: a
    configuration problem, not worth retrying until someone fixes it."""

    exit_code = 2


class LakeConflictError(LakeError):
    """A symbol is already shipped to the prefix by another database; prefixes are shared only
    by recorders with disjoint symbols."""

    exit_code = 2


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
