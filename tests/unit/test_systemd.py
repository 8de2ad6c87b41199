"""systemd notifications over a real unix datagram socket (abstract and path addresses)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from recorder.observe.systemd import Notifier, notify_systemd, watchdog_interval_s
from recorder.runstats import SymbolState
from tests.helpers import FakeRecorder


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket in the abstract namespace, and its systemd spelling (``@name``)."""
    name = f"obrec-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    yield sock, "@" + name
    sock.close()


def test_nothing_is_sent_without_notify_socket() -> None:
    assert Notifier.from_env({}) is None
    assert Notifier.from_env({"NOTIFY_SOCKET": ""}) is None
    assert Notifier.from_env({"NOTIFY_SOCKET": "vsock:2:1234"}) is None  # not a unix socket


def test_watchdog_interval_is_half_of_watchdog_usec_for_this_process() -> None:
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "20000000"}) == 10.0
    mine = {"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval_s(mine) == 1.5
    assert watchdog_interval_s({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "soon"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None


def test_an_abstract_address_receives_the_datagram(listener: tuple[socket.socket, str]) -> None:
    sock, address = listener
    notifier = Notifier.from_env({"NOTIFY_SOCKET": address})
    assert notifier is not None
    notifier.send("READY=1", "STATUS=2/2 live")
    notifier.close()
    assert sock.recv(4096) == b"READY=1\nSTATUS=2/2 live"


def test_a_path_address_receives_the_datagram(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        notifier = Notifier(path)
        notifier.send("WATCHDOG=1")
        notifier.close()
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_a_failed_send_is_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier(str(tmp_path / "nobody-listens"))
    notifier.send("READY=1")
    notifier.send("STATUS=x")
    notifier.close()
    assert len([r for r in caplog.records if "systemd notification" in r.message]) == 1


def run_notifier(listener: tuple[socket.socket, str], fake: FakeRecorder, count: int) -> list[str]:
    """Run ``notify_systemd`` until ``count`` datagrams arrived, stop it, return them all."""
    sock, address = listener
    sock.setblocking(False)

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        notifier = Notifier(address)
        stop = asyncio.Event()
        fake.ready.set()
        task = asyncio.create_task(notify_systemd(fake, stop, notifier, watchdog_s=0.01))
        got = [(await loop.sock_recv(sock, 4096)).decode() for _ in range(count)]
        stop.set()
        await task
        got.append((await loop.sock_recv(sock, 4096)).decode())
        notifier.close()
        return got

    return asyncio.run(main())


def test_ready_then_status_and_watchdog_then_stopping(listener: tuple[socket.socket, str]) -> None:
    fake = FakeRecorder({"BTCUSDT": SymbolState.LIVE})
    fake.totals.started_s = fake.totals.last_write_s = time.time()
    got = run_notifier(listener, fake, count=4)
    assert got[0] == "READY=1\nSTATUS=1/1 live, 0 snapshots written, 0 gaps (0 s), 0 resyncs, " + (
        "p99 snapshot delay -"
    )
    for message in got[1:4]:
        assert message.startswith("STATUS=1/1 live")
        assert message.endswith("\nWATCHDOG=1")
    assert got[-1].startswith("STOPPING=1\n")


def test_a_run_that_stopped_writing_is_not_petted(listener: tuple[socket.socket, str]) -> None:
    fake = FakeRecorder({"BTCUSDT": SymbolState.RESYNCING})
    fake.totals.started_s = fake.totals.last_write_s = time.time() - 3600
    got = run_notifier(listener, fake, count=4)
    assert got[0].startswith("READY=1\n")
    assert all("WATCHDOG" not in message for message in got)
    assert got[1].startswith("STATUS=0/1 live")
