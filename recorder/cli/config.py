"""The global options (``--config``, ``--version``) and ``obrec config``.

``global_options`` is the app callback. Click runs it after the global options are parsed and
before the command's own, so what it sets reaches the command: the config file's values as
Click's ``default_map``, and an environment variable for every option that has none of its own,
``OBREC_<COMMAND>_<FLAG>`` (``record --snapshot-limit``: ``OBREC_RECORD_SNAPSHOT_LIMIT``). Click
then resolves each option as flag > environment > file > default. The options are read from the
registered commands themselves, so options and commands added later take part unlisted.
"""

from __future__ import annotations

import inspect
import os
import typing
from enum import Enum
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer

from recorder.cli.common import choice, stderr
from recorder.errors import UsageError
from recorder.settings import (
    CONFIG_ENV,
    ENV_PREFIX,
    OptionSpec,
    Schema,
    config_in_use,
    default_config_path,
    load_config,
    toml_value,
)

_FILE_IN_USE = "obrec.config_file"
"""Key in ``ctx.meta`` (shared by every context of a run) of the config file read, or None."""
_SCHEMA = "obrec.option_schema"
"""Key in ``ctx.meta`` of the options' schema, built before environment variables are named."""


def _print_version(value: bool) -> None:
    if value:
        print(f"obrec {metadata.version('obrec')}")
        raise typer.Exit


def global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar=CONFIG_ENV,
            help="TOML file of option values [default: ~/.config/obrec/config.toml if present].",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Load the config file into Click's defaults and turn on per-option environment variables."""
    path = config_in_use(config)
    ctx.meta[_FILE_IN_USE] = path
    group = _group(ctx)
    ctx.meta[_SCHEMA] = schema = option_schema(group)
    if path is not None and ctx.invoked_subcommand != "config":  # it loads it when it shows it:
        ctx.default_map = load_config(path, schema)  # a broken file must not hide its own path
    _name_env_vars(group)


def _name_env_vars(group: typer.core.TyperGroup) -> None:
    """``OBREC_<COMMAND>_<FLAG>`` for every option without a variable of its own.

    Named after the flag, like the config keys (Click's ``auto_envvar_prefix`` would use the
    Python name: ``OBREC_QUERY_OUTPUT_FORMAT`` for ``--format``). Options with their own variable
    (``OBREC_DB``) are the global ones, so this runs after the config file's schema is built.
    """
    for name, command in group.commands.items():
        for option in _options(command):
            if option.envvar is None:
                option.envvar = f"{ENV_PREFIX}_{name}_{_key(option)}".upper().replace("-", "_")


def _group(ctx: typer.Context) -> typer.core.TyperGroup:
    root = ctx.find_root().command
    assert isinstance(root, typer.core.TyperGroup), "obrec has several commands"
    return root


def _options(command: Any) -> list[typer.core.TyperOption]:
    return [p for p in command.params if isinstance(p, typer.core.TyperOption)]


def _key(option: typer.core.TyperOption) -> str:
    """The config key of an option: its (first) long flag without the dashes."""
    return next((o[2:] for o in option.opts if o.startswith("--")), option.name)


def option_schema(group: typer.core.TyperGroup) -> Schema:
    """Every registered command's options, with the Python types their functions declare."""
    schema = {}
    for name, command in group.commands.items():
        hints = typing.get_type_hints(inspect.unwrap(command.callback)) if command.callback else {}
        schema[name] = [
            OptionSpec(
                name=option.name,
                key=_key(option),
                kind=_without_none(hints.get(option.name, str)),
                is_global=option.envvar is not None,
            )
            for option in _options(command)
        ]
    return schema


def _without_none(kind: Any) -> Any:
    """``int | None`` -> ``int``; any other type as it is."""
    args = typing.get_args(kind)
    rest = [a for a in args if a is not type(None)]
    return rest[0] if type(None) in args and len(rest) == 1 else kind


class ConfigAction(Enum):
    SHOW = "show"
    PATH = "path"


_SOURCES = {"COMMANDLINE": "flag", "ENVIRONMENT": "env", "DEFAULT_MAP": "file"}


def config(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="show (the default) or path.")] = "show",
    flags: Annotated[
        list[str] | None,
        typer.Argument(help="After --: flags of --command, resolved as that command would."),
    ] = None,
    command: Annotated[
        str | None, typer.Option("--command", help="Only this command's options.")
    ] = None,
) -> None:
    """Print the effective configuration as TOML, each value with where it came from; or the file.

    Precedence: flag > environment variable > config file > default.

    Examples: obrec config show --command record;
    obrec config show --command record -- --depth 50;
    obrec --config ./obrec.toml config show;
    obrec config path
    """
    if choice(ConfigAction, action, "config ACTION") is ConfigAction.PATH:
        _print_path(ctx.meta.get(_FILE_IN_USE))
        return
    group = _group(ctx)
    others = [name for name in group.commands if name != ctx.info_name]
    if command is not None and command not in others:
        raise UsageError(f"--command {command!r} is not one of {', '.join(others)}")
    if flags and command is None:
        raise UsageError("flags after -- belong to one command; name it with --command")
    path = ctx.meta.get(_FILE_IN_USE)
    if path is not None:
        ctx.find_root().default_map = load_config(path, ctx.meta[_SCHEMA])
    print("# obrec: effective configuration (flag > env > file > default)")
    print(f"# file: {path or f'none ({default_config_path()} does not exist)'}")
    for name in [command] if command else others:
        print(f"\n[{name}]")
        print(_table(ctx, group.commands[name], name, flags or []))


def _print_path(path: Path | None) -> None:
    print(path or default_config_path())
    if path is None:
        stderr.print("no config file there yet; obrec uses flags, env and defaults", style="dim")


def _table(ctx: typer.Context, command: Any, name: str, flags: list[str]) -> str:
    """One command's options resolved exactly as Click resolves them when the command runs."""
    root = ctx.find_root()
    resolved = command.make_context(name, list(flags), parent=root, resilient_parsing=True)
    rows = []
    for option in _options(command):
        source = resolved.get_parameter_source(option.name)
        origin = _SOURCES.get(source.name, "default") if source else "default"
        value = resolved.params.get(option.name)
        if origin == "env":
            origin = f"env {_envvar(option)}"
        key = _key(option)
        if value is None and origin != "default":  # resilient parsing dropped a bad value
            raise UsageError(f"--{key}: the value from {origin} is not valid")
        text = f"{key} = {toml_value(value)}" if value is not None else f"# {key} is not set"
        rows.append((text, origin))
    width = max((len(text) for text, _ in rows), default=0)
    return "\n".join(f"{text:<{width}}  # {origin}" for text, origin in rows)


def _envvar(option: typer.core.TyperOption) -> str:
    """The variable an option's value came from (the first set, if it has several)."""
    names = [option.envvar] if isinstance(option.envvar, str) else list(option.envvar or ())
    return next(n for n in names if os.environ.get(n))
