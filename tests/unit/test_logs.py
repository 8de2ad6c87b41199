"""Log lines for journald and pipes: one line per record, no control characters, valid JSON."""

from __future__ import annotations

import logging
import re

import orjson

from recorder.observe.logs import FIELDS, JsonFormatter, TextFormatter, escape_controls

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NASTY = "bad frame \x1b[31mred\x1b[0m\nsecond line\r\ttab \x85 \x7f end"


def record(
    message: str, *, exc: bool = False, fields: dict[str, object] | None = None
) -> logging.LogRecord:
    error = ValueError("boom\nwith a newline")
    exc_info = (ValueError, error, None) if exc else None
    made = logging.LogRecord("obrec", logging.WARNING, __file__, 1, message, None, exc_info)
    if fields is not None:
        setattr(made, FIELDS, fields)
    return made


def test_escape_controls_makes_them_visible() -> None:
    assert escape_controls("a\nb\tc\x1b[0m\x85") == "a\\nb\\tc\\x1b[0m\\x85"
    assert escape_controls("plain BTCUSDT 97000.5 ✓") == "plain BTCUSDT 97000.5 ✓"


def test_a_text_line_is_one_line_without_control_characters() -> None:
    line = TextFormatter().format(record(NASTY, exc=True))
    assert not CONTROL.search(line)
    assert " WARNING bad frame \\x1b[31mred" in line
    assert "ValueError: boom\\nwith a newline" in line
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} WARNING ", line)


def test_a_json_line_is_one_object_that_keeps_the_message() -> None:
    line = JsonFormatter().format(record(NASTY, exc=True))
    assert not CONTROL.search(line)
    doc = orjson.loads(line)
    assert doc["level"] == "warning"
    assert doc["logger"] == "obrec"
    assert doc["message"].startswith("bad frame \x1b[31mred\x1b[0m\nsecond line")
    assert "\\x85" in doc["message"]  # C1 controls would reach the journal raw: escaped
    assert "ValueError: boom" in doc["exception"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", doc["time"])


def test_json_lines_carry_structured_fields() -> None:
    line = JsonFormatter().format(record("status: fine", fields={"status": {"live": 2}}))
    assert orjson.loads(line)["status"] == {"live": 2}
    assert "live" not in TextFormatter().format(record("fine", fields={"live": 2}))
