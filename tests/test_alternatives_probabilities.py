"""Less discriminatory alternatives with membership probabilities (BISG) instead of groups:
the paired comparison's regression estimates are each model's own (checked by hand), its
draws are shared by both models, an alternative is found where one truly is less disparate
and not where none is, the attribution is skipped and said so, bad inputs name their fix
(the fit's messages), and the command line end to end."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fairautoml
from fairautoml.alternatives import messages as AM
from fairautoml.alternatives.page import render
from fairautoml.cli import main
from fairautoml.data.memberships import MEMBERSHIP_SUM
from fairautoml.data.prepare import BOTH_GROUPS_AND_PROBABILITIES
from fairautoml.estimators.context import PROBABILITIES_MISSING_GROUPS
from fairautoml.exceptions import FairAutoMLError, InputError
from fairautoml.measures import messages as MM
from fairautoml.measures.membership import ASSUMPTIONS, membership_measures
from fairautoml.measures.paired import LESS_DISCRIMINATORY, paired_comparison

DP = "demographic_parity_difference <= 0.05"
QUICK = {"time_budget": None, "learners": ["logistic_regression"], "ensemble": False}


def _memberships(is_b: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Calibrated probabilities of groups a and b from a signal no feature carries (a
    surname's): P(b | z) for z ~ N(+-1.5, 1) is the logistic of 3 z."""
    z = rng.normal(loc=np.where(is_b, 1.5, -1.5))
    p_b = 1 / (1 + np.exp(-3 * z))
    return pd.DataFrame({"a": 1 - p_b, "b": p_b})


def _lender(n: int, seed: int, penalty: float):
    """An outcome that does not depend on the group, and an incumbent trained on labels
    that held group b back by ``penalty`` (through ``proxy``, nearly the group): (incumbent,
    X, y, P) on rows the incumbent was not trained on."""
    rng = np.random.default_rng(seed)
    is_b = rng.random(n) < 0.5
    X = pd.DataFrame({
        "income": rng.normal(size=n), "proxy": is_b + rng.normal(scale=0.3, size=n),
        "tenure": rng.normal(size=n),
    })  # fmt: skip
    merit = X["income"] + 0.5 * X["tenure"] + rng.normal(scale=0.7, size=n)
    y = pd.Series((merit > 0).astype(int), name="approved")
    history = (merit - penalty * is_b > 0).astype(int)
    incumbent = make_pipeline(StandardScaler(), LogisticRegression())
    incumbent.fit(X.iloc[: n // 3], history[: n // 3])
    P = _memberships(is_b, rng)
    rest = slice(n // 3, None)
    return (incumbent, *(t.iloc[rest].reset_index(drop=True) for t in (X, y, P)))


@pytest.fixture(scope="module")
def disparate():
    return _lender(4500, 1, penalty=1.2)


@pytest.fixture(scope="module")
def found(disparate):
    incumbent, X, y, P = disparate
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fairautoml.find_alternatives(
            incumbent, X, y, group_probabilities=P, tolerance=0.02, n_trials=4, n_compare=2,
            random_state=0, **QUICK,
        )  # fmt: skip


# --- the paired comparison with probabilities ---------------------------------------------


def _small_table(n: int = 600, seed: int = 3):
    rng = np.random.default_rng(seed)
    is_b = rng.random(n) < 0.4
    P = _memberships(is_b, rng)
    y = rng.integers(0, 2, n)
    incumbent = (rng.random(n) < np.where(is_b, 0.6, 0.3)).astype(int)
    alternative = (rng.random(n) < np.where(is_b, 0.45, 0.4)).astype(int)
    return y, incumbent, alternative, P


def _by_hand(decisions: np.ndarray, P: pd.DataFrame) -> tuple[float, float]:
    """The regression's and the plain weighted demographic parity difference, by hand:
    least squares of the decisions on the probabilities (no intercept), and each row
    counted toward each group by its probability."""
    rates, *_ = np.linalg.lstsq(P.to_numpy(), decisions.astype(float), rcond=None)
    weighted = (P.to_numpy() * decisions[:, None]).sum(axis=0) / P.to_numpy().sum(axis=0)
    return abs(rates[1] - rates[0]), abs(weighted[1] - weighted[0])


def test_the_paired_estimates_are_each_models_own_regression_estimates():
    """Each model's value in the paired comparison is the regression estimate of that model
    alone on the same rows (by hand and as membership_measures has it); the plain weighted
    value beside it is the hand one too."""
    y, incumbent, alternative, P = _small_table()
    comparison = paired_comparison(
        y, incumbent, alternative, None, DP, group_probabilities=P, n_boot=200, random_state=0
    )
    found = comparison.disparity("demographic_parity_difference")
    for side, decisions in (("incumbent", incumbent), ("alternative", alternative)):
        regression, weighted = _by_hand(decisions, P)
        alone = membership_measures(y, decisions, P, DP, n_boot=20).estimate(found.name)
        assert getattr(found, side) == pytest.approx(regression, abs=1e-12)
        assert alone.regression == pytest.approx(regression, abs=1e-12)
        assert comparison.plain_weighted[found.name][side] == pytest.approx(weighted, abs=1e-12)
        assert weighted < regression  # the weighted estimator understates the gap
    assert found.difference == pytest.approx(found.alternative - found.incumbent)
    assert comparison.estimator == "regression"


def test_both_models_are_measured_on_the_same_draw():
    """The same decisions on both sides: every draw's difference is exactly 0, which only
    a draw shared by both models gives; different decisions: the interval brackets the
    observed difference."""
    y, incumbent, alternative, P = _small_table()
    same = paired_comparison(
        y, incumbent, incumbent.copy(), None, DP, group_probabilities=P, n_boot=100,
        random_state=0,
    )  # fmt: skip
    assert same.disparities[0].interval == (0.0, 0.0)
    assert same.disparities[0].standard_error == 0.0
    other = paired_comparison(
        y, incumbent, alternative, None, DP, group_probabilities=P, n_boot=300, random_state=0
    )
    low, high = other.disparities[0].interval
    assert low < other.disparities[0].difference < high < 0  # truly less disparate


def test_groups_and_probabilities_together_are_refused():
    y, incumbent, alternative, P = _small_table()
    with pytest.raises(InputError, match=re.escape(MM.PAIRED_GROUPS_AND_PROBABILITIES)):
        paired_comparison(y, incumbent, alternative, np.zeros(len(y)), DP, group_probabilities=P)


# --- the search ----------------------------------------------------------------------------


def test_a_truly_less_disparate_alternative_is_found(found, disparate):
    """The incumbent holds group b back through the proxy; a model trained on the outcome
    does not: it is found, and its disparity is the regression's on the evidence rows."""
    _, X, _, P = disparate
    assert found.verdict_ == LESS_DISCRIMINATORY and found.best_ is not None
    best = found.alternatives_[found.alternatives_["verdict"] == LESS_DISCRIMINATORY].iloc[0]
    rows = found.evidence_rows_
    own = [str(c) for c in found.best_.feature_names_in_]  # a feature set's columns only
    decisions = (found.best_.predict(X.iloc[rows][own]) == 1).astype(int)
    regression, weighted = _by_hand(decisions, P.iloc[rows].reset_index(drop=True))
    assert best["demographic_parity_difference"] == pytest.approx(regression, abs=1e-9)
    assert best["demographic_parity_difference (plain weighted)"] == pytest.approx(weighted)
    assert best["delta_demographic_parity_difference_high"] < 0
    inc = found.incumbent_
    assert (
        inc["demographic_parity_difference (plain weighted)"] < inc["demographic_parity_difference"]
    )


def test_the_attribution_and_the_drivers_read_the_probabilities(found, tmp_path):
    """The incumbent's gap in score, split by feature, is the regression's: the proxy that
    holds group b back drives it, a search without it runs, and the page and the JSON
    state the estimator's assumptions."""
    attribution = found.attribution_["incumbent"]
    assert attribution["groups"] == ["a", "b"] and attribution["gap"] > 0
    assert attribution["features"][0]["feature"] == "proxy"
    assert abs(attribution["residual"]) < 1e-9  # the terms add up to the gap
    assert found.search_["drivers"][0]["feature"] == "proxy"
    names = [s["name"] for s in found.search_["feature_sets"]]
    assert "without proxy" in names
    record = found.settings_["group_probabilities"]
    assert record["estimator"] == "regression" and record["groups"] == ["a", "b"]
    page = render(found)
    assert "Groups as membership probabilities" in page and "(plain weighted)" in page
    assert ASSUMPTIONS[0].replace("'", "&#x27;") in page
    saved = json.loads((found.save(tmp_path) / "alternatives.json").read_text())
    assert saved["settings"]["group_probabilities"]["assumptions"] == list(ASSUMPTIONS)


def test_a_fair_incumbent_has_no_less_discriminatory_alternative():
    """An incumbent trained on the outcome, which does not depend on the group: nothing is
    claimed."""
    incumbent, X, y, P = _lender(4500, 2, penalty=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fairautoml.find_alternatives(
            incumbent, X, y, group_probabilities=P, tolerance=0.02, n_trials=4, n_compare=2,
            random_state=0, **QUICK,
        )  # fmt: skip
    assert result.verdict_ != LESS_DISCRIMINATORY and result.best_ is None


@pytest.mark.parametrize(
    "change, error, fix",
    [
        ({"sensitive_features": "proxy"}, InputError, BOTH_GROUPS_AND_PROBABILITIES),
        ({"unnormalised": True}, InputError, MEMBERSHIP_SUM.split("{")[0]),
        ({"decision_rule": "proxy"}, FairAutoMLError, "Leave decision_rule at 'group_free'"),
        ({"missing_groups": "infer"}, FairAutoMLError, PROBABILITIES_MISSING_GROUPS),
        ({"sensitive_bins": {"group": [0.5]}}, FairAutoMLError, "Leave sensitive_bins out"),
        ({"no_groups": True}, InputError, AM.NO_GROUPS),
    ],
)
def test_bad_inputs_say_their_fix(disparate, change, error, fix):
    incumbent, X, y, P = disparate
    change = dict(change)
    if change.pop("unnormalised", False):
        P = P.assign(a=P["a"] * 0.9)
    if change.pop("no_groups", False):
        P = None
    with pytest.raises(error, match=re.escape(fix)):
        fairautoml.find_alternatives(
            incumbent, X, y, group_probabilities=P, n_trials=1, **change, **QUICK
        )


def test_the_command_line_takes_the_probability_columns(disparate, tmp_path):
    """--group-probabilities COL1,COL2: the columns are the probabilities, not features;
    with --sensitive too, or a column the CSV lacks, a bad input (exit status 2)."""
    incumbent, X, y, P = disparate
    table = X.assign(approved=y.to_numpy(), score=incumbent.predict_proba(X)[:, 1],
                     p_a=P["a"].to_numpy(), p_b=P["b"].to_numpy())  # fmt: skip
    table.to_csv(tmp_path / "data.csv", index=False)
    common = ["alternatives", str(tmp_path / "data.csv"), "--target", "approved",
              "--incumbent-scores", "score", "--approval-rate", "0.3", "--n-trials", "3",
              "--learners", "logistic_regression", "--tolerance", "0.02"]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main([*common, "--group-probabilities", "p_a,p_b", "--out", str(tmp_path / "o")])
    record = json.loads((tmp_path / "o" / "alternatives.json").read_text())
    assert status == {"less discriminatory": 0, "none found with confidence": 1}[record["verdict"]]
    assert record["settings"]["group_probabilities"]["groups"] == ["p_a", "p_b"]
    features = record["search"]["feature_sets"][0]["features"]
    assert "p_a" not in features and "p_b" not in features
    assert main([*common, "--group-probabilities", "p_a,p_b", "--sensitive", "proxy"]) == 2
    assert main([*common, "--group-probabilities", "p_a,p_c"]) == 2
    assert main(common) == 2  # neither groups nor probabilities
