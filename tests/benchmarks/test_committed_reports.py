"""Every committed sweep report regenerates from its cells through ``python -m benchmarks``
(the installed bench plus the repository's targets), byte for byte."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
REPORTS = ("blind", "controllers", "frontier", "row_rungs", "scale")


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_a_committed_report_regenerates(name, tmp_path):
    committed = ROOT / "results" / name
    for file in ("cells.jsonl", "environment.json"):
        shutil.copy(committed / file, tmp_path / file)
    sweep = ROOT / "experiments" / f"{name}.yaml"
    subprocess.run(
        [sys.executable, "-m", "benchmarks", str(sweep), "--out", str(tmp_path), "--report-only"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (tmp_path / "report.md").read_text() == (committed / "report.md").read_text()
