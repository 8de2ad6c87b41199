"""``obrec plot`` through the real CLI, on a directory filled by ``obrec demo``."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from tests.e2e.conftest import assert_one_line_error, obrec

pytestmark = pytest.mark.e2e
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def plot(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return obrec("plot", "--db", str(db), "--from", "0", *args)


def test_png_is_a_chart_with_bids_and_asks_in_its_heatmap(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "btc.png"
    result = plot(demo_db, "BTCUSDT", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    assert (width, height) == (2400, 1350)
    pixels = mpimg.imread(out)[:, :, :3]
    heatmap = pixels[int(height * 0.5) : int(height * 0.9), int(width * 0.1) : int(width * 0.8)]
    colours = np.unique((heatmap * 255).round().reshape(-1, 3), axis=0)
    assert len(colours) > 20
    red, blue = colours[:, 0].astype(int), colours[:, 2].astype(int)
    assert (blue - red > 60).sum() > 5  # bids
    assert (red - blue > 60).sum() > 5  # asks


def test_svg_by_flag_or_suffix_holds_the_symbol_as_text(demo_db: Path, tmp_path: Path) -> None:
    for out, extra in ((tmp_path / "eth", ["--format", "svg"]), (tmp_path / "eth.svg", [])):
        result = plot(demo_db, "ethusdt", "-o", str(out), "--levels", "3", *extra)
        assert result.returncode == 0, result.stderr
        root = ET.parse(out).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert any(
            "ETHUSDT" in "".join(e.itertext()) for e in root.iter() if e.tag.endswith("text")
        )


def test_an_existing_output_needs_force(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    out.write_bytes(b"keep me")
    assert_one_line_error(plot(demo_db, "BTCUSDT", "-o", str(out)), 2, str(out), "--force")
    assert out.read_bytes() == b"keep me"
    assert plot(demo_db, "BTCUSDT", "-o", str(out), "--force").returncode == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]  # no temporary file left


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["FOOBAR", "-o", "x.png"], ["FOOBAR", "BTCUSDT"]),
        (["BTCUSDT", "-o", "x.png", "--to", "10"], ["no snapshots", "widen --from/--to"]),
        (["BTCUSDT", "-o", "x.png", "--format", "gif"], ["--format", "png, svg"]),
        (["BTCUSDT", "-o", "x.jpg"], ["x.jpg", "--format"]),
        (["BTCUSDT", "-o", "x.png", "--levels", "0"], ["--levels", "1 to 5000"]),
    ],
)
def test_bad_plots_are_one_line_exit_2_and_write_nothing(
    demo_db: Path, tmp_path: Path, args: list[str], words: list[str]
) -> None:
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    assert_one_line_error(plot(demo_db, *args), 2, *words)
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_the_error_names_the_extra(demo_db: Path, tmp_path: Path) -> None:
    hide_matplotlib = (
        "import sys; sys.modules['matplotlib'] = None; from recorder.cli import main; main()"
    )
    args = ["plot", "BTCUSDT", "--db", str(demo_db), "--from", "0", "-o", str(tmp_path / "x.png")]
    result = subprocess.run(
        [sys.executable, "-c", hide_matplotlib, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert_one_line_error(result, 2, "pip install 'obrec[plot]'")


def test_plot_has_help() -> None:
    result = obrec("plot", "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout
