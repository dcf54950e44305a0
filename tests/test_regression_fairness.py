"""Regression fairness measures: by hand, against scipy and fairlearn, and their bootstraps."""

from __future__ import annotations

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame
from scipy.stats import ks_2samp, kstwobign
from sklearn.metrics import mean_absolute_error, mean_squared_error, root_mean_squared_error

from fairautoml.exceptions import InputError, UnknownNameError
from fairautoml.measures.amount_bootstrap import (
    bootstrap_group_losses,
    bootstrap_ks,
    bootstrap_measure,
    ks_lower_bound,
)
from fairautoml.measures.constraints import evaluate_intervals, parse_constraints
from fairautoml.measures.regression import (
    EMPTY_GROUP,
    LENGTH_MISMATCH,
    REGRESSION_MEASURES,
    group_losses,
    ks_distance,
    regression_measure,
)

SKLEARN = {
    "mean_absolute_error": mean_absolute_error,
    "mean_squared_error": mean_squared_error,
    "root_mean_squared_error": root_mean_squared_error,
}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 600
    groups = rng.choice(np.array(["x", "y", "z"]), n, p=[0.5, 0.3, 0.2])
    y = rng.normal(size=n)
    pred = y + rng.normal(scale=1.0 + (groups == "y"), size=n) + 0.3 * (groups == "z")
    return y, pred, groups, rng.uniform(0.5, 2.0, n)


def test_hand_computed_example():
    y = np.zeros(4)
    pred = np.array([1.0, 3.0, 2.0, 4.0])
    groups = np.array(["a", "a", "b", "b"])
    # F_a jumps at 1 and 3, F_b at 2 and 4: the gap is 1/2 at x = 1 and x = 3
    assert ks_distance(pred, groups) == pytest.approx(0.5)
    # weights 3:1 in group a put F_a(1) at 3/4 while F_b(1) = 0
    assert ks_distance(pred, groups, sample_weight=[3, 1, 1, 1]) == pytest.approx(0.75)
    # a third group entirely below the others is separated from them completely
    assert ks_distance(np.append(pred, 0.0), np.append(groups, "c")) == pytest.approx(1.0)
    assert ks_distance(pred, ["a"] * 4) == 0.0
    np.testing.assert_allclose(group_losses(y, pred, groups, "absolute"), [2.0, 3.0])
    np.testing.assert_allclose(group_losses(y, pred, groups, "squared"), [5.0, 10.0])
    values = {name: m.value(y, pred, groups, None) for name, m in REGRESSION_MEASURES.items()}
    assert values["mean_absolute_error_difference"] == pytest.approx(1.0)
    assert values["mean_absolute_error_ratio"] == pytest.approx(2 / 3)
    assert values["mean_absolute_error_group_max"] == pytest.approx(3.0)
    assert values["root_mean_squared_error_ratio"] == pytest.approx(np.sqrt(0.5))
    assert values["root_mean_squared_error_difference"] == pytest.approx(np.sqrt(10) - np.sqrt(5))
    assert values["demographic_parity_ks"] == pytest.approx(0.5)


@pytest.mark.parametrize("seed", [0, 1])
def test_ks_matches_scipy_for_two_groups(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=300)
    b = np.round(rng.normal(0.2, 1.3, size=200), 1)  # ties within and across groups
    a[:50] = b[:50]
    pred = np.r_[a, b]
    groups = np.r_[np.zeros(300, int), np.ones(200, int)]
    assert ks_distance(pred, groups) == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)


def test_ks_over_several_groups_is_the_largest_pair(data):
    _, pred, groups, _ = data
    pairs = [
        ks_2samp(pred[groups == a], pred[groups == b]).statistic
        for a, b in [("x", "y"), ("x", "z"), ("y", "z")]
    ]
    assert ks_distance(pred, groups) == pytest.approx(max(pairs), abs=1e-12)


def test_weighted_ks_equals_ks_on_repeated_rows(data):
    _, pred, groups, _ = data
    counts = np.random.default_rng(1).integers(0, 4, size=pred.size)
    counts[:3] = 1  # every group keeps rows
    rows = np.repeat(np.arange(pred.size), counts)
    assert ks_distance(pred, groups, sample_weight=counts) == pytest.approx(
        ks_distance(pred[rows], groups[rows]), abs=1e-12
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("metric", list(SKLEARN))
def test_loss_measures_match_fairlearn_metricframe(data, metric, weighted):
    y, pred, groups, weight = data
    params = {"sample_params": {"sample_weight": weight}} if weighted else {}
    frame = MetricFrame(
        metrics=SKLEARN[metric], y_true=y, y_pred=pred, sensitive_features=groups, **params
    )
    expected = {
        "difference": frame.difference(),
        "ratio": frame.ratio(),
        "group_max": frame.group_max(),
    }
    sw = weight if weighted else None
    for reduction, value in expected.items():
        measure = REGRESSION_MEASURES[f"{metric}_{reduction}"]
        assert measure.value(y, pred, groups, sw) == pytest.approx(value, rel=1e-12)
    loss = "absolute" if metric == "mean_absolute_error" else "squared"
    if metric != "root_mean_squared_error":
        np.testing.assert_allclose(
            group_losses(y, pred, groups, loss, sw), frame.by_group.to_numpy(), rtol=1e-12
        )


def test_table_names_ops_and_bounds():
    derived = {f"{m}_{r}" for m in SKLEARN for r in ("difference", "ratio", "group_max")}
    assert set(REGRESSION_MEASURES) == {"demographic_parity_ks"} | derived
    for name, measure in REGRESSION_MEASURES.items():
        assert measure.name == name and measure.meaning
        assert measure.op == (">=" if name.endswith("_ratio") else "<=")
        bounded = name.endswith("_ratio") or name == "demographic_parity_ks"
        assert measure.bound_max == (1.0 if bounded else np.inf)
    assert REGRESSION_MEASURES["root_mean_squared_error_group_max"].loss == "squared"
    assert REGRESSION_MEASURES["demographic_parity_ks"].loss is None


def test_from_bootstrap_agrees_with_value_on_the_point(data):
    y, pred, groups, _ = data
    for name, measure in REGRESSION_MEASURES.items():
        if measure.loss is None:
            point = np.array([ks_distance(pred, groups)])
        else:
            point = group_losses(y, pred, groups, measure.loss)[None, :]
        assert measure.from_bootstrap(point) == pytest.approx(
            [measure.value(y, pred, groups, None)]
        ), name


def test_bootstraps_shape_seed_and_centre(data):
    y, pred, groups, _ = data
    ks = bootstrap_ks(pred, groups, n_boot=50, random_state=3)
    assert ks.shape == (50,)
    np.testing.assert_array_equal(ks, bootstrap_ks(pred, groups, n_boot=50, random_state=3))
    assert not np.array_equal(ks, bootstrap_ks(pred, groups, n_boot=50, random_state=4))
    losses = bootstrap_group_losses(y, pred, groups, "absolute", n_boot=50, random_state=3)
    assert losses.shape == (50, 3)
    point = group_losses(y, pred, groups, "absolute")
    assert np.all(np.abs(losses.mean(axis=0) - point) < 4 * losses.std(axis=0) / np.sqrt(50))
    values = bootstrap_measure("mean_absolute_error_ratio", y, pred, groups, 50, 3)
    assert values.shape == (50,) and np.all((values > 0) & (values <= 1))


def _row_weight_bootstrap(statistic, n: int, n_boot: int, seed: int) -> np.ndarray:
    weights = np.random.default_rng(seed).poisson(1.0, size=(n_boot, n))
    return np.array([statistic(w) for w in weights])


def test_group_loss_bootstrap_is_the_poisson_row_weight_bootstrap(data):
    y, pred, groups, _ = data
    fast = bootstrap_group_losses(y, pred, groups, "squared", n_boot=2000, random_state=0)
    slow = _row_weight_bootstrap(
        lambda w: group_losses(y[w > 0], pred[w > 0], groups[w > 0], "squared", w[w > 0]),
        y.size,
        2000,
        1,
    )
    np.testing.assert_allclose(fast.std(axis=0), slow.std(axis=0), rtol=0.1)
    np.testing.assert_allclose(fast.mean(axis=0), slow.mean(axis=0), atol=0.01)


def test_ks_bootstrap_on_the_grid_follows_the_row_weight_bootstrap():
    rng = np.random.default_rng(5)
    n = 3000  # more distinct predictions than grid points
    groups = rng.integers(0, 2, n)
    pred = rng.normal(0.1 * groups, 1.0)
    fast = bootstrap_ks(pred, groups, n_boot=400, random_state=0)
    slow = _row_weight_bootstrap(
        lambda w: ks_distance(pred[w > 0], groups[w > 0], w[w > 0]), n, 400, 1
    )
    assert abs(np.median(fast) - np.median(slow)) < 0.2 * np.std(slow)
    assert np.std(fast) == pytest.approx(np.std(slow), rel=0.2)


def test_a_group_that_draws_no_rows_gives_nan():
    pred = np.r_[np.arange(50.0), 100.0]
    groups = np.r_[np.zeros(50, int), 1]  # group 1 has one row: absent in ~37% of resamples
    ks = bootstrap_ks(pred, groups, n_boot=100, random_state=0)
    losses = bootstrap_group_losses(pred, pred + 1, groups, "absolute", 100, random_state=0)
    for missing in (np.isnan(ks), np.isnan(losses[:, 1])):
        assert 10 < missing.sum() < 70
    assert np.all(ks[~np.isnan(ks)] == 1.0)  # the lone row sits above every other
    assert not np.isnan(losses[:, 0]).any()


def test_errors_name_the_problem():
    with pytest.raises(UnknownNameError, match="Available: absolute, squared"):
        group_losses([1.0], [1.0], ["a"], "huber")
    with pytest.raises(UnknownNameError, match="demographic_parity_ks"):
        regression_measure("demographic_parity_difference")
    with pytest.raises(InputError, match=LENGTH_MISMATCH.format(what="groups", n_other=2, n=3)):
        ks_distance([1.0, 2.0, 3.0], ["a", "b"])
    with pytest.raises(InputError, match="missing or infinite"):
        ks_distance([1.0, np.nan], ["a", "b"])
    with pytest.raises(InputError, match=EMPTY_GROUP.format(group="b").split(",")[0]):
        ks_distance([1.0, 2.0, 3.0], ["a", "b", "b"], sample_weight=[1.0, 0.0, 0.0])


def test_ks_lower_bound_by_hand():
    # 100 rows at 0..99 against 100 at 50..149: KS 0.5; a third group far away
    a, b, c = np.arange(100.0), np.arange(50.0, 150.0), np.arange(1000.0, 1020.0)
    pred = np.r_[a, b]
    groups = np.r_[np.zeros(100), np.ones(100)]
    expected = 0.5 - kstwobign.isf(0.05) * np.sqrt(2 / 100)
    assert ks_lower_bound(pred, groups, 0.05) == pytest.approx(expected)
    # three groups: three pairs, Bonferroni; the far group against 0..99 gaps by 1
    three = ks_lower_bound(np.r_[pred, c], np.r_[groups, np.full(20, 2)], 0.05)
    assert three == pytest.approx(1 - kstwobign.isf(0.05 / 3) * np.sqrt(1 / 100 + 1 / 20))
    # weights count by their effective size: equal weights change nothing
    assert ks_lower_bound(pred, groups, 0.05, sample_weight=np.full(200, 3.0)) == pytest.approx(
        expected
    )
    # four rows a group, half overlapping: a gap of 0.5 says nothing at that size
    assert ks_lower_bound([0, 1, 2, 3, 2, 3, 4, 5], [0, 0, 0, 0, 1, 1, 1, 1], 0.05) == 0.0


def test_ks_interval_lower_end_covers_a_fair_model_and_the_upper_end_is_the_bootstraps():
    """Two groups of about 400 rows with identical prediction distributions: the
    bootstrap's own lower end reads above 0.05 in many draws (an audit would
    call a fair model unfair); the interval's lower end does at most as often as its
    level allows. Its upper end, which the search's claims read, is the bootstrap's."""
    (constraint,) = parse_constraints("demographic_parity_ks <= 0.05")
    rng = np.random.default_rng(3)
    groups = np.r_[np.zeros(400), np.ones(430)]
    bootstrap_low_over, low_over = 0, 0
    for seed in range(40):
        pred = rng.normal(size=groups.size)
        low, high = evaluate_intervals([constraint], pred, pred, groups, level=0.9,
                                       random_state=seed)[constraint.key]  # fmt: skip
        drawn = bootstrap_ks(pred, groups, 200, seed)
        assert high == pytest.approx(np.nanquantile(drawn, 0.95))
        bootstrap_low_over += np.nanquantile(drawn, 0.05) > 0.05
        low_over += low > 0.05
    assert bootstrap_low_over >= 10  # the bias this guards against is there
    assert low_over <= 2
