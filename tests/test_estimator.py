"""FairAutoML follows the scikit-learn estimator contract and works in its tools."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import cross_validate

from fairautoml import FairAutoML
from fairautoml.estimators.context import search_context
from fairautoml.estimators.params import search_domain
from fairautoml.exceptions import ConfigurationError, NotFittedError, UnknownNameError
from fairautoml.mitigators import get_mitigator
from fairautoml.testing import make_biased

FAST = dict(
    n_trials=4, time_budget=None, random_state=0, learners=["logistic_regression"], ensemble=False
)


def test_init_only_stores_and_clone_roundtrips():
    est = FairAutoML(constraints="nonsense", metric="nope", random_state=3)
    assert est.get_params()["constraints"] == "nonsense"  # validated in fit, not __init__
    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    est.set_params(time_budget=5)
    assert est.time_budget == 5


def test_the_default_model_never_reads_the_group():
    assert FairAutoML().get_params()["sensitive_at_predict"] is False
    X, y, s = make_biased(n=300, seed=1)
    with warnings.catch_warnings():  # tiny data: the pick may be weak; not what is tested
        warnings.simplefilter("ignore")
        est = FairAutoML(n_trials=2, time_budget=None, random_state=0).fit(X, y, s)
    assert est.best_config_["needs_group_at_predict"] is False
    assert est.predict(X).shape == (len(X),)  # no group needed to decide


def test_not_fitted_error():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        FairAutoML().predict(np.zeros((2, 2)))


@pytest.mark.parametrize(
    "params, error, fragment",
    [
        ({"metric": "precision"}, UnknownNameError, "Unknown metric 'precision'. Available:"),
        ({"controller": "bayes"}, UnknownNameError, "Unknown controller 'bayes'. Available:"),
        ({"learners": ["lgb"]}, UnknownNameError, "Unknown learner 'lgb'. Available:"),
        ({"mitigators": ["magic"]}, UnknownNameError, "Unknown mitigator 'magic'. Available:"),
        ({"time_budget": None, "n_trials": None}, ConfigurationError, "Set time_budget"),
        ({"time_budget": -1}, ConfigurationError, "time_budget must be > 0"),
        ({"validation_fraction": 0.9}, ConfigurationError, "validation_fraction"),
        ({"max_search_rows": 10}, ConfigurationError, "max_search_rows must be an integer >= 100"),
        ({"confidence": "high"}, ConfigurationError, "confidence must be a number in (0, 1)"),
    ],
)
def test_bad_parameters_name_the_fix(german, params, error, fragment):
    X, y, s = german
    with pytest.raises(error) as info:
        FairAutoML(**params).fit(X, y, sensitive_features=s)
    assert fragment in str(info.value)


def test_fit_returns_self_with_fitted_attributes(german):
    X, y, s = german
    est = FairAutoML(**FAST)
    assert est.fit(X, y, sensitive_features=s) is est
    for attr in ("leaderboard_", "pareto_front_", "best_estimator_", "best_config_", "classes_"):
        assert hasattr(est, attr)
    board = est.leaderboard_
    assert (board["post"] == "none").sum() == 4  # 4 trained models, each also post-processed
    for col in (
        "learner",
        "mitigator",
        "post",
        "params",
        "accuracy",
        "demographic_parity_difference",
        "feasible",
        "fair_score",
        "fit_time",
        "status",
    ):
        assert col in board.columns
    assert board["chosen"].sum() == 1
    assert set(est.classes_) == {0, 1}
    proba = est.predict_proba(X, sensitive_features=s)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        est.predict(X, sensitive_features=s), est.classes_[(proba[:, 1] >= 0.5).astype(int)]
    )


def test_predict_needs_group_only_when_model_uses_it(german):
    X, y, s = german
    est = FairAutoML(**FAST, mitigators=["group_thresholds"], sensitive_at_predict=True).fit(
        X, y, sensitive_features=s
    )
    if est.best_estimator_.needs_group:
        with pytest.raises(ValueError, match="pass sensitive_features= to predict"):
            est.predict(X)
    blind = FairAutoML(**FAST, sensitive_at_predict=False).fit(X, y, sensitive_features=s)
    assert not blind.best_estimator_.needs_group
    assert blind.predict(X).shape == (len(X),)
    board = blind.leaderboard_  # group-aware rules are measured for the comparison only
    aware = board[board["post"] == "group_thresholds"]
    assert (aware["tier"] == "not deployable").all()
    assert board.iloc[0]["decision_rule"] == "group_free"


def test_metadata_routing_in_cross_validate(german):
    X, y, s = german
    with sklearn.config_context(enable_metadata_routing=True):
        est = (
            FairAutoML(**FAST)
            .set_fit_request(sensitive_features=True)
            .set_predict_request(sensitive_features=True)
            .set_score_request(sensitive_features=True, sample_weight=False)
        )
        result = cross_validate(est, X, y, cv=2, params={"sensitive_features": s})
    assert len(result["test_score"]) == 2 and np.all(result["test_score"] > 0.6)


def test_sensitive_as_column_name_is_used_at_predict(german):
    X, y, s = german
    Xs = X.assign(sex=s.to_numpy())
    est = FairAutoML(**FAST, mitigators=["group_thresholds"], sensitive_at_predict=True).fit(
        Xs, y, sensitive_features="sex"
    )
    assert "sex" not in est.feature_names_in_
    pred = est.predict(Xs)  # the group is read from the named column
    assert pred.shape == (len(X),)
    reordered = Xs[list(reversed(Xs.columns))]
    np.testing.assert_array_equal(est.predict(reordered), pred)
    with pytest.raises(ValueError, match="Missing"):
        est.predict(Xs.drop(columns=["age"]))


def test_inside_a_pipeline_with_routed_sensitive_features(german):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y, s = german
    with sklearn.config_context(enable_metadata_routing=True):
        automl = (
            FairAutoML(**FAST)
            .set_fit_request(sensitive_features=True)
            .set_predict_request(sensitive_features=True)
        )
        pipe = Pipeline([("identity", FunctionTransformer()), ("automl", automl)])
        pipe.fit(X, y, sensitive_features=s)
        pred = pipe.predict(X, sensitive_features=s)
        cloned = clone(pipe)
    assert pred.shape == (len(X),)
    assert not hasattr(cloned.named_steps["automl"], "best_estimator_")


def test_max_search_rows_samples_training_rows_and_the_refit_uses_all(german):
    """Multi-fidelity on the data side: trials train on a stratified sample of the
    training rows, validation keeps its rows, the chosen model is refitted on all."""
    X, y, s = german
    full_ctx, _ = search_context(
        FairAutoML(**FAST, max_search_rows=None, cv_folds=None).get_params(), X, y, s
    )
    est = FairAutoML(**FAST, max_search_rows=300, cv_folds=None, mitigators=["none", "reweighing"])
    ctx, _ = search_context(est.get_params(), X, y, s)
    assert len(ctx.train_idx) == 300 and set(ctx.train_idx) <= set(full_ctx.train_idx)
    np.testing.assert_array_equal(ctx.val_idx, full_ctx.val_idx)
    strata = ctx.data.groups * 2 + ctx.data.y
    share = np.bincount(strata[ctx.train_idx]) / 300
    full_share = np.bincount(strata[full_ctx.train_idx]) / len(full_ctx.train_idx)
    np.testing.assert_allclose(share, full_share, atol=0.01)  # stratified
    est.fit(X, y, sensitive_features=s)
    assert est.best_config_["refitted"]


def test_max_validation_rows_moves_the_other_held_out_rows_to_training():
    """A big table's trials score and post-process on a stratified sample of the held-out
    rows; the rest train (no row lost, none in both), and a search and a rebuild agree."""
    X, y, s = make_biased(n=8_000, seed=3)
    params = dict(FAST, cv_folds=None, max_search_rows=None)
    full, _ = search_context(FairAutoML(**params).get_params(), X, y, s)
    est = FairAutoML(**params, max_validation_rows=1_000)
    ctx, _ = search_context(est.get_params(), X, y, s)
    again, _ = search_context(est.get_params(), X, y, s)
    assert len(full.val_idx) == 2_000 and len(ctx.val_idx) == 1_000
    assert set(ctx.val_idx) <= set(full.val_idx)
    assert not set(ctx.val_idx) & set(ctx.train_idx)
    assert set(ctx.train_idx) | set(ctx.val_idx) == set(range(len(y)))
    np.testing.assert_array_equal(ctx.val_idx, again.val_idx)
    strata = ctx.data.groups * 2 + ctx.data.y
    share = np.bincount(strata[ctx.val_idx]) / 1_000
    full_share = np.bincount(strata[full.val_idx]) / 2_000
    np.testing.assert_allclose(share, full_share, atol=0.005)  # stratified
    small, _ = search_context(FairAutoML(**params, max_validation_rows=5_000).get_params(), X, y, s)
    np.testing.assert_array_equal(small.val_idx, full.val_idx)  # under the cap: unchanged
    with pytest.raises(ConfigurationError, match="max_validation_rows must be an integer >= 1000"):
        FairAutoML(**params, max_validation_rows=10).fit(X, y, sensitive_features=s)


@pytest.mark.parametrize("cv_folds", [None, 5])
def test_without_random_state_the_split_is_fixed_by_the_data(german, cv_folds):
    """A resumed study, or a worker joining one, must score trials on the same split."""
    X, y, s = german

    def held_out(rows: int) -> np.ndarray:  # the holdout rows, or the first fold's
        est = FairAutoML(random_state=None, cv_folds=cv_folds)
        ctx, _ = search_context(est.get_params(), X.iloc[:rows], y[:rows], s[:rows])
        return np.sort(ctx.cv_folds[0][1] if ctx.cv_folds else ctx.val_idx)

    np.testing.assert_array_equal(held_out(len(y)), held_out(len(y)))
    assert not np.array_equal(held_out(len(y))[:50], held_out(len(y) - 1)[:50])


def test_a_post_processed_pick_is_not_refitted():
    """Its rule was fitted to the search-time model's validation scores; a retrained
    model's scores would sit differently under it (the retired experiments/refit_check.py: git show
    708579d^:experiments/refit_check.py)."""
    X, y, s = make_biased(n=1500, bias=2.0)  # raw models are far over the bound
    est = FairAutoML(**FAST, mitigators=["group_thresholds"], sensitive_at_predict=True).fit(
        X, y, sensitive_features=s
    )
    assert est.best_estimator_.rule is not None and not est.best_config_["refitted"]
    plain = FairAutoML(
        **FAST, mitigators=["none"], constraints="demographic_parity_difference <= 0.9"
    )
    plain.fit(X, y, sensitive_features=s)
    assert plain.best_estimator_.rule is None and plain.best_config_["refitted"]


@pytest.mark.parametrize(
    "mitigator, n_trials",
    [("reweighing", 4), ("exponentiated_gradient", 2), ("constrained_boosting", 2),
     ("gap_reweighing", 2), ("bias_score_blind", 2)],
)  # fmt: skip
def test_blind_models_never_read_the_group(german, mitigator, n_trials):
    """sensitive_at_predict=False: every model the blind search trains with each mitigator it
    may use predicts without the group, and whatever group is passed changes nothing. An
    in-processing mitigator runs where the allocator expects it to pay, so its model is
    also built directly in the blind search's context."""
    from fairautoml.mitigators import get_mitigator
    from fairautoml.search.evaluate import evaluate_candidate
    from fairautoml.study import record
    from fairautoml.study.trial import Candidate

    X, y, s = german
    blind = FairAutoML(
        n_trials=n_trials, time_budget=None, random_state=0, learners=["lightgbm"],
        mitigators=[mitigator], decision_rule="proxy", confidence=None,
    ).fit(X, y, sensitive_features=s)  # fmt: skip
    board = blind.leaderboard_
    used = board[(board["mitigator"] == mitigator) | (board["post"] == mitigator)]
    in_processing = get_mitigator(mitigator).stage == "in"
    assert len(used) or in_processing, f"no trial used {mitigator}"
    ctx, _ = search_context(blind.get_params(), X, y, s)
    flipped = np.where(np.asarray(s) == np.asarray(s)[0], "other", np.asarray(s)[0])
    candidates = [record.candidate(blind.study_.trials[n]) for n in used["trial"][:2]]
    if in_processing:
        candidates.append(Candidate("lightgbm", {}, mitigator))
    models = [blind.best_estimator_]
    for candidate in candidates:
        evaluation = evaluate_candidate(candidate, ctx)
        assert evaluation.model is not None, evaluation.result.error
        models.append(evaluation.model)
    for model in models:
        assert not model.needs_group
        expected = model.predict_proba(X)
        for groups in (s, flipped, np.full(len(X), "nobody")):
            np.testing.assert_array_equal(model.predict_proba(X, groups), expected)


def test_rules_on_inferred_groups_are_searched_where_the_group_is_not_at_hand():
    from fairautoml.measures.constraints import parse_constraints

    c = parse_constraints("equalized_odds_difference <= 0.05")
    every = {"inferred_thresholds", "bias_score_blind", "relaxed_thresholds", "group_thresholds"}
    deployed = {"group_free": set(), "proxy": {"inferred_thresholds", "bias_score_blind"},
                "group_aware": {"relaxed_thresholds", "group_thresholds"}}  # fmt: skip
    for policy, rules in deployed.items():  # every policy's rules: searched or compared
        domain = search_domain(FairAutoML(decision_rule=policy).get_params(), c)
        assert set(domain.posts) & every == rules
        assert set(domain.compare_posts) & every == every - rules
    named = search_domain(
        FairAutoML(mitigators=["inferred_thresholds"], decision_rule="proxy").get_params(), c
    )  # asked for: searched
    assert named.posts == ("none", "inferred_thresholds")
    with pytest.raises(ConfigurationError, match="proxy decision rule"):
        search_domain(FairAutoML(mitigators=["inferred_thresholds"]).get_params(), c)


def test_with_missing_groups_only_the_deployed_rules_are_searched():
    X, y, s = make_biased(n=600, seed=0)
    s = pd.Series(np.asarray(s), dtype=object).mask(np.arange(len(s)) % 10 == 0)
    for mode in ("infer", "exclude"):
        params = FairAutoML(decision_rule="proxy", missing_groups=mode).get_params()
        with warnings.catch_warnings():  # the groups of make_biased are hard to infer
            warnings.simplefilter("ignore")
            _, domain = search_context(params, X, y, s)
        blind = {"inferred_thresholds", "bias_score_blind", "multicalibration_blind"}
        assert set(domain.posts) == {"none", *blind}
        assert not any(get_mitigator(p).needs_group_at_predict for p in domain.compare_posts)
    _, known = search_context(FairAutoML(missing_groups="infer").get_params(), X, y, s.fillna("a"))
    assert "group_thresholds" in known.compare_posts


def test_blind_in_processing_is_searched_by_default_only_without_the_group():
    from fairautoml.measures.constraints import parse_constraints

    c = parse_constraints("equalized_odds_difference <= 0.05")
    aware = search_domain(FairAutoML(sensitive_at_predict=True).get_params(), c)
    blind = search_domain(FairAutoML(sensitive_at_predict=False).get_params(), c)
    assert "gap_reweighing" not in aware.mitigators and "gap_reweighing" in blind.mitigators
    assert {"exponentiated_gradient", "constrained_boosting"} <= set(aware.mitigators)
    named = search_domain(FairAutoML(mitigators=["gap_reweighing"]).get_params(), c)
    assert named.mitigators == ("none", "gap_reweighing")


def test_rules_for_two_groups_are_left_out_of_a_search_over_more():
    """The bias-score rule decides for two groups: with three it is not searched by
    default (its every trial would fail), and named it is an error that names the fix."""
    rng = np.random.default_rng(0)
    X, y, s = make_biased(n=600, seed=0)
    three = np.where(rng.random(len(y)) < 0.3, "c", np.asarray(s).astype(str))
    params = FairAutoML(decision_rule="proxy").get_params()
    _, domain = search_context(params, X, y, three)
    assert "bias_score_blind" not in domain.posts and "inferred_thresholds" in domain.posts
    _, two = search_context(params, X, y, s)
    assert "bias_score_blind" in two.posts
    named = FairAutoML(mitigators=["bias_score_blind"], decision_rule="proxy").get_params()
    with pytest.raises(ConfigurationError, match="at most 2 groups; the sensitive features give 3"):
        search_context(named, X, y, three)
