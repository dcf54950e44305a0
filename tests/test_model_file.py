"""Model files: the skops format round-trips every built-in learner and a post-processed
pick; pickles and untrusted types are refused unless the user trusts the file."""

from __future__ import annotations

import collections
import re
import warnings

import joblib
import numpy as np
import pytest

import fairautoml
from fairautoml import FairAutoML
from fairautoml.data.splits import split_train_validation
from fairautoml.exceptions import ConfigurationError, UntrustedModelError
from fairautoml.learners import get_learner
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import get_mitigator
from fairautoml.model.allowlist import ALLOWED, refused, types_in_file
from fairautoml.model.files import (
    PICKLE_NOT_TRUSTED,
    decode_table,
    encode_table,
    read_model,
    write_model,
)
from fairautoml.search.evaluate import evaluate_candidate
from fairautoml.study.trial import Candidate, SearchContext
from fairautoml.testing import make_biased, model_zoo
from fairautoml.testing.conformance import conformance_data, supported_pairs

FAST = dict(
    sensitive_at_predict=True,  # the post-processed picks read the group
    constraints="demographic_parity_difference <= 0.3",
    time_budget=None,
    n_trials=1,
    random_state=0,
    confirm=False,
    cv_folds=None,
    trial_time_limit=None,
)


@pytest.fixture(scope="module")
def data():
    return make_biased(n=400, seed=5)


def _fit(data, learner: str, mitigators: list[str]) -> FairAutoML:
    X, y, s = data
    with warnings.catch_warnings():  # a weak or unconfirmed pick still round-trips
        warnings.simplefilter("ignore")
        return FairAutoML(**FAST, learners=[learner], mitigators=mitigators).fit(X, y, s)


def _same(a: FairAutoML, b: FairAutoML, data) -> None:
    X, _, s = data
    np.testing.assert_array_equal(a.predict_proba(X, s), b.predict_proba(X, s))
    assert a.best_config_ == b.best_config_
    assert a.leaderboard_.equals(b.leaderboard_)
    assert a.pareto_front_.equals(b.pareto_front_)


@pytest.mark.parametrize("learner", fairautoml.available_learners("binary"))
def test_skops_round_trip_of_every_learner(tmp_path, data, learner):
    automl = _fit(data, learner, [])
    path = automl.save(tmp_path / "model.skops")
    loaded = fairautoml.load(path)
    assert not hasattr(loaded, "study_")
    _same(automl, loaded, data)


SUPPORTED = supported_pairs(
    fairautoml.available_mitigators(),
    ["demographic_parity_difference <= 0.05", "equalized_odds_difference <= 0.05"],
)


@pytest.mark.parametrize("mitigator", [*sorted({m for m, _ in SUPPORTED}), "none"], ids=str)
def test_every_mitigators_model_round_trips(tmp_path, mitigator):
    """Each mitigator's fitted model itself (the search may not pick it on small data)."""
    constraint = next((spec for m, spec in SUPPORTED if m == mitigator), SUPPORTED[0][1])
    data = conformance_data(n=600)
    train, val = split_train_validation(data.y, data.groups, 0.4, 0)
    ctx = SearchContext(data, train, val, parse_constraints(constraint), get_metric("accuracy"))
    learner = "lightgbm" if mitigator == "constrained_boosting" else "logistic_regression"
    low = get_learner(learner).space.low_cost()
    params = get_mitigator(mitigator).space.low_cost()
    post = get_mitigator(mitigator).stage == "post"
    candidate = (
        Candidate(learner, low, "none", {}, mitigator, params)
        if post
        else Candidate(learner, low, mitigator, params)
    )
    model = evaluate_candidate(candidate, ctx).model
    X_val, _, g_val = ctx.val
    loaded = read_model(write_model(model, tmp_path / "model.skops"))
    np.testing.assert_array_equal(
        loaded.positive_proba(X_val, g_val), model.positive_proba(X_val, g_val)
    )


@pytest.mark.parametrize("post", ["threshold_optimizer", "group_thresholds"])
def test_skops_round_trip_of_a_post_processed_pick(tmp_path, data, post):
    automl = _fit(data, "logistic_regression", [post])
    assert automl.best_estimator_.rule is not None  # the pick post-processes its scores
    _same(automl, fairautoml.load(automl.save(tmp_path / "model.skops")), data)


def test_pickle_opens_only_when_trusted(tmp_path, data):
    automl = _fit(data, "logistic_regression", [])
    path = automl.save(tmp_path / "model.joblib")
    refusal = re.escape(PICKLE_NOT_TRUSTED.split("{path}")[1][:30])
    with pytest.raises(UntrustedModelError, match=refusal):
        fairautoml.load(path)
    _same(automl, fairautoml.load(path, trusted=True), data)


def test_a_crafted_pickle_is_never_opened(tmp_path):
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickling ran code",))

    path = tmp_path / "model.joblib"
    joblib.dump(Boom(), path)
    with pytest.raises(UntrustedModelError):
        fairautoml.load(path)


def test_untrusted_type_is_refused_by_name(tmp_path, data):
    automl = _fit(data, "logistic_regression", [])
    automl.tampered_ = collections.Counter(a=1)  # a type outside the allow list
    path = automl.save(tmp_path / "model.skops")
    with pytest.raises(UntrustedModelError, match=r"collections\.Counter"):
        fairautoml.load(path)
    assert fairautoml.load(path, trusted=["collections.Counter"]).tampered_ == {"a": 1}
    assert fairautoml.load(path, trusted=True).tampered_ == {"a": 1}


def test_files_that_are_not_models(tmp_path, data):
    joblib.dump({"not": "a model"}, tmp_path / "other.joblib")
    with pytest.raises(ConfigurationError, match="not a fitted FairAutoML"):
        fairautoml.load(tmp_path / "other.joblib", trusted=True)
    with pytest.raises(ConfigurationError, match="No model file"):
        fairautoml.load(tmp_path / "missing.skops")
    with pytest.raises(ConfigurationError, match="Cannot tell which format"):
        _fit(data, "logistic_regression", []).save(tmp_path / "model.bin")


def test_tables_keep_their_dtypes(data):
    board = _fit(data, "logistic_regression", []).leaderboard_
    assert decode_table(encode_table(board)).equals(board)


def test_predict_command_opens_a_pickle_only_with_trusted(tmp_path, data, capsys):
    from fairautoml import cli

    X, _, s = data
    automl = _fit(data, "logistic_regression", [])
    csv = tmp_path / "new.csv"
    X.assign(group=s.to_numpy()).to_csv(csv, index=False)
    pickle = automl.save(tmp_path / "model.joblib")
    args = [
        "predict",
        str(pickle),
        str(csv),
        "--out",
        str(tmp_path / "p.csv"),
        "--sensitive",
        "group",
    ]
    assert cli.main(args) == 2
    assert "is a pickle (joblib) file" in capsys.readouterr().err
    assert cli.main([*args, "--trusted"]) == 0
    automl.save(tmp_path / "model.skops")
    args[1] = str(tmp_path)  # a run directory: its model.skops
    assert cli.main(args) == 0


def _round_trip(tmp_path, label: str, model) -> set:
    """Write ``model``, check every type in the file is allow-listed, read it back without
    ``trusted`` and check it decides as before; the (loader, type) pairs of its file."""
    path = write_model(model, tmp_path / "model.skops")
    found = types_in_file(path)
    assert refused(found) == []
    loaded = read_model(path)
    if hasattr(loaded, "best_estimator_"):
        loaded, model = loaded.best_estimator_, model.best_estimator_
    X, _, s = model_zoo.table_of(label)
    np.testing.assert_array_equal(loaded.predict(X, s), model.predict(X, s))
    return found


@pytest.mark.parametrize("task", list(model_zoo.CONSTRAINTS))
def test_every_kind_of_model_loads_without_trusted(tmp_path, task):
    """Each learner and each mitigator of the task, and an ensemble, as the search fits
    them: the file holds allow-listed types only and opens without ``trusted``."""
    for label, model in model_zoo.models(tasks=[task]):
        _round_trip(tmp_path, label, model)
    for label, est in model_zoo.estimators(tasks=[task]):
        _round_trip(tmp_path, label, est)
        assert fairautoml.load(est.save(tmp_path / "m.skops")).best_config_ == est.best_config_


@pytest.mark.slow
def test_the_allow_list_is_exactly_what_models_hold(tmp_path):
    """Every learner x mitigator x task: nothing outside the allow-list, and nothing in it
    that no model holds (a stale entry is a door left open)."""
    found = set()
    for label, model in [*model_zoo.models(full=True), *model_zoo.estimators()]:
        found |= _round_trip(tmp_path, label, model)
    assert set(ALLOWED) - found == set(), "allow-listed but in no model"
