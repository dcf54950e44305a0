"""Composite candidates answer through their kind (fairautoml.study.kinds): nothing outside
the ensemble's own module branches on its name."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd

import fairautoml
from fairautoml.report.policy_costs import _describe
from fairautoml.search.ensemble import ENSEMBLE, ensemble_candidate
from fairautoml.study.kinds import SINGLE, kind_of
from fairautoml.study.trial import Candidate

ROOT = Path(fairautoml.__file__).parent
OWN = {ROOT / "search" / "ensemble.py"}  # the ensemble's own module
NAMES = {"ENSEMBLE", "is_ensemble", "members_of"}  # what asks whether a candidate is one

MEMBERS = [
    Candidate("logistic_regression", {"C": 1.0}, mitigator="reweighing"),
    Candidate("lightgbm", {"n_estimators": 20}),
    Candidate("logistic_regression", {"C": 0.1}),
]


def _name(node: ast.AST) -> str | None:
    return getattr(node, "id", getattr(node, "attr", None))


def branches_on_the_ensemble(source: str) -> list[int]:
    """Lines that compare anything with the ensemble's learner name (the string or
    ``ENSEMBLE``) or ask :data:`NAMES` (imported or called)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = (node.left, *node.comparators)
            if any(isinstance(o, ast.Constant) and o.value == ENSEMBLE for o in operands) or any(
                _name(o) == "ENSEMBLE" for o in operands
            ):
                lines.append(node.lineno)
        elif (isinstance(node, ast.ImportFrom) and {a.name for a in node.names} & NAMES) or (
            _name(node) in NAMES - {"ENSEMBLE"}
        ):
            lines.append(node.lineno)
    return lines


def test_nothing_outside_the_ensembles_module_branches_on_its_name():
    found = {
        str(p.relative_to(ROOT)): lines
        for p in sorted(ROOT.rglob("*.py"))
        if p not in OWN and (lines := branches_on_the_ensemble(p.read_text()))
    }
    assert found == {}


def test_the_check_finds_a_planted_branch():
    assert branches_on_the_ensemble('if cand.learner == "ensemble":\n    pass\n') == [1]
    assert branches_on_the_ensemble("x = row['learner'] != ensemble.ENSEMBLE\n") == [1]
    assert branches_on_the_ensemble("from fairautoml.search.ensemble import members_of\n")
    assert branches_on_the_ensemble("ok = is_ensemble(c)\n") == [1]
    assert branches_on_the_ensemble("if cand.kind.drawn:\n    pass\n") == []


def test_a_learner_is_a_single_trained_model():
    cand = Candidate("lightgbm", {"n_estimators": 20}, mitigator="reweighing")
    assert cand.kind is SINGLE and kind_of("no_such_learner") is SINGLE
    assert cand.describe() == "lightgbm + reweighing"
    assert cand.kind.member_learners(cand.learner_params) == []
    assert cand.kind.refitted(cand.learner_params)
    assert cand.kind.trained_model and cand.kind.drawn and cand.kind.fit is None
    assert cand.kind.board_params(cand.learner_params) == {}
    assert "kind" not in json.loads(cand.to_json())  # the record holds its fields only


def test_an_ensemble_answers_through_its_kind():
    cand = ensemble_candidate(MEMBERS, [1, 2, 1])
    kind = cand.kind
    assert kind is kind_of(ENSEMBLE) and kind is not SINGLE
    assert cand.describe() == "ensemble(logistic_regression, lightgbm)"
    assert kind.member_learners(cand.learner_params) == ["logistic_regression", "lightgbm"]
    assert cand.mitigators_used() == ("reweighing",)
    assert not kind.refitted(cand.learner_params)  # a mitigated member
    assert kind.refitted(ensemble_candidate(MEMBERS[1:], [1, 1]).learner_params)  # none
    assert not kind.trained_model and not kind.drawn and kind.fit is not None
    board = kind.board_params(cand.learner_params)
    assert board["weights"] == [1, 2, 1]
    assert board["members"][0] == {"learner": "logistic_regression", "C": 1.0,
                                   "mitigator": "reweighing"}  # fmt: skip
    # the report reads a leaderboard row's params column through the same kind
    row = pd.Series({"learner": ENSEMBLE, "params": json.dumps(board),
                     "mitigator": "none", "post": "threshold_optimizer"})  # fmt: skip
    assert _describe(row) == "ensemble(logistic_regression, lightgbm) + threshold_optimizer"
    plain = pd.Series({"learner": "lightgbm", "params": '{"n_estimators": 20}',
                       "mitigator": "reweighing", "post": "none"})  # fmt: skip
    assert _describe(plain) == "lightgbm + reweighing"
