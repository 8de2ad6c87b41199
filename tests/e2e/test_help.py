"""Every command's --help works and shows an example; --version; shell completion."""

from __future__ import annotations

import os
import re
import subprocess
from importlib import metadata

import pytest
import typer

from recorder.cli.common import app  # importing recorder.cli registers the commands
from tests.e2e.conftest import OBREC, obrec

pytestmark = pytest.mark.e2e


def registered_commands() -> list[str]:
    """Every command registered on the app, so commands added later are covered too."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return list(group.commands)


def test_the_commands_are_found() -> None:
    assert {"record", "query", "export", "prune", "stats", "demo", "simulate", "config"} <= set(
        registered_commands()
    )


@pytest.mark.parametrize("command", registered_commands())
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = obrec(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: obrec {command} "), result.stdout
    # The docstring's last line: "Example: obrec <command> ..." (or "Examples", "Example (cron)").
    assert re.search(rf"Examples?( \([^)]*\))?: obrec {command}\b", result.stdout), result.stdout


def test_top_level_help_lists_every_command_and_the_global_options() -> None:
    result = obrec("--help")
    assert result.returncode == 0, result.stderr
    for command in registered_commands():
        assert re.search(rf"^  {command} ", result.stdout, re.MULTILINE), command
    for option in ("--config", "--version", "--install-completion", "--show-completion"):
        assert option in result.stdout


def test_no_arguments_prints_the_help() -> None:
    result = obrec()
    assert "Usage: obrec [OPTIONS] COMMAND [ARGS]..." in result.stdout + result.stderr


def test_version_is_the_installed_package_version() -> None:
    result = obrec("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"obrec {metadata.version('obrec')}\n"


def test_show_completion_prints_a_bash_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/bash")
    result = obrec("--show-completion", "bash")
    assert result.returncode == 0, result.stderr
    assert "_obrec_completion()" in result.stdout
    assert "complete -o default -F _obrec_completion obrec" in result.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [("obrec rec", "record"), ("obrec record --snap", "--snapshot-limit"), ("obrec co", "config")],
)
def test_bash_completion_completes_commands_and_options(words: str, expected: str) -> None:
    """What the installed script asks of obrec when Tab is pressed."""
    env = os.environ | {
        "_OBREC_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    result = subprocess.run(OBREC, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected]
