"""The config file through the real CLI: flag > env > file > default, and bad files."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer

from recorder.cli.common import app
from tests.e2e.conftest import assert_one_line_error, obrec

pytestmark = pytest.mark.e2e


def show(*args: str) -> tuple[dict[str, Any], dict[str, str]]:
    """``obrec config show``: its values (it is TOML) and each key's source comment."""
    result = obrec(*args)
    assert result.returncode == 0, result.stderr
    values = tomllib.loads(result.stdout)
    sources = dict(
        re.findall(r"^#? ?([\w-]+)(?: = .*?| is not set)\s+# (.+)$", result.stdout, re.M)
    )
    return values, sources


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_each_level_beats_the_ones_below_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "c.toml", "")
    base = ("--config", str(config), "config", "show", "--command", "record")
    values, sources = show(*base)
    assert values["record"]["depth"] == 20
    assert sources["depth"] == "default"

    write(config, "[record]\ndepth = 30\n")
    values, sources = show(*base)
    assert (values["record"]["depth"], sources["depth"]) == (30, "file")

    monkeypatch.setenv("OBREC_RECORD_DEPTH", "40")
    values, sources = show(*base)
    assert (values["record"]["depth"], sources["depth"]) == (40, "env OBREC_RECORD_DEPTH")

    values, sources = show(*base, "--", "--depth", "50")
    assert (values["record"]["depth"], sources["depth"]) == (50, "flag")


def test_every_source_at_once_and_every_record_option_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path / "c.toml",
        f'db = "{tmp_path / "from-file"}"\n'
        'rest-url = "http://file"\n'
        "[record]\n"
        'symbols = ["BTCUSDT", "ETHUSDT"]\n'
        "snapshot_limit = 500\n"
        'log-level = "error"\n',
    )
    monkeypatch.setenv("OBREC_DB", str(tmp_path / "from-env"))  # the explicit, older variable
    monkeypatch.setenv("OBREC_RECORD_LOG_LEVEL", "warning")
    monkeypatch.setenv("OBREC_RECORD_ALL_USDT", "1")
    values, sources = show(
        "--config", str(config), "config", "show", "--command", "record", "--",
        "--log-level", "debug",
    )  # fmt: skip
    expected_values = {
        "symbols": "BTCUSDT,ETHUSDT",
        "all-usdt": True,
        "db": str(tmp_path / "from-env"),
        "depth": 20,
        "snapshot-limit": 500,
        "rest-url": "http://file",
        "ws-url": None,  # unset: the market's own, chosen when recording
        "log-level": "debug",
    }
    assert {key: values["record"].get(key) for key in expected_values} == expected_values
    expected_sources = {
        "symbols": "file",
        "all-usdt": "env OBREC_RECORD_ALL_USDT",
        "db": "env OBREC_DB",
        "depth": "default",
        "snapshot-limit": "file",
        "rest-url": "file",
        "ws-url": "default",
        "retain": "default",
        "log-level": "flag",
    }
    assert {key: sources.get(key) for key in expected_sources} == expected_sources
    record = typer.main.get_command(app).commands["record"]  # type: ignore[attr-defined]
    options = {p.opts[0].removeprefix("--") for p in record.params if p.opts[0].startswith("--")}
    assert set(sources) == options - {"help"}, "every option of record is shown"


def test_show_prints_a_file_that_reads_back_to_the_same_values(tmp_path: Path) -> None:
    result = obrec("config", "show", "--command", "record", "--", "--symbols", "SOLUSDT")
    assert result.returncode == 0, result.stderr
    config = write(tmp_path / "c.toml", result.stdout)
    values, sources = show("--config", str(config), "config", "show", "--command", "record")
    assert values == tomllib.loads(result.stdout)
    assert sources["symbols"] == sources["depth"] == "file"
    assert sources["retain"] == "default"  # unset values are comments


def test_show_without_command_covers_every_other_command() -> None:
    values, _ = show("config", "show")
    assert {"record", "query", "export", "prune", "stats", "demo", "simulate"} <= set(values)
    assert "config" not in values


def test_stats_db_comes_from_flag_env_file_or_default(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real command: each level names a different directory and the winner is the one used."""
    default = Path(os.environ["XDG_DATA_HOME"]) / "obrec"
    assert_one_line_error(obrec("stats"), 2, f"no obrec database at {default}")

    config = write(
        Path(os.environ["XDG_CONFIG_HOME"]) / "obrec" / "config.toml", f'db = "{demo_db}"\n'
    )
    result = obrec("stats", "--format", "json")  # the default config file is found
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["path"] == str(demo_db)

    monkeypatch.setenv("OBREC_DB", str(tmp_path / "from-env"))
    assert_one_line_error(obrec("stats"), 2, f"no obrec database at {tmp_path / 'from-env'}")

    result = obrec("stats", "--db", str(demo_db), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["path"] == str(demo_db)
    assert config.exists()


def test_query_takes_its_table_and_env_values(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "c.toml", f'db = "{demo_db}"\n[query]\nformat = "csv"\nlevels = 1\n')
    monkeypatch.setenv("OBREC_CONFIG", str(config))
    result = obrec("query", "BTCUSDT", "--from", "-10m")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert header.endswith("asks[0].price,asks[0].amount,bids[0].price,bids[0].amount")

    monkeypatch.setenv("OBREC_QUERY_FORMAT", "jsonl")
    result = obrec("query", "BTCUSDT", "--from", "-10m")
    assert orjson.loads(result.stdout.splitlines()[0])["symbol"] == "BTCUSDT"

    result = obrec("query", "BTCUSDT", "--from", "-10m", "--format", "json")
    assert orjson.loads(result.stdout)[0]["symbol"] == "BTCUSDT"


def test_config_path_names_the_file_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = Path(os.environ["XDG_CONFIG_HOME"]) / "obrec" / "config.toml"
    result = obrec("config", "path")
    assert (result.returncode, result.stdout) == (0, f"{default}\n")
    assert "no config file there yet" in result.stderr

    write(default, "")
    assert obrec("config", "path").stdout == f"{default}\n"
    other = write(tmp_path / "other.toml", "")
    monkeypatch.setenv("OBREC_CONFIG", str(other))
    assert obrec("config", "path").stdout == f"{other}\n"
    given = write(tmp_path / "given.toml", "")
    assert obrec("--config", str(given), "config", "path").stdout == f"{given}\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[record]\ndept = 5\n", ["unknown key [record] dept", "did you mean 'depth'"]),
        ('[record]\ndepth = "5"\n', ["[record] depth must be an integer, not a string"]),
        ("depth = 5\n", ["'depth' is not a global option", "[record]"]),
        ("[record]\ndepth = \n", ["is not valid TOML", "line 2"]),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(tmp_path: Path, text: str, words: list[str]) -> None:
    config = write(tmp_path / "c.toml", text)
    result = obrec("--config", str(config), "stats")
    assert_one_line_error(result, 2, f"config file {config}", *words)


def test_a_missing_or_unreadable_file_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing.toml"
    assert_one_line_error(
        obrec("--config", str(missing), "stats"), 2, f"cannot read config file {missing}"
    )
    monkeypatch.setenv("OBREC_CONFIG", str(tmp_path))
    assert_one_line_error(obrec("stats"), 2, f"{tmp_path}: Is a directory", "--config")


def test_version_and_help_work_with_a_broken_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "c.toml", "oops")
    monkeypatch.setenv("OBREC_CONFIG", str(config))
    assert obrec("--version").returncode == 0
    assert obrec("--help").returncode == 0
    # config path is how one finds the broken file; config show reports what is wrong with it.
    assert obrec("config", "path").stdout == f"{config}\n"
    assert_one_line_error(obrec("config", "show"), 2, f"config file {config}", "not valid TOML")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["config", "show", "--command", "nope"], ["--command 'nope' is not one of record"]),
        (["config", "show", "--", "--depth", "5"], ["name it with --command"]),
        (["config", "list"], ["config ACTION 'list' is not one of show, path"]),
    ],
)
def test_bad_config_command_usage_is_exit_2(args: list[str], words: list[str]) -> None:
    assert_one_line_error(obrec(*args), 2, *words)


def test_show_reports_an_env_value_the_command_would_refuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OBREC_RECORD_DEPTH", "deep")
    result = obrec("config", "show", "--command", "record")
    assert_one_line_error(result, 2, "--depth", "env OBREC_RECORD_DEPTH")


@pytest.mark.parametrize("doc", ["README.md", "docs/configuration.md"])
def test_the_documented_example_file_is_accepted(doc: str, tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / doc).read_text()
    block = re.search(r"^    # ~/\.config/obrec/config\.toml\n((?:    .*\n|\n)+)", text, re.M)
    assert block, f"{doc} has no example config file"
    config = write(tmp_path / "c.toml", "\n".join(line[4:] for line in block[1].splitlines()))
    values, sources = show("--config", str(config), "config", "show")
    assert values["record"]["symbols"] == "BTCUSDT,ETHUSDT"
    assert values["stats"]["db"] == values["export"]["db"] == "/srv/obrec"
    assert values["export"]["format"] == "parquet"
    assert sources["retain"] == "file"


@pytest.mark.parametrize("name", ["obrec.toml", "instance.toml.example"])
def test_the_shipped_deploy_configs_load(name: str) -> None:
    config = Path(__file__).parents[2] / "deploy" / name
    values, sources = show("--config", str(config), "config", "show", "--command", "record")
    assert values["record"]["log-format"] == "json", "journald gets JSON lines"
    assert sources["metrics-port"] == sources["symbols"] == "file"
    assert values["record"]["db"].startswith("/var/lib/obrec/"), "its StateDirectory"
