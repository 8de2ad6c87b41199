"""A running ``obrec record`` observed from outside: /metrics, /healthz, systemd, logs, panel."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import OBREC, Simulator, assert_one_line_error, obrec, spawn, stop

pytestmark = pytest.mark.e2e

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # anything but the newline ending a line
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PATIENCE_S = 60.0
"""How long a condition may take before the test gives up (it is a hang, not a timing check)."""


def read_until(stream: IO[str], pattern: str, seen: list[str]) -> re.Match[str]:
    """Read lines (appending them to ``seen``) until one matches ``pattern``."""
    while line := stream.readline():
        seen.append(line)
        if match := re.search(pattern, line):
            return match
    raise AssertionError(f"the stream ended before {pattern!r}")


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for_status(url: str, status: int) -> dict[str, object]:
    deadline = time.monotonic() + PATIENCE_S
    while True:
        code, body = get(url)
        if code == status or time.monotonic() > deadline:
            assert code == status, body
            doc: dict[str, object] = orjson.loads(body)
            return doc
        time.sleep(0.2)


def test_metrics_and_health_follow_the_run(simulator: Simulator, tmp_path: Path) -> None:
    recorder = spawn(
        "record",
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--db",
        str(tmp_path / "db"),
        "--metrics-port",
        "0",
        "--status-interval",
        "1",
        *simulator.endpoint_args(),
    )
    seen: list[str] = []
    try:
        assert recorder.stderr is not None
        url = read_until(recorder.stderr, r"metrics at (http://127\.0\.0\.1:\d+)/metrics", seen)
        base = url[1]
        healthy = wait_for_status(f"{base}/healthz", 200)
        assert healthy["status"] == "ok"
        assert healthy["live"] == 2
        check_metrics(f"{base}/metrics")
        read_until(recorder.stderr, r"INFO status: 2/2 live, [\d,]+ snapshots written", seen)

        assert stop(simulator.process)[0] == 0  # the exchange goes away: the books are lost
        unhealthy = wait_for_status(f"{base}/healthz", 503)
        assert unhealthy["status"] == "unhealthy"
        assert unhealthy["not_live"] == {"BTCUSDT": "resyncing", "ETHUSDT": "resyncing"}
        assert "not live: BTCUSDT, ETHUSDT" in str(unhealthy["reasons"])
        read_until(recorder.stderr, r"INFO status: 0/2 live", seen)
    finally:
        code, _, err = stop(recorder)
    assert code == 0, err
    assert not CONTROL.search("".join(seen) + err)


def check_metrics(url: str) -> None:
    code, body = get(url)
    assert code == 200
    values = {
        (s.name, s.labels.get("symbol", "")): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }
    for symbol in ("BTCUSDT", "ETHUSDT"):
        assert values["obrec_events_total", symbol] > 0
        assert values["obrec_level_changes_total", symbol] > 0
        assert values["obrec_symbol_live", symbol] == 1
    assert any(name == "obrec_last_stored_second" for name, _ in values)
    for name in (
        "obrec_snapshots_written_total",
        "obrec_rest_weight_total",
        "obrec_exchange_used_weight_1m",
        "obrec_write_seconds_count",
        "obrec_snapshot_delay_seconds_count",
        "obrec_disk_bytes",
    ):
        assert values[name, ""] > 0, name


def test_systemd_hears_ready_watchdog_and_stopping(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(PATIENCE_S)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.setenv("WATCHDOG_USEC", "1000000")
        recorder = spawn(
            "record",
            "--symbols",
            "BTCUSDT",
            "--db",
            str(tmp_path / "db"),
            "--log-format",
            "json",
            "--status-interval",
            "1",
            *simulator.endpoint_args(),
        )
        seen: list[str] = []
        try:
            messages = [sock.recv(4096).decode()]
            while not messages[-1].endswith("WATCHDOG=1"):
                messages.append(sock.recv(4096).decode())
            assert recorder.stderr is not None
            read_until(recorder.stderr, '"status":{', seen)
        finally:
            code, _, err = stop(recorder)
        while not messages[-1].startswith("STOPPING=1"):
            messages.append(sock.recv(4096).decode())
    assert code == 0, err
    assert messages[0].startswith("READY=1\nSTATUS=")
    lines = [orjson.loads(line) for line in [*seen, *err.splitlines()]]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    statuses = [line["status"] for line in lines if "status" in line]
    assert statuses[0]["symbols"] == 1


def test_a_panel_draws_the_symbols_on_a_terminal(simulator: Simulator, tmp_path: Path) -> None:
    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    rich_settings = (
        "COLUMNS",
        "LINES",
        "NO_COLOR",
        "FORCE_COLOR",
        "TTY_COMPATIBLE",
        "TTY_INTERACTIVE",
    )
    env = {k: v for k, v in os.environ.items() if k not in rich_settings} | {"TERM": "xterm"}
    args = ["record", "--symbols", "BTCUSDT,ETHUSDT", "--db", str(tmp_path / "db")]
    recorder = subprocess.Popen(
        [*OBREC, *args, *simulator.endpoint_args()],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    screen = ""
    deadline = time.monotonic() + PATIENCE_S
    try:
        while not re.search(r"ETHUSDT\s+live\s+\d+\.\d", screen) and time.monotonic() < deadline:
            if select.select([main], [], [], 1.0)[0]:
                screen += ANSI.sub("", os.read(main, 65536).decode(errors="replace"))
    finally:
        recorder.send_signal(signal.SIGTERM)
        code = recorder.wait(timeout=10)
        os.close(main)
    assert code == 0
    assert "obrec record: 2/2 live" in screen
    assert re.search(r"BTCUSDT\s+live\s+\d+\.\d", screen), screen
    assert re.search(r"ETHUSDT\s+live\s+\d+\.\d", screen), screen
    assert "recording 2 symbol(s)" in screen, "log lines go through the panel's console"


def test_bad_observer_options_are_one_line_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "db")
    bad_format = obrec("record", "--symbols", "BTCUSDT", "--db", db, "--log-format", "xml")
    assert_one_line_error(bad_format, 2, "--log-format", "text, json")
    bad_port = obrec("record", "--symbols", "BTCUSDT", "--db", db, "--metrics-port", "70000")
    assert_one_line_error(bad_port, 2, "--metrics-port 70000")
    # Without the metrics extra: a stand-in prometheus_client that cannot be imported.
    shadow = tmp_path / "shadow"
    (shadow / "prometheus_client").mkdir(parents=True)
    (shadow / "prometheus_client" / "__init__.py").write_text("raise ImportError('absent')\n")
    monkeypatch.setenv("PYTHONPATH", str(shadow))
    missing = obrec("record", "--symbols", "BTCUSDT", "--db", db, "--metrics-port", "0")
    assert_one_line_error(missing, 2, "pip install 'obrec[metrics]'")
    assert not (tmp_path / "db").exists()
