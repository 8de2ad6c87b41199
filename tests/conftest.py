"""Shared fixtures: every test runs with obrec's environment isolated from the user's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s3server import S3Server


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Beside tmp_path, not in it: libraries (matplotlib) create their own config folders there,
    # and tests assert on what a command left in tmp_path.
    home = tmp_path.with_name(tmp_path.name + "-home")
    # Every option reads an OBREC_* variable, and a config file under XDG_CONFIG_HOME.
    for name in list(os.environ):
        if name.startswith(("OBREC_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One real S3-compatible store (SeaweedFS) on 127.0.0.1 for the whole session."""
    server = S3Server(tmp_path_factory.mktemp("s3"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The store, with this test's environment holding its endpoint and credentials."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return s3_server
