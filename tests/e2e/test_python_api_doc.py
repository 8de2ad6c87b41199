"""The example in docs/python-api.md runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
DOC = Path(__file__).parents[2] / "docs" / "python-api.md"


def test_the_documented_example_runs(demo_db: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    env = {**os.environ, "OBREC_DB": str(demo_db)}
    result = subprocess.run(
        [sys.executable, "-c", blocks[0]], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) >= 6
    assert "True" in lines  # db.at() past the end returns the last second
    assert any(line.startswith(("BTCUSDT", "ETHUSDT")) and "%" in line for line in lines)
