from __future__ import annotations

import numpy as np
import pytest

from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators.group_thresholds import fit_group_thresholds, shifted_proba


def _scores(n=4000, n_groups=3, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n)
    y = (rng.random(n) < 0.25 + 0.15 * g).astype(int)
    scores = np.clip(0.35 * y + 0.12 * g + rng.normal(0.3, 0.15, n), 0, 1)
    return scores, y, g


@pytest.mark.parametrize(
    "spec",
    [
        ["demographic_parity_difference <= 0.05"],
        ["equalized_odds_difference <= 0.05"],
        ["equal_opportunity_difference <= 0.03"],
        ["demographic_parity_ratio >= 0.9"],
        ["false_positive_rate_difference <= 0.04", "demographic_parity_difference <= 0.1"],
    ],
)
def test_meets_constraints_on_fitting_rows_and_beats_trivial(spec):
    scores, y, g = _scores()
    constraints = parse_constraints(spec)
    metric = get_metric("accuracy")
    rule = fit_group_thresholds(scores, y, g, constraints, metric)
    pred = rule.predict(scores, g)
    assert rule.feasible
    for c in constraints:
        assert c.violation(c.value(y, pred, g)) <= 1e-9, str(c)
    unconstrained = (scores >= 0.5).astype(int)
    assert any(c.violation(c.value(y, unconstrained, g)) > 0 for c in constraints)
    assert np.mean(pred == y) > max(np.mean(y), 1 - np.mean(y))


def test_slack_tightens_and_proba_is_consistent():
    scores, y, g = _scores(seed=1)
    c = parse_constraints("demographic_parity_difference <= 0.1")
    metric = get_metric("accuracy")
    loose = fit_group_thresholds(scores, y, g, c, metric, slack=0.0)
    tight = fit_group_thresholds(scores, y, g, c, metric, slack=0.5)
    assert c[0].value(y, tight.predict(scores, g), g) <= 0.05 + 1e-9
    assert c[0].value(y, loose.predict(scores, g), g) <= 0.1 + 1e-9
    proba = tight.predict_proba(scores, g)
    assert proba.dtype == np.float64 and np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(proba >= 0.5, tight.predict(scores, g) == 1)
    for grp in range(3):  # monotone in the score within each group
        member = g == grp
        order = np.argsort(scores[member])
        assert np.all(np.diff(proba[member][order]) >= -1e-12)


def test_shifted_proba_extremes():
    s = np.array([0.0, 0.3, 1.0])
    assert shifted_proba(s, np.full(3, np.inf)).max() < 0.5
    assert shifted_proba(s, np.full(3, -np.inf)).min() >= 0.5
