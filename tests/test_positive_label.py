"""Which outcome is favourable: ``pos_label`` / ``--positive-label``, and a warning when a
constraint depends on it and fairautoml had to assume it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML
from fairautoml.cli import main
from fairautoml.data.labels import encode_target
from fairautoml.exceptions import InputError, PositiveLabelWarning
from fairautoml.measures.constraints import parse_constraint
from fairautoml.study.pick import VERDICT_EXITS
from fairautoml.testing import make_biased

FAST = dict(n_trials=3, time_budget=None, random_state=0, learners=["logistic_regression"])
EOPP = "equal_opportunity_difference <= 0.1"


def test_encode_target_puts_the_favourable_label_second():
    y = ["low", "high", "low", "high"]
    codes, classes = encode_target(y, 4)
    assert list(classes) == ["high", "low"] and list(codes) == [1, 0, 1, 0]  # sorts last
    codes, classes = encode_target(y, 4, pos_label="high")
    assert list(classes) == ["low", "high"] and list(codes) == [0, 1, 0, 1]
    # a label typed on the command line matches a numeric class by its text
    assert list(encode_target(np.array([3, 7, 7]), 3, pos_label="3")[0]) == [1, 0, 0]
    with pytest.raises(InputError, match=r"pos_label='yes' is not a class of y; the classes "
                       r"are \['high', 'low'\]"):  # fmt: skip
        encode_target(y, 4, pos_label="yes")


def test_which_constraints_depend_on_the_favourable_outcome():
    symmetric = ["demographic_parity_difference <= 0.1", "equalized_odds_difference <= 0.1"]
    assert not any(parse_constraint(c).needs_positive_label for c in symmetric)
    for text in (EOPP, "demographic_parity_ratio >= 0.8", "false_positive_rate_difference <= 1"):
        assert parse_constraint(text).needs_positive_label


def test_swapping_labels_leaves_the_symmetric_metrics_unchanged():
    """The reason the two differences need no warning, checked with fairlearn's values."""
    rng = np.random.default_rng(0)
    y, pred, s = rng.integers(0, 2, 300), rng.integers(0, 2, 300), rng.choice(["a", "b"], 300)
    for text in ("demographic_parity_difference <= 1", "equalized_odds_difference <= 1"):
        c = parse_constraint(text)
        assert c.value(y, pred, s) == pytest.approx(c.value(1 - y, 1 - pred, s))
    c = parse_constraint("equal_opportunity_difference <= 1")
    assert c.value(y, pred, s) != pytest.approx(c.value(1 - y, 1 - pred, s))


def _named(y):
    return pd.Series(np.where(y == 1, "approved", "denied"))  # "denied" sorts last


def test_the_favourable_label_is_used_said_and_recorded():
    X, y, s = make_biased(n=800, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PositiveLabelWarning)  # named: no guess, no warning
        est = FairAutoML(EOPP, pos_label="approved", **FAST).fit(X, _named(y), s)
    assert list(est.classes_) == ["denied", "approved"]
    assert est.best_config_["positive_label"] == "approved"
    pred, truth = est.predict(X, s), _named(y).to_numpy()
    assert set(pred) == {"approved", "denied"}
    # labels map back the right way round, and predict_proba's second column is "approved"
    approved = truth == "approved"
    assert approved[pred == "approved"].mean() > approved[pred == "denied"].mean()
    proba = est.predict_proba(X, s)[:, 1]
    assert proba[approved].mean() > proba[~approved].mean()


def test_an_assumed_favourable_label_is_warned_about_only_where_it_matters():
    X, y, s = make_biased(n=800, seed=1)
    with pytest.warns(PositiveLabelWarning, match=r"'denied' \(the label that sorts last\)"):
        est = FairAutoML(EOPP, **FAST).fit(X, _named(y), s)
    assert est.best_config_["positive_label"] == "denied"
    with warnings.catch_warnings():
        warnings.simplefilter("error", PositiveLabelWarning)
        FairAutoML("demographic_parity_difference <= 0.1", **FAST).fit(X, _named(y), s)
        FairAutoML(EOPP, **FAST).fit(X, y, s)  # 0/1 labels say which is positive


def test_cli_positive_label(tmp_path, capsys):
    X, y, s = make_biased(n=800, seed=1)
    path = tmp_path / "loans.csv"
    X.assign(group=s, outcome=_named(y)).to_csv(path, index=False)
    args = [str(path), "--target", "outcome", "--sensitive", "group", "--constraint", EOPP,
            "--n-trials", "3", "-q"]  # fmt: skip
    assert main(["fit", *args, "--positive-label", "approved"]) in VERDICT_EXITS
    out, err = capsys.readouterr()
    assert "the share predicted 'approved', the favourable outcome" in out
    assert "PositiveLabel" not in err and "sorts last" not in err
    assert main(["fit", *args]) in VERDICT_EXITS
    out, err = capsys.readouterr()
    assert "warning: " in err and "'denied' (the label that sorts last)" in err
    assert main(["fit", *args, "--positive-label", "granted"]) == 2
    assert "pos_label='granted' is not a class of y" in capsys.readouterr().err
