"""Every Python example of the README and docs/ runs: a page's blocks in order, in one
namespace, as a reader would paste them. Searches are capped at a few seconds (the code
path is the one the example shows; only the wait is shorter). The registration example of
docs/learners_and_mitigators.md runs in tests/test_docs_registration.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fairautoml
from fairautoml.estimators.base import FairSearchEstimator

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUN_ELSEWHERE = {"learners_and_mitigators.md"}  # tests/test_docs_registration.py
CAP_SECONDS = 4.0
PROBABILITY_WARNING = "fairautoml.exceptions.FairAutoMLWarning"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text())


def test_the_pages_run_elsewhere_are_run_there():
    with_python = {p.name for p in PAGES if _blocks(p)}
    assert {"README.md", "user_guide.md"} <= with_python  # the pattern still finds blocks
    registration = (REPO / "tests" / "test_docs_registration.py").read_text()
    for name in RUN_ELSEWHERE:
        assert name in with_python and f'"{name}"' in registration


@pytest.mark.slow
# a search capped at a few seconds may not reach a bound the example's budget reaches
@pytest.mark.filterwarnings("ignore::fairautoml.exceptions.InfeasibleWarning")
# said on the page: with membership probabilities, training mitigations read each row's
# most probable group
@pytest.mark.filterwarnings(f"ignore:The training mitigations:{PROBABILITY_WARNING}")
@pytest.mark.parametrize(
    "page", [p for p in PAGES if _blocks(p) and p.name not in RUN_ELSEWHERE], ids=lambda p: p.name
)
def test_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write files (automl.save)
    fit = FairSearchEstimator.fit  # FairAutoML's and FairAutoMLRegressor's

    def capped_fit(self, *args, **kwargs):
        if self.time_budget is None or self.time_budget > CAP_SECONDS:
            self.time_budget = CAP_SECONDS
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(FairSearchEstimator, "fit", capped_fit)
    namespace: dict = {}
    for i, code in enumerate(_blocks(page)):
        exec(compile(code, f"{page.name}[python block {i + 1}]", "exec"), namespace)
    fitted = [v for v in namespace.values() if isinstance(v, FairSearchEstimator)]
    assert fitted and all(hasattr(v, "best_config_") for v in fitted)
    assert namespace["fairautoml"] is fairautoml
