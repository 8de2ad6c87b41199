"""Library errors name library parameters; the CLI shows its flag names instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from recorder.cli.common import error_message
from recorder.errors import (
    DatabaseLockedError,
    DatabaseMissingError,
    InvalidValueError,
    UsageError,
)
from recorder.read import check_window


def test_a_message_names_parameters_for_python_and_flags_for_the_cli() -> None:
    error = UsageError("{from_s} (5) is after {to_s} (3)", parameters=("from_s", "to_s"))
    assert str(error) == "from_s (5) is after to_s (3)"
    assert error.message({"from_s": "--from"}) == "--from (5) is after to_s (3)"
    assert error_message(error) == "--from (5) is after --to (3)"


def test_braces_outside_the_named_parameters_are_left_alone() -> None:
    error = UsageError("symbol {x} in {levels}", parameters=("levels",))
    assert str(error) == "symbol {x} in levels"
    assert error_message(error) == "symbol {x} in --levels"


def test_check_window_keeps_the_cli_message() -> None:
    with pytest.raises(UsageError) as info:
        check_window(5, 3)
    assert info.value.parameters == ("from_s", "to_s")
    assert error_message(info.value) == "--from (5) is after --to (3); swap them"


def test_directory_errors_carry_the_path() -> None:
    missing = DatabaseMissingError(Path("/x"))
    assert missing.path == Path("/x")
    assert "pass db_path to a directory" in str(missing)
    assert "pass --db (or set OBREC_DB) to a directory" in error_message(missing)
    assert str(DatabaseMissingError(Path("/x"), problem="is odd")) == "/x is odd"
    locked = DatabaseLockedError(Path("/x"))
    assert error_message(locked).endswith("choose another --db (or set OBREC_DB)")


def test_invalid_value_fields_and_the_flag_derived_from_the_parameter() -> None:
    error = InvalidValueError("stale_by_s", 0, "must be positive")
    assert (error.parameter, error.value, error.problem) == ("stale_by_s", 0, "must be positive")
    assert str(error) == "stale_by_s 0 must be positive"
    assert error_message(error) == "--stale-by 0 must be positive"
