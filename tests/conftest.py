"""Shared fixtures: every test runs with obrec's environment isolated from the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Beside tmp_path, not in it: libraries (matplotlib) create their own config folders there,
    # and tests assert on what a command left in tmp_path.
    home = tmp_path.with_name(tmp_path.name + "-home")
    # Every option reads an OBREC_* variable, and a config file under XDG_CONFIG_HOME.
    for name in list(os.environ):
        if name.startswith("OBREC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
