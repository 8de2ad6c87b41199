"""Shared fixtures: every test runs with obrec's environment isolated from the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

_ENV = ("OBREC_DB", "OBREC_REST_URL", "OBREC_WS_URL", "XDG_DATA_HOME")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
