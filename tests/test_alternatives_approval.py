"""The incumbent's approval volume kept by one cut-off (fairautoml.alternatives.approval):
the cut-off approves the share asked on the rows it is chosen on, and an alternative that
cannot take one says why instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from fairautoml.alternatives import messages as M
from fairautoml.alternatives.approval import at_incumbent_rate, cannot_cut
from fairautoml.mitigators.cut import CutRule
from fairautoml.tasks import get_task


@dataclass
class _Scores:
    """A stand-in for a fitted alternative: its probabilities, task and rule."""

    proba: Any
    task: Any = field(default_factory=lambda: get_task("binary"))
    rule: Any = None


def test_the_cutoff_approves_the_incumbents_share_of_the_rows_it_is_chosen_on():
    """A 30% incumbent, scores spread evenly: the cut-off approves 30% of those rows and
    goes after the alternative's own rule as one threshold for every row."""
    proba = np.linspace(0.01, 0.99, 200)
    incumbent = np.zeros(200, dtype=int)
    incumbent[:60] = 1
    cut = at_incumbent_rate(_Scores(proba), proba, incumbent, 0.005)
    assert cut.why == "" and cut.approval == pytest.approx(0.3)
    assert np.mean(proba >= cut.cutoff) == pytest.approx(0.3)
    rule = cut.model.rule
    assert isinstance(rule, CutRule) and not rule.per_group and rule.calibration is None
    decided = rule.predict(proba, None)
    assert decided.mean() == pytest.approx(0.3)


def test_ties_that_keep_the_share_away_leave_the_alternative_uncut():
    """Probabilities that are decisions (0 or 1 only, half each) cannot approve 20%."""
    proba = np.repeat([0.0, 1.0], 50)
    incumbent = np.repeat([1, 0, 0, 0, 0], 20)
    cut = at_incumbent_rate(_Scores(proba), proba, incumbent, 0.005)
    assert cut.model is None and cut.cutoff is None
    assert "ties" in cut.why and "20.0%" in cut.why


def test_without_probabilities_out_of_its_training_rows_it_takes_no_cutoff():
    """In-sample scores would put the cut-off where new rows do not fall: none is set."""
    cut = at_incumbent_rate(_Scores([0.5]), None, np.array([1, 0, 0, 0]), 0.005)
    assert cut.model is None and cut.why == M.NO_CUT_HELD_OUT


@pytest.mark.parametrize(
    "model, why",
    [
        (_Scores([0.5], task=get_task("multiclass")), M.NO_CUT_CLASSES),
        (_Scores([0.5], rule=SimpleNamespace(draws=True, calibrates=False)), M.NO_CUT_RANDOMIZED),
        (_Scores([0.5], rule=SimpleNamespace(draws=False, calibrates=True)), ""),
    ],
)  # fmt: skip
def test_what_cannot_take_a_cutoff_says_why(model, why):
    assert cannot_cut(model) == why


def test_a_rule_that_decides_cannot_take_a_cutoff():
    """A rule whose probabilities are decisions dressed as probabilities is named."""
    rule = CutRule(np.array([0.4]))
    assert cannot_cut(_Scores([0.5], rule=rule)) == M.NO_CUT_RULE.format(rule="CutRule")
