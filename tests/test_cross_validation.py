"""Small data is searched by cross-validation: every row validates, fold models predict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairautoml import FairAutoML
from fairautoml.estimators.context import search_context
from fairautoml.exceptions import ConfigurationError
from fairautoml.mitigators import FoldModels
from fairautoml.search.evaluate import evaluate_candidate, evaluate_with_posts, fit_and_score
from fairautoml.study.trial import Candidate

FAST = dict(n_trials=3, time_budget=None, random_state=0, learners=["lightgbm"], cv_folds="auto")


def test_auto_uses_five_folds_on_small_data_and_a_holdout_above(german, monkeypatch):
    X, y, s = german
    ctx, _ = search_context(FairAutoML(**FAST).get_params(), X, y, s)
    n = len(y)
    assert len(ctx.cv_folds) == 5
    np.testing.assert_array_equal(ctx.val_idx, np.arange(n))
    scored = np.concatenate([rows for _, rows in ctx.cv_folds])
    np.testing.assert_array_equal(np.sort(scored), np.arange(n))  # each row scored once
    for fit_rows, rows in ctx.cv_folds:
        assert not set(fit_rows) & set(rows) and len(fit_rows) + len(rows) == n
        # stratified on target x group: each fold holds a fifth of each combination
        strata = ctx.data.groups * 2 + ctx.data.y
        share = np.bincount(strata[rows], minlength=4) / np.bincount(strata, minlength=4)
        assert np.all(np.abs(share - 0.2) < 0.02)
    monkeypatch.setattr("fairautoml.estimators.context.CV_MAX_ROWS", n - 1)
    holdout, _ = search_context(FairAutoML(**FAST).get_params(), X, y, s)
    assert holdout.cv_folds == () and len(holdout.val_idx) == round(0.25 * n)
    chosen, _ = search_context(FairAutoML(**{**FAST, "cv_folds": 3}).get_params(), X, y, s)
    assert len(chosen.cv_folds) == 3
    default, _ = search_context(FairAutoML().get_params(), X, y, s)
    assert default.cv_folds == ()  # the default is a holdout (see the cv_folds docstring)


@pytest.mark.parametrize("value", [1, 21, "yes", 2.5])
def test_bad_cv_folds_name_the_fix(german, value):
    X, y, s = german
    with pytest.raises(ConfigurationError, match=r"cv_folds must be an integer in \[2, 20\]"):
        FairAutoML(**{**FAST, "cv_folds": value}).fit(X, y, sensitive_features=s)


def test_held_out_scores_come_from_the_fold_that_did_not_train_on_the_row(german):
    X, y, s = german
    ctx, _ = search_context(FairAutoML(**FAST).get_params(), X, y, s)
    candidate = Candidate("logistic_regression")
    scoring, scores = fit_and_score(candidate, ctx)
    assert isinstance(scoring, FoldModels) and len(scoring.models) == 5
    for model, (_, rows) in zip(scoring.models, ctx.cv_folds, strict=True):
        X_rows, _, g_rows = ctx.data.subset(rows)
        np.testing.assert_allclose(scores[rows], model.predict_proba(X_rows, g_rows))
    # new rows: each is scored by the one model its hash picks, the same one every time
    which = scoring.route(ctx.data.X)
    assert set(np.unique(which)) == set(range(5))
    again = scoring.predict_proba(ctx.data.X.iloc[::-1], ctx.data.groups[::-1])[::-1]
    expected = np.array(
        [
            scoring.models[k].predict_proba(ctx.data.X.iloc[[i]], ctx.data.groups[[i]])[0]
            for i, k in enumerate(which[:50])
        ]
    )
    np.testing.assert_allclose(again[:50], expected)


def test_group_classifier_probabilities_are_held_out_too(german):
    X, y, s = german
    ctx, _ = search_context(FairAutoML(**FAST).get_params(), X, y, s)
    points = evaluate_with_posts(
        Candidate("lightgbm", {"n_estimators": 20}), ctx, [("bias_score_blind", {"slack": 0.2})]
    )
    assert [p.result.status for p in points] == ["ok", "ok"]
    scoring = points[1].model.scoring
    assert isinstance(scoring, FoldModels)
    assert all(hasattr(m, "group_estimator") for m in scoring.models)
    proba = scoring.group_proba(ctx.data.X.iloc[:7])
    assert proba.shape == (7, len(ctx.data.group_encoder.labels))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_a_cross_validated_search_ends_in_a_model_that_predicts_new_rows(german):
    X, y, s = german
    est = FairAutoML(
        **{**FAST, "n_trials": 4},
        mitigators=["none", "group_thresholds"],
        confidence=None,
        sensitive_at_predict=True,
    ).fit(X.iloc[:800], y.iloc[:800], sensitive_features=s.iloc[:800])
    pred = est.predict(X.iloc[800:], sensitive_features=s.iloc[800:])
    assert pred.shape == (200,) and set(np.unique(pred)) <= {0, 1}
    model = est.best_estimator_
    if model.rule is None:  # a raw pick is refitted on every row, one model
        assert est.best_config_["refitted"] and not isinstance(model.scoring, FoldModels)
    else:  # a post-processed pick keeps the fold models its rule was fitted for
        assert isinstance(model.scoring, FoldModels) and not est.best_config_["refitted"]
    # the leaderboard's validation numbers are over all 800 rows
    board = est.leaderboard_
    assert board["status"].eq("ok").all()
    ctx = search_context(est.get_params(), X.iloc[:800], y.iloc[:800], s.iloc[:800])[0]
    trial = evaluate_candidate(
        Candidate.from_json(est.study_.trials[0].user_attrs["candidate"]), ctx
    )
    assert trial.result.status == "ok" and len(ctx.val[1]) == 800


def test_fold_models_score_an_empty_frame():
    frame = pd.DataFrame({"a": np.arange(3.0)})
    models = FoldModels([_Constant(0.2), _Constant(0.7)])
    assert models.predict_proba(frame.iloc[:0], None).shape == (0,)
    out = models.predict_proba(frame, None)
    assert set(out) <= {0.2, 0.7}


class _Constant:
    needs_group = False

    def __init__(self, p: float) -> None:
        self.p = p

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return np.full(len(X), self.p)


def test_cross_validation_stops_when_the_other_folds_would_pass_the_deadline(german):
    import time

    X, y, s = german
    ctx, _ = search_context(FairAutoML(**FAST).get_params(), X, y, s)
    ctx.deadline = time.monotonic()  # already reached: the first fold runs, then it stops
    result = evaluate_candidate(Candidate("logistic_regression"), ctx).result
    assert result.status == "failed"
    assert "cross-validation stopped after 1 of 5 folds" in result.error
