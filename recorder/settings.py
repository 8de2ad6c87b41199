"""The config file: where obrec looks for it, and which command options its keys set.

Keys mirror the flags. A table per command (``[record]``, ``[query]``...) holds that command's
long flags without the dashes (``snapshot-limit`` or ``snapshot_limit``). Top-level keys set the
global options, those that also read a fixed environment variable (``db`` is ``--db`` and
``$OBREC_DB``), for every command that has them; a table overrides them for its command.

The result is Click's ``default_map`` (command -> parameter name -> value), so Click resolves
each option as flag > environment > file > built-in default. This module knows nothing of Click:
the CLI describes the commands' options as ``OptionSpec`` values. Anything wrong with a file
(unreadable, invalid TOML, an unknown key, a value of the wrong type) is one ``UsageError`` that
names the file and the key.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from recorder.errors import UsageError

CONFIG_ENV = "OBREC_CONFIG"
ENV_PREFIX = "OBREC"
"""Every option without a variable of its own reads ``OBREC_<COMMAND>_<FLAG>``."""


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One command option as the config file sees it."""

    name: str
    """The parameter name: the key of Click's ``default_map``."""
    key: str
    """The long flag without its dashes: ``snapshot-limit``."""
    kind: Any
    """The option's Python type without ``None``: ``int``, ``str``, ``Path``, ``list[str]``..."""
    is_global: bool
    """It reads a fixed environment variable, so a top-level key sets it too."""


Schema = Mapping[str, Sequence[OptionSpec]]
"""Command name -> its options."""
DefaultMap = dict[str, dict[str, Any]]


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/obrec/config.toml`` (``~/.config/obrec/config.toml``)."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config_home) / "obrec" / "config.toml"


def config_in_use(given: Path | None) -> Path | None:
    """The file to read: the one given (``--config``, ``$OBREC_CONFIG``), else the default one."""
    if given is not None:
        return given.expanduser()
    path = default_config_path()
    return path if path.is_file() else None


def load_config(path: Path, schema: Schema) -> DefaultMap:
    """Read and check a config file; the values it sets, per command."""
    try:
        with path.open("rb") as file:
            doc = tomllib.load(file)
    except OSError as exc:
        raise UsageError(
            f"cannot read config file {path}: {exc.strerror}; "
            f"fix it, or point --config (or ${CONFIG_ENV}) at another file"
        ) from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"config file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}; fix that line") from None
    return _default_map(doc, schema, path)


def _default_map(doc: dict[str, Any], schema: Schema, path: Path) -> DefaultMap:
    found: DefaultMap = {command: {} for command in schema}
    for key, value in doc.items():
        if isinstance(value, dict):
            continue
        targets = [
            (command, spec)
            for command, specs in schema.items()
            for spec in specs
            if spec.is_global and spec.key == _normal(key)
        ]
        if not targets:
            raise _misplaced(path, key, schema)
        for command, spec in targets:
            found[command][spec.name] = _checked(value, spec, path, key)
    for table, entries in doc.items():
        if not isinstance(entries, dict):
            continue
        if table not in schema:
            raise UsageError(
                f"config file {path}: unknown table [{table}]{_did_you_mean(table, schema)}; "
                "tables are named after "
                f"commands: {', '.join(schema)}"
            )
        specs = {spec.key: spec for spec in schema[table]}
        seen: set[str] = set()
        for key, value in entries.items():
            where = f"[{table}] {key}"
            option = specs.get(_normal(key))
            if option is None:
                raise UsageError(
                    f"config file {path}: unknown key {where}{_did_you_mean(key, specs)}; "
                    f"the keys of [{table}] are its flags without dashes: {', '.join(specs)}"
                )
            if option.key in seen:
                raise UsageError(f"config file {path}: {where} is given twice; keep one")
            seen.add(option.key)
            found[table][option.name] = _checked(value, option, path, where)
    return found


def _normal(key: str) -> str:
    return key.replace("_", "-")


def _did_you_mean(key: str, known: Sequence[str] | Mapping[str, object]) -> str:
    close = difflib.get_close_matches(_normal(key), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _misplaced(path: Path, key: str, schema: Schema) -> UsageError:
    """A top-level key that sets no global option: say which table it belongs in, if any."""
    if key in schema:
        return UsageError(
            f"config file {path}: {key} is a command, so a table: write [{key}] on a line "
            "of its own, then its keys below it"
        )
    owners = [c for c, specs in schema.items() if any(s.key == _normal(key) for s in specs)]
    shared = sorted({s.key for specs in schema.values() for s in specs if s.is_global})
    if owners:
        return UsageError(
            f"config file {path}: {key!r} is not a global option; put it under "
            f"[{owners[0]}]" + "".join(f" or [{c}]" for c in owners[1:])
        )
    all_keys = {s.key for specs in schema.values() for s in specs}
    return UsageError(
        f"config file {path}: unknown key {key!r}{_did_you_mean(key, sorted(all_keys))}; "
        f"top-level keys are {', '.join(shared)}, other options go under [command] tables"
    )


def _checked(value: object, spec: OptionSpec, path: Path, where: str) -> Any:
    converted = _convert(value, spec.kind)
    if converted is None:
        raise UsageError(
            f"config file {path}: {where} must be {_describe(spec.kind)}, not {_toml_type(value)}"
        )
    return converted


def _convert(value: object, kind: Any) -> Any:
    """The value as the option takes it, or None if TOML gave the wrong type."""
    if get_origin(kind) in (list, tuple):
        (item, *_) = get_args(kind) or (str,)
        if not isinstance(value, list):
            return None
        items = [_convert(v, item) for v in value]
        return None if any(i is None for i in items) else items
    if kind is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None  # true is neither a number nor a string
    if kind is int:
        return value if isinstance(value, int) else None
    if kind is float:
        return float(value) if isinstance(value, int | float) else None
    if kind is Path:
        return Path(value).expanduser() if isinstance(value, str) else None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return ",".join(value)  # symbols = ["BTCUSDT", "ETHUSDT"] is --symbols BTCUSDT,ETHUSDT
    return value if isinstance(value, str) else None


def _describe(kind: Any) -> str:
    if get_origin(kind) in (list, tuple):
        return "an array"
    names = {bool: "true or false", int: "an integer", float: "a number", Path: "a path string"}
    return names.get(kind, "a string (or an array of strings, joined with commas)")


def _toml_type(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), "a date or time")


def toml_value(value: object) -> str:
    """A value as TOML writes it (``None`` has no TOML spelling: callers leave such keys out)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Enum):
        value = value.value
    return json.dumps(str(value), ensure_ascii=False)  # JSON string escapes are valid TOML
