"""The ``obrec`` command line: parse arguments, build config, call the library, render.

``main`` is the one place where a ``RecorderError`` becomes a line on stderr and an exit code
(0 ok or clean stop, 1 runtime error, 2 usage error). Data goes to stdout, logs to stderr.
Commands are plain functions in one module per area; they are registered here, in the order
``obrec --help`` lists them.
"""

from __future__ import annotations

import sys

from recorder.cli import backup, config, plot, read, record, ship, simulate
from recorder.cli.common import app, error_message, stderr
from recorder.errors import RecorderError

for command in (
    record.record,
    read.query,
    read.export,
    plot.plot,
    read.prune,
    read.stats,
    backup.backup,
    ship.ship,
    record.demo,
    simulate.simulate,
    config.config,
):
    app.command()(command)
app.callback()(config.global_options)


def main() -> None:
    """Entry point: the only place that turns product errors into messages and exit codes."""
    try:
        app(prog_name="obrec")  # also when started as ``python -m recorder``
    except RecorderError as exc:
        stderr.print(
            f"obrec: error: {error_message(exc)}", markup=False, highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)
