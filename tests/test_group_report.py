"""fairness_report and the progress bar."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate

from fairautoml import FairAutoML
from fairautoml.exceptions import NotFittedError
from fairautoml.progress import SearchProgress
from fairautoml.testing import make_biased


@pytest.fixture(scope="module")
def fitted():
    X, y, s = make_biased(n=800, n_groups=3, seed=5)
    y = y.map({0: "no", 1: "yes"})  # string classes: rates count classes_[1] ("yes")
    automl = FairAutoML(
        "demographic_parity_difference <= 0.1", n_trials=4, time_budget=None, random_state=0,
        learners=["logistic_regression"], decision_rule="proxy",
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    return automl, X, y, s


def test_report_per_group_matches_fairlearn(fitted):
    automl, X, y, s = fitted
    report = automl.fairness_report(X, y, sensitive_features=s)
    assert isinstance(report, MetricFrame)
    table = report.by_group
    assert list(table.columns) == [
        "count", "selection_rate", "true_positive_rate", "false_positive_rate", "accuracy",
    ]  # fmt: skip
    assert sorted(table.index) == sorted(s.unique())
    assert table["count"].sum() == len(X)
    pred = (automl.predict(X, sensitive_features=s) == "yes").astype(int)
    truth = (y == "yes").astype(int).to_numpy()
    for group in table.index:
        member = (s == group).to_numpy()
        assert table.loc[group, "selection_rate"] == pytest.approx(
            selection_rate(truth[member], pred[member])
        )
        assert table.loc[group, "true_positive_rate"] == pytest.approx(
            true_positive_rate(truth[member], pred[member])
        )
        assert table.loc[group, "accuracy"] == pytest.approx(np.mean(pred[member] == truth[member]))


def test_report_with_intersections():
    X, y, s = make_biased(n=800, seed=6)
    both = pd.DataFrame({"group": s, "other": np.where(X["x1"] > 0, "p", "q")})
    automl = FairAutoML(
        "demographic_parity_difference <= 0.2", n_trials=2, time_budget=None, random_state=0,
        learners=["logistic_regression"], min_group_size=10,
    ).fit(X, y, sensitive_features=both)  # fmt: skip
    table = automl.fairness_report(X, y, sensitive_features=both).by_group
    assert table.index.nlevels == 2 and len(table) == 4 and table["count"].sum() == len(X)


def test_report_needs_a_fitted_model():
    with pytest.raises(NotFittedError):
        FairAutoML().fairness_report(np.zeros((2, 2)), [0, 1], [0, 1])


def test_progress_bar_shows_trials_best_and_time_left():
    out = io.StringIO()
    bar = SearchProgress(None, 30.0, metric="accuracy", verbose=1, file=out)
    bar.update(0.71, fair=False)
    assert "best fair accuracy=none yet" in out.getvalue()
    bar.update(0.69, fair=True)
    bar.close()
    text = out.getvalue()
    assert "trials=2" in text and "best fair accuracy=0.6900" in text and "left=" in text
    counted = io.StringIO()
    with SearchProgress(5, None, verbose=1, file=counted) as bar:
        bar.update(0.5)
    assert "1/5" in counted.getvalue()


def test_verbose_zero_is_silent(capsys):
    X, y, s = make_biased(n=400, seed=1)
    quiet = SearchProgress(3, None, verbose=0, file=io.StringIO())
    quiet.update(0.5)
    assert quiet._bar is None
    FairAutoML(
        "demographic_parity_difference <= 0.5", n_trials=2, time_budget=None, random_state=0,
        learners=["logistic_regression"], verbose=0,
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
