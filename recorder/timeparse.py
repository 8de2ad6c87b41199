"""Parse the times users type: unix seconds, ISO 8601 (UTC unless an offset is given), ``now``
and relative forms such as ``-15m``, ``-1h``, ``-2d``, ``-30s``. Pure: "now" is an argument."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from recorder.errors import UsageError

_RELATIVE = re.compile(r"^-(\d+)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_HINT = (
    "use unix seconds, ISO 8601 like 2026-01-01T00:00 (UTC unless an offset is given), "
    "now, or -15m/-1h/-2d"
)


def parse_time(text: str, now_s: int, *, option: str = "time") -> int:
    """Unix seconds for ``text``; UsageError naming ``option`` when it cannot be read."""
    value = text.strip()
    if value == "now":
        return now_s
    if value.isdigit():
        return int(value)
    if match := _RELATIVE.match(value):
        return now_s - int(match[1]) * _UNIT_S[match[2]]
    try:
        parsed = datetime.fromisoformat(
            value.replace("Z", "+00:00") if value.endswith("Z") else value
        )
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a time; {_HINT}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def format_time(ts_s: int) -> str:
    """ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(ts_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
