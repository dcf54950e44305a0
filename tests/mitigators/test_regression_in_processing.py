"""In-processing for regression: fairlearn's reductions with bounded group loss, and
reweighing over (group, target bin) cells."""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from fairlearn.reductions import AbsoluteLoss, BoundedGroupLoss, SquareLoss
from sklearn.linear_model import LinearRegression

from fairautoml import FairAutoMLRegressor
from fairautoml.estimators.params import search_domain
from fairautoml.exceptions import ConstraintError
from fairautoml.learners import get_learner
from fairautoml.measures.constraints import parse_constraints
from fairautoml.measures.regression import group_losses
from fairautoml.mitigators import get_mitigator
from fairautoml.mitigators._base import search_deadline
from fairautoml.mitigators._loss_bounds import group_loss_bound, loss_of, needs_reference
from fairautoml.mitigators._reductions import REDUCTION_ONE_GROUP_LOSS, make_moment
from fairautoml.tasks import get_task

REDUCTIONS = ["exponentiated_gradient", "grid_search"]


def one_group_errs_more(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A minority group whose amounts follow ``x2`` the other way round and are noisier;
    no feature tells the groups apart, so a learner fitted for the mean error serves the
    majority and errs more on the minority."""
    rng = np.random.default_rng(seed)
    g = (rng.random(n) < 0.3).astype(np.int64)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = 2 * x1 + np.where(g == 1, -1.5, 1.0) * x2 + rng.normal(0.0, 0.5 + 0.5 * g)
    return pd.DataFrame({"x1": x1, "x2": x2}), y, g


def _ridge():
    learner = get_learner("ridge").for_task("regression")
    return learner.make(learner.space.defaults(), random_state=0)


@pytest.mark.parametrize("name", REDUCTIONS)
def test_a_group_loss_bound_lowers_the_worst_groups_held_out_error(name):
    X, y, g = one_group_errs_more(2000, seed=0)
    X_new, y_new, g_new = one_group_errs_more(4000, seed=1)
    c = parse_constraints("mean_squared_error_group_max <= 2.5")
    plain = get_mitigator("none").fit(_ridge, X, y, g, c, {}, 0, task=get_task("regression"))
    space = get_mitigator(name).space
    fair = get_mitigator(name).fit(
        _ridge, X, y, g, c, space.defaults(), 0, task=get_task("regression")
    )
    before = group_losses(y_new, plain.predict_proba(X_new, None), g_new, "squared")
    after = group_losses(y_new, fair.predict_proba(X_new, None), g_new, "squared")
    assert np.argmax(before) == 1 and before.max() > 4.0  # the minority errs more
    assert after.max() < 0.8 * before.max()
    amounts = fair.predict_proba(X_new, None)
    assert amounts.dtype == np.float64 and amounts.shape == (len(X_new),)
    assert np.array_equal(amounts, fair.predict_proba(X_new, None))


def test_the_expected_amount_of_the_ensemble_is_its_weighted_mean():
    X, y, g = one_group_errs_more(800, seed=0)
    c = parse_constraints("mean_absolute_error_group_max <= 1.0")
    model = get_mitigator("exponentiated_gradient").fit(
        _ridge, X, y, g, c, {"max_iter": 10, "bound_scale": 0.5}, 0, task=get_task("regression")
    )
    encoded = model.scoring  # AmountModel(scale, EncodedModel(encoder, MixtureModel))
    mixture, Z = encoded.scoring, encoded.encoder.transform(X)
    members = [model.scale.back(m.predict(Z)) for m in mixture.members]
    expected = np.average(members, axis=0, weights=mixture.weights)
    np.testing.assert_allclose(model.predict_proba(X, None), expected)
    assert len(members) > 1  # a randomised ensemble, not one model


@pytest.mark.parametrize("name", REDUCTIONS)
def test_a_regression_reduction_fails_fast_near_the_deadline(name):
    X, y, g = one_group_errs_more(1000, seed=0)
    c = parse_constraints("mean_absolute_error_ratio >= 0.9")
    start = time.monotonic()
    with search_deadline(time.monotonic() + 0.01), pytest.raises(TimeoutError, match="left"):
        get_mitigator(name).fit(
            _ridge, X, y, g, c, {"max_iter": 50, "grid_size": 50}, 0, task=get_task("regression")
        )
    assert time.monotonic() - start < 3.0


def test_ks_and_mixed_losses_are_refused():
    ks = parse_constraints("demographic_parity_ks <= 0.1")
    both = parse_constraints(
        ["mean_absolute_error_group_max <= 1.0", "mean_squared_error_group_max <= 2.0"]
    )
    one = parse_constraints(
        ["mean_squared_error_group_max <= 2.0", "root_mean_squared_error_ratio >= 0.8"]
    )
    for name in REDUCTIONS:
        m = get_mitigator(name)
        assert "regression" in m.tasks and "binary" in m.tasks
        assert not m.supports(ks) and not m.supports(both) and m.supports(one)
        assert m.supports(parse_constraints("demographic_parity_difference <= 0.1"))
    _, y, g = one_group_errs_more(200, seed=0)
    with pytest.raises(ConstraintError, match="cannot be expressed") as info:
        make_moment(ks, y, g, 1.0)
    assert str(info.value) == REDUCTION_ONE_GROUP_LOSS.format(constraints=str(ks[0]))
    params = FairAutoMLRegressor(mitigators=None).get_params()
    assert "exponentiated_gradient" not in search_domain(params, ks).mitigators
    assert "exponentiated_gradient" in search_domain(params, one).mitigators


def test_group_loss_bounds_by_hand():
    y, groups = np.zeros(4), np.array([0, 0, 1, 1])
    reference = np.array([1.0, 1.0, 2.0, 2.0])  # squared losses 1 and 4, absolute 1 and 2

    def bound(specs, scale=1.0):
        return group_loss_bound(parse_constraints(specs), y, groups, scale, reference)

    assert bound("mean_squared_error_group_max <= 3", 0.5) == pytest.approx(1.5)
    assert bound("mean_squared_error_difference <= 2") == pytest.approx(1 + 2)
    assert bound("mean_squared_error_difference <= 2", 0.5) == pytest.approx(1 + 1)
    assert bound("root_mean_squared_error_difference <= 0.5") == pytest.approx(1.5**2)
    assert bound("root_mean_squared_error_group_max <= 3") == pytest.approx(9)
    assert bound("root_mean_squared_error_ratio >= 0.5") == pytest.approx(1 / 0.5**2)
    assert bound("mean_absolute_error_ratio >= 0.8", 0.5) == pytest.approx(1 / 0.9)
    mixed = ["mean_squared_error_group_max <= 3", "mean_squared_error_ratio >= 0.5"]
    assert bound(mixed) == pytest.approx(min(3, 1 / 0.5))
    assert loss_of(parse_constraints("mean_absolute_error_ratio >= 0.8")) == "absolute"
    assert not needs_reference(parse_constraints("mean_squared_error_group_max <= 3"))
    with pytest.raises(ValueError, match="reference"):
        group_loss_bound(parse_constraints("mean_squared_error_ratio >= 0.5"), y, groups, 1.0)


def test_the_moment_is_for_the_target_on_the_unit_interval():
    y, groups = np.array([0.0, 2.0, 0.0, 2.0]), np.array([0, 0, 1, 1])
    moment = make_moment(parse_constraints("mean_squared_error_group_max <= 3"), y, groups, 1.0)
    assert isinstance(moment, BoundedGroupLoss) and isinstance(moment.reduction_loss, SquareLoss)
    assert moment.upper_bound == pytest.approx(3 / 2**2)  # the target spans 2
    mae = make_moment(parse_constraints("mean_absolute_error_group_max <= 1"), y, groups, 0.5)
    assert isinstance(mae.reduction_loss, AbsoluteLoss)
    assert mae.upper_bound == pytest.approx(0.5 * 1 / 2)


class _Recording(LinearRegression):
    """Records the sample weights of every fit."""

    weights: ClassVar[list[np.ndarray]] = []

    def fit(self, X, y, sample_weight=None):
        self.weights.append(np.asarray(sample_weight))
        return super().fit(X, y, sample_weight=sample_weight)


def test_reweighing_amounts_weights_each_cell_by_expected_over_observed_share():
    # quartile bins of 1..8: {1, 2}, {3, 4}, {5, 6}, {7, 8}; each group holds half the rows
    y = np.arange(1.0, 9.0)
    groups = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    # cell (group 0, bin 0) holds 2 of 8 rows, expected 1/2 * 1/4 of 8: weight 1/2; the
    # cells of one row expect one: weight 1; (group 1, bin 3) as (group 0, bin 0)
    expected = np.array([0.5, 0.5, 1, 1, 1, 1, 0.5, 0.5])
    X = pd.DataFrame({"x": np.arange(8.0)})
    _Recording.weights.clear()
    get_mitigator("reweighing").fit(
        _Recording, X, y, groups, [], {}, 0, task=get_task("regression")
    )
    np.testing.assert_allclose(_Recording.weights[0], expected / expected.mean())
    assert "regression" in get_mitigator("reweighing").tasks
    assert get_mitigator("reweighing").supports(parse_constraints("demographic_parity_ks <= 0.1"))


def test_a_regressor_search_runs_exponentiated_gradient_where_the_bound_is_missed():
    """With n_trials and no time budget the allocator prices a run as one trained model:
    after the first model misses the bound, the second trial is the first run of the named
    in-processing mitigator."""
    X, y, g = one_group_errs_more(1200, seed=0)
    X = X.assign(group=np.where(g == 1, "minority", "majority"))
    automl = FairAutoMLRegressor(
        constraints="mean_squared_error_group_max <= 3.0", mitigators=["exponentiated_gradient"],
        n_trials=2, time_budget=None, learners=["ridge"], cv_folds=None, confirm=False,
        ensemble=False, random_state=0,
    ).fit(X, y, sensitive_features="group")  # fmt: skip
    board = automl.leaderboard_.sort_values("trial")
    assert board["mitigator"].tolist() == ["none", "exponentiated_gradient"]
    assert (board["status"] == "ok").all()
    values = board["mean_squared_error_group_max"].tolist()
    assert values[1] < 3.0 < values[0]  # the in-processed model meets the bound: picked
    assert board["chosen"].tolist() == [False, True]
    assert automl.predict(X).shape == (len(X),)
