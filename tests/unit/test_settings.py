"""The config file: keys to options, types checked, each mistake one line naming file and key."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest
import typer

from recorder.cli.common import app  # importing recorder.cli registers the commands
from recorder.cli.config import option_schema
from recorder.errors import UsageError
from recorder.settings import (
    OptionSpec,
    Schema,
    config_in_use,
    default_config_path,
    load_config,
    toml_value,
)

SCHEMA: Schema = {
    "record": [
        OptionSpec("symbols", "symbols", str, is_global=False),
        OptionSpec("all_usdt", "all-usdt", bool, is_global=False),
        OptionSpec("db", "db", Path, is_global=True),
        OptionSpec("depth", "depth", int, is_global=False),
        OptionSpec("snapshot_limit", "snapshot-limit", int, is_global=False),
    ],
    "query": [
        OptionSpec("from_", "from", str, is_global=False),
        OptionSpec("db", "db", Path, is_global=True),
    ],
    "demo": [
        OptionSpec("db", "db", Path, is_global=False),
        OptionSpec("depth", "depth", int, is_global=False),
    ],
    "simulate": [
        OptionSpec("drop_rate", "drop-rate", float, is_global=False),
        OptionSpec("ports", "ports", list[int], is_global=False),
    ],
}


def load(tmp_path: Path, text: str) -> dict[str, dict[str, object]]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path, SCHEMA)


def test_tables_set_their_command_and_top_level_keys_set_global_options(tmp_path: Path) -> None:
    found = load(
        tmp_path,
        'db = "/data/obrec"\n'
        "[record]\n"
        'symbols = ["BTCUSDT", "ETHUSDT"]\n'
        "snapshot_limit = 500\n"
        "all-usdt = false\n"
        "[query]\n"
        'db = "/elsewhere"\n'
        'from = "-1h"\n',
    )
    assert found["record"] == {
        "db": Path("/data/obrec"),
        "symbols": "BTCUSDT,ETHUSDT",
        "snapshot_limit": 500,
        "all_usdt": False,
    }
    assert found["query"] == {"db": Path("/elsewhere"), "from_": "-1h"}  # the table wins
    assert found["demo"] == {}  # demo's --db is its own (a temporary directory), not global
    assert found["simulate"] == {}


def test_values_are_converted_to_what_the_option_takes(tmp_path: Path) -> None:
    found = load(tmp_path, '[demo]\ndb = "~/demo"\n[simulate]\ndrop-rate = 1\nports = [1, 2]\n')
    assert found["demo"]["db"] == Path.home() / "demo"
    assert found["simulate"] == {"drop_rate": 1.0, "ports": [1, 2]}
    assert isinstance(found["simulate"]["drop_rate"], float)


def test_an_empty_file_sets_nothing(tmp_path: Path) -> None:
    assert load(tmp_path, "") == {name: {} for name in SCHEMA}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("depth = 5\n", ["'depth' is not a global option", "[record] or [demo]"]),
        ('dbb = "x"\n', ["unknown key 'dbb'", "did you mean 'db'", "top-level keys are db"]),
        ("[record]\ndept = 5\n", ["unknown key [record] dept", "did you mean 'depth'"]),
        ("[recrd]\ndepth = 5\n", ["unknown table [recrd]", "did you mean 'record'"]),
        ("record = 5\n", ["record is a command", "write [record] on a line of its own"]),
        ('[record]\ndepth = "5"\n', ["[record] depth must be an integer, not a string"]),
        ("[record]\ndepth = 5.0\n", ["[record] depth must be an integer, not a float"]),
        ("[record]\ndepth = true\n", ["must be an integer, not a boolean"]),
        ("[record]\nall-usdt = 1\n", ["[record] all-usdt must be true or false"]),
        ("[record]\nsymbols = [1, 2]\n", ["[record] symbols must be a string"]),
        ("[simulate]\ndrop-rate = true\n", ["drop-rate must be a number"]),
        ('[simulate]\nports = ["a"]\n', ["ports must be an array"]),
        ("db = 2026-01-01\n", ["db must be a path string, not a date or time"]),
        ("[record]\ndepth = { a = 1 }\n", ["depth must be an integer, not a table"]),
        ("[record]\nsnapshot-limit = 5\nsnapshot_limit = 6\n", ["snapshot_limit is given twice"]),
        ("[record]\ndepth = 5\ndepth = 6\n", ["not valid TOML", "line 3", "fix that line"]),
        ("[record]\ndepth =\n", ["not valid TOML", "line 2"]),
    ],
)
def test_mistakes_name_the_file_the_key_and_the_fix(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    with pytest.raises(UsageError) as info:
        load(tmp_path, text)
    message = str(info.value)
    assert message.startswith(f"config file {tmp_path / 'config.toml'}")
    assert "\n" not in message
    for word in words:
        assert word in message
    assert info.value.exit_code == 2


def test_a_file_that_cannot_be_read_or_decoded_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot read config file .*nope\.toml: No such file"):
        load_config(tmp_path / "nope.toml", SCHEMA)
    with pytest.raises(UsageError, match=r"cannot read config file .*Is a directory"):
        load_config(tmp_path, SCHEMA)
    (tmp_path / "latin1.toml").write_bytes(b'[record]\nsymbols = "\xe9"\n')
    with pytest.raises(UsageError, match=r"latin1\.toml is not UTF-8 text .*save it as UTF-8"):
        load_config(tmp_path / "latin1.toml", SCHEMA)


def test_the_default_file_is_used_only_when_it_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_config_path() == tmp_path / "obrec" / "config.toml"
    assert config_in_use(None) is None
    (tmp_path / "obrec").mkdir()
    (tmp_path / "obrec" / "config.toml").write_text("")
    assert config_in_use(None) == tmp_path / "obrec" / "config.toml"
    assert config_in_use(Path("~/given.toml")) == Path.home() / "given.toml"  # given: no check


def test_without_xdg_config_home_the_file_is_under_dot_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert default_config_path() == Path.home() / ".config" / "obrec" / "config.toml"


@pytest.mark.parametrize(
    ("value", "text", "read_back"),
    [
        (True, "true", True),
        (20, "20", 20),
        (0.25, "0.25", 0.25),
        (-math.inf, "-inf", -math.inf),
        ('a "b"\n', '"a \\"b\\"\\n"', 'a "b"\n'),
        (Path("/x y"), '"/x y"', "/x y"),
        (["a", 1], '["a", 1]', ["a", 1]),
    ],
)
def test_toml_value_writes_what_tomllib_reads_back(
    value: object, text: str, read_back: object
) -> None:
    assert toml_value(value) == text
    assert tomllib.loads(f"v = {text}")["v"] == read_back


def test_nan_is_written_as_toml_nan() -> None:
    assert math.isnan(tomllib.loads(f"v = {toml_value(math.nan)}")["v"])


def test_the_schema_comes_from_the_registered_commands() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    schema = {name: {s.key: s for s in specs} for name, specs in option_schema(group).items()}
    record = schema["record"]
    assert record["snapshot-limit"] == OptionSpec("snapshot_limit", "snapshot-limit", int, False)
    assert record["db"] == OptionSpec("db", "db", Path, is_global=True)
    assert record["symbols"].kind is str
    assert record["all-usdt"].kind is bool
    assert schema["query"]["format"].name == "output_format"
    assert schema["export"]["output"].name == "output"  # -o/--output: the long flag is the key
    assert not schema["demo"]["db"].is_global
    assert schema["simulate"]["drop-rate"].kind is float
