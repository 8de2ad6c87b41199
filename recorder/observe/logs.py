"""Log lines for journald, files and pipes: one record per line, no control characters.

``text`` (the default): ``2026-01-01T00:00:00+0000 INFO message``. ``json``: one object per
line with ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, ``exception`` when there
is one, and any structured ``fields`` a call passes (the status line carries its numbers).
Newlines and other control characters in a message (a traceback, a garbage frame quoted in a
warning) are escaped, so a record is always one line and nothing reaches a terminal or the
journal as a control sequence. The periodic status line lives here too.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from datetime import UTC, datetime
from enum import Enum

import orjson

from recorder.observe.summary import Observed, status_text, summarize

log = logging.getLogger("obrec")

FIELDS = "fields"
"""``extra={FIELDS: {...}}`` adds keys to a JSON line (text lines carry the message only)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DEL_AND_C1 = re.compile(r"[\x7f-\x9f]")  # JSON escapes C0 itself; these it would pass through
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class LogFormat(Enum):
    TEXT = "text"
    JSON = "json"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def escape_controls(text: str) -> str:
    """``text`` with every C0, DEL and C1 character written as a visible escape."""
    return _CONTROL.sub(_escape, text)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _DEL_AND_C1.sub(_escape, record.getMessage()),
        }
        if record.exc_info:
            doc["exception"] = _DEL_AND_C1.sub(_escape, self.formatException(record.exc_info))
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            doc.update(fields)
        return orjson.dumps(doc, default=str).decode()


def line_handler(log_format: LogFormat) -> logging.Handler:
    """A stderr handler writing one escaped line per record."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if log_format is LogFormat.TEXT else JsonFormatter())
    return handler


async def log_status(observed: Observed, interval_s: float) -> None:
    """Log a one-line summary every ``interval_s`` once recording (for runs without a panel)."""
    while True:
        await asyncio.sleep(interval_s)
        summary = summarize(observed)
        if summary.ready:
            log.info(
                "status: %s",
                status_text(summary),
                extra={FIELDS: {"status": summary.as_dict()}},
            )
