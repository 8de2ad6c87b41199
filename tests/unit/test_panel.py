"""The live panel: not-live symbols first, cut to the terminal with "+N more", totals on top."""

from __future__ import annotations

import io

from rich.console import Console

from recorder.observe.panel import EventRates, render_panel
from recorder.runstats import SymbolState
from tests.helpers import FakeRecorder

NOW = 1_795_000_000.0


def draw(fake: FakeRecorder, width: int, height: int) -> list[str]:
    console = Console(file=io.StringIO(), width=width, height=height, color_system=None)
    console.print(render_panel(fake, {"BTCUSDT": 9.96}, NOW, console))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out.splitlines()


def many(live: int, resyncing: int, syncing: int) -> FakeRecorder:
    states = {f"L{i:04d}USDT": SymbolState.LIVE for i in range(live)}
    states |= {f"R{i:04d}USDT": SymbolState.RESYNCING for i in range(resyncing)}
    states |= {f"S{i:04d}USDT": SymbolState.SYNCING for i in range(syncing)}
    fake = FakeRecorder(states)
    fake.ready.set()
    fake.totals.started_s = NOW - 3725
    return fake


def test_few_symbols_show_every_row_with_their_numbers() -> None:
    fake = FakeRecorder({"BTCUSDT": SymbolState.LIVE, "ETHUSDT": SymbolState.RESYNCING})
    fake.ready.set()
    fake.totals.started_s = NOW - 3725
    fake.totals.snapshots_written = 12345
    fake.totals.last_write_s = NOW - 0.4
    fake.disk = 2_500_000
    btc = fake.stats["BTCUSDT"]
    btc.last_event_time_ms, btc.last_recv_ms, btc.last_stored_s = 1000, 1042, 1_795_000_000 - 2
    btc.gaps, btc.gap_seconds = 1, 3
    fake.syncs["ETHUSDT"].resyncs = 4
    lines = draw(fake, width=140, height=40)
    text = "\n".join(lines)
    assert "obrec record: 1/2 live · up 1:02:05 · 12,345 snapshots written (last 0.4 s ago)" in text
    assert "disk 2.5 MB" in text
    rows = [line.split() for line in lines if line.startswith(("BTCUSDT", "ETHUSDT"))]
    assert rows[0][:2] == ["ETHUSDT", "resyncing"], "not-live symbols come first"
    assert rows[0][-2:] == ["4", "0"]
    assert rows[1] == ["BTCUSDT", "live", "10.0", "42", "ms", "11:06:38", "0", "1", "(3", "s)"]
    assert "more" not in text


def test_many_symbols_fit_the_terminal_not_live_first_then_plus_n_more() -> None:
    lines = draw(many(live=1490, resyncing=4, syncing=6), width=100, height=20)
    assert len(lines) < 20
    rows = [line.split()[0] for line in lines if line.endswith(("0", "-", ")")) and "USDT" in line]
    assert rows[:4] == [f"R{i:04d}USDT" for i in range(4)]
    assert rows[4:10] == [f"S{i:04d}USDT" for i in range(6)]
    assert rows[10] == "L0000USDT"
    shown = len(rows)
    assert lines[-1] == f"+{1500 - shown} more ({1500 - shown} live, 0 not live)"


def test_a_narrow_terminal_wraps_the_totals_and_still_fits() -> None:
    lines = draw(many(live=50, resyncing=0, syncing=0), width=60, height=12)
    assert len(lines) < 12
    assert lines[-1].startswith("+")


def test_before_the_store_opens_the_panel_says_starting() -> None:
    fake = FakeRecorder({"BTCUSDT": SymbolState.SYNCING})
    assert draw(fake, 80, 20) == [
        "obrec record: starting (checking the symbols, opening the store)"
    ]


def test_event_rates_are_per_second_between_readings() -> None:
    rates = EventRates()
    rates.update({"A": 100, "B": 0}, now_s=10.0)
    assert rates.per_s == {}
    rates.update({"A": 120, "B": 5}, now_s=12.0)
    assert rates.per_s == {"A": 10.0, "B": 2.5}
