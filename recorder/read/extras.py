"""The optional extras of the read side, checked before their modules are imported.

``arrow.py`` and ``plot.py`` import numpy, pyarrow or matplotlib at their top, so importing them
without the extra fails with ``ImportError``; callers ``require`` the extra first and get one
``UsageError`` that says what to install (never at import time, so the modules import cleanly
where the extra is installed, and tools can import every module).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from recorder.errors import UsageError


@dataclass(frozen=True, slots=True)
class Extra:
    modules: tuple[str, ...]
    """What must be importable."""
    missing: str
    """What to tell the user when one is not."""


PARQUET = Extra(
    ("numpy", "pyarrow"),
    "Parquet and DataFrames need the parquet extra: pip install 'obrec[parquet]' "
    "(or uv sync --extra parquet)",
)
POLARS = Extra(("polars",), "to_polars needs polars: pip install polars")
PLOT = Extra(
    ("numpy", "matplotlib"),
    "charts need the plot extra: pip install 'obrec[plot]' (or uv sync --extra plot)",
)


def require(extra: Extra) -> None:
    """UsageError naming what to install unless every module of ``extra`` can be imported."""
    if any(importlib.util.find_spec(module) is None for module in extra.modules):
        raise UsageError(extra.missing)
