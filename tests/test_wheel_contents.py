"""The wheel is the product: the bench a user runs, without the repository's harness
(the pinned-environment anchors, the acceptance targets), which ships in the sdist only."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
REPOSITORY_ONLY = (
    "benchmarks/",
    "fairautoml/bench/envs/",
    "fairautoml/bench/env_anchors.py",
    "fairautoml/bench/targets.py",
    "fairautoml/bench/scale_targets.py",
    "fairautoml/bench/variants.py",
)


def _build(kind: str, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "build", f"--{kind}", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.iterdir()
    return built


def repository_only(names: list[str]) -> list[str]:
    """The names that belong to the repository's harness, not the installed package."""
    return [n for n in names if n.startswith(REPOSITORY_ONLY)]


def test_the_harness_check_finds_a_harness_file():
    names = ["fairautoml/bench/report.py", "benchmarks/anchors/envs/fairgbm.txt"]
    assert repository_only(names) == ["benchmarks/anchors/envs/fairgbm.txt"]


@pytest.mark.slow
def test_the_wheel_carries_the_bench_but_not_the_repository_harness(tmp_path):
    names = zipfile.ZipFile(_build("wheel", tmp_path)).namelist()
    assert "fairautoml/bench/report.py" in names and "fairautoml/bench/cli.py" in names
    assert "fairautoml/bench/plugins.py" in names
    assert not repository_only(names), repository_only(names)
    assert not [n for n in names if n.endswith(".txt") and "/bench/" in n]  # no pinned envs


@pytest.mark.slow
def test_the_sdist_carries_the_repository_harness(tmp_path):
    with tarfile.open(_build("sdist", tmp_path)) as sdist:
        names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
    for path in (
        "benchmarks/anchors/envs/fairgbm.txt",
        "benchmarks/acceptance/targets.py",
        "experiments/",
    ):
        assert any(n.startswith(path) for n in names), path
