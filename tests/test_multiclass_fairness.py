"""Multiclass fairness measures: by hand, equal to the binary (fairlearn) values on two
classes, and their bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from fairautoml.exceptions import InputError, UnknownNameError
from fairautoml.measures import multiclass as mf
from fairautoml.measures.constraints import CLASSIFICATION_METRICS, Constraint, evaluate_constraints
from fairautoml.measures.decisions import rates_from_counts

OP = {name: m.op for name, m in mf.MULTICLASS_MEASURES.items()}


def _three_class_example():
    # group a: 4 rows, group b: 4 rows; classes 0, 1, 2
    y = np.array([0, 1, 2, 2, 0, 1, 1, 2])
    pred = np.array([0, 1, 1, 2, 1, 1, 0, 2])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    return y, pred, groups


def test_rates_by_hand():
    y, pred, groups = _three_class_example()
    rates = mf.group_class_rates(y, pred, groups)
    # selection: a predicts 0,1,1,2 -> (1/4, 2/4, 1/4); b predicts 1,1,0,2 -> (1/4, 2/4, 1/4)
    np.testing.assert_allclose(rates["selection"], [[0.25, 0.5, 0.25], [0.25, 0.5, 0.25]])
    # tpr: a: class 0 1/1, class 1 1/1, class 2 1/2; b: class 0 0/1, class 1 1/2, class 2 1/1
    np.testing.assert_allclose(rates["tpr"], [[1.0, 1.0, 0.5], [0.0, 0.5, 1.0]])
    # fpr: a: pred 0 among y!=0 (3 rows): 0; pred 1 among y!=1 (3 rows: y=0,2,2): 1 -> 1/3;
    # pred 2 among y!=2 (2 rows): 0. b: pred 0 among y!=0 (3): 1 (a y=1) -> 1/3;
    # pred 1 among y!=1 (2 rows: y=0,2): 1 (the y=0) -> 1/2; pred 2 among y!=2 (3): 0
    np.testing.assert_allclose(rates["fpr"], [[0.0, 1 / 3, 0.0], [1 / 3, 0.5, 0.0]])
    values = mf.measure_values(list(mf.MULTICLASS_MEASURES), y, pred, groups)
    assert values["demographic_parity_difference"] == pytest.approx(0.0)
    assert values["demographic_parity_ratio"] == pytest.approx(1.0)
    # tpr gaps 1, 0.5, 0.5; fpr gaps 1/3, 1/6, 0
    assert values["equal_opportunity_difference"] == pytest.approx(1.0)
    assert values["equalized_odds_difference"] == pytest.approx(1.0)
    assert values["false_positive_rate_difference"] == pytest.approx(1 / 3)
    # ratios: tpr per class 0/1, 0.5/1, 0.5/1 -> 0; fpr 0/(1/3), (1/3)/(1/2), 0/0 -> 0
    assert values["equal_opportunity_ratio"] == pytest.approx(0.0)
    # favourable classes restrict the comparison: class 1 alone has a tpr gap of 1/2
    assert mf.measure_value(
        "equal_opportunity_difference", y, pred, groups, favourable=[1]
    ) == pytest.approx(0.5)
    assert mf.measure_value(
        "equal_opportunity_ratio", y, pred, groups, favourable=[1, 2]
    ) == pytest.approx(0.5)
    assert mf.measure_value(
        "false_positive_rate_ratio", y, pred, groups, favourable=1
    ) == pytest.approx(2 / 3)


def test_sample_weight_is_a_weighted_count():
    y, pred, groups = _three_class_example()
    # doubling a row's weight is the same as repeating it
    weight = np.ones(len(y))
    weight[1] = 2.0
    repeated = np.r_[np.arange(len(y)), 1]
    for name in mf.MULTICLASS_MEASURES:
        weighted = mf.measure_value(name, y, pred, groups, sample_weight=weight)
        plain = mf.measure_value(name, y[repeated], pred[repeated], groups[repeated])
        assert weighted == pytest.approx(plain, nan_ok=True), name


def test_undefined_rate_is_nan():
    y = np.array([0, 1, 2, 0, 1, 1])
    pred = np.array([0, 1, 2, 0, 1, 2])
    groups = np.array([0, 0, 0, 1, 1, 1])  # group 1 has no row of class 2
    assert np.isnan(mf.measure_value("equal_opportunity_difference", y, pred, groups))
    assert np.isfinite(mf.measure_value("demographic_parity_difference", y, pred, groups))


@pytest.fixture(scope="module")
def binary_data():
    rng = np.random.default_rng(3)
    n = 900
    groups = rng.choice(np.array(["x", "y", "z"]), n, p=[0.5, 0.3, 0.2])
    y = rng.binomial(1, 0.3 + 0.2 * (groups == "y"))
    pred = np.where(rng.uniform(size=n) < 0.8, y, 1 - y)
    pred[(groups == "z") & (rng.uniform(size=n) < 0.3)] = 1
    return y, pred, groups


@pytest.mark.parametrize("name", CLASSIFICATION_METRICS)
def test_two_classes_equal_the_binary_values(binary_data, name):
    y, pred, groups = binary_data
    assert set(CLASSIFICATION_METRICS) == set(mf.MULTICLASS_MEASURES)
    measure = mf.multiclass_measure(name)
    constraint = Constraint(name, OP[name], 0.5)
    binary = constraint.value(y, pred, groups)  # fairlearn's
    assert binary == pytest.approx(evaluate_constraints([constraint], y, pred, groups)[name])
    # class 1 favourable: every measure is the binary one
    assert mf.measure_value(name, y, pred, groups, favourable=[1]) == pytest.approx(binary)
    # both classes: the demographic parity and equalized odds differences still are
    both = mf.measure_value(name, y, pred, groups)
    if measure.symmetric_on_two_classes:
        assert both == pytest.approx(binary)
        assert mf.measure_value(name, y, pred, groups, favourable=[0]) == pytest.approx(binary)
    assert measure.symmetric_on_two_classes == (not constraint.needs_positive_label)


def test_two_class_bootstrap_equals_the_binary_one(binary_data):
    # the same resampled cells, read as binary confusion counts: the same values
    y, pred, groups = binary_data
    cells = mf.bootstrap_cells(y, pred, groups, n_boot=500, random_state=0)
    tp, fn, fp, tn = cells[..., 1, 1], cells[..., 1, 0], cells[..., 0, 1], cells[..., 0, 0]
    binary = rates_from_counts(tp, fn, fp, tn)
    ours = mf.rates_from_cells(cells)
    for name, measure in mf.MULTICLASS_MEASURES.items():
        theirs = Constraint(name, OP[name], 0.5).from_rates(binary)
        mine = measure.from_rates(ours, [1])
        defined = np.isfinite(mine)
        assert defined.mean() > 0.95
        np.testing.assert_allclose(mine[defined], theirs[defined], err_msg=name)
    boot = mf.bootstrap_measures(["equalized_odds_difference"], y, pred, groups, n_boot=500,
                                 random_state=0, favourable=[1])  # fmt: skip
    expected = Constraint("equalized_odds_difference", "<=", 0.5).from_rates(binary)
    np.testing.assert_allclose(boot["equalized_odds_difference"], expected)


def test_bootstrap_shape_and_centre():
    rng = np.random.default_rng(0)
    n = 3000
    groups = rng.integers(0, 3, n)
    y = rng.integers(0, 4, n)
    pred = np.where(rng.uniform(size=n) < 0.6, y, rng.integers(0, 4, n))
    cells = mf.bootstrap_cells(y, pred, groups, n_boot=50, random_state=1)
    assert cells.shape == (50, 3, 4, 4)
    exact, _ = mf.confusion_cells(y, pred, groups)
    np.testing.assert_allclose(cells.mean(axis=0), exact, rtol=0.25)
    names = ["demographic_parity_difference", "equalized_odds_ratio"]
    boot = mf.bootstrap_measures(names, y, pred, groups, n_boot=300, random_state=2)
    again = mf.bootstrap_measures(names, y, pred, groups, n_boot=300, random_state=2)
    values = mf.measure_values(names, y, pred, groups)
    for name in names:
        assert boot[name].shape == (300,)
        np.testing.assert_array_equal(boot[name], again[name])
        low, high = np.quantile(boot[name], [0.01, 0.99])
        assert low <= values[name] + 0.02 and values[name] - 0.02 <= high


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"y_true": ["a", "b"], "y_pred": [0, 1], "groups": [0, 1]}, "class codes"),
        ({"y_true": [0, 1.5], "y_pred": [0, 1], "groups": [0, 1]}, "class codes"),
        ({"y_true": [0, -1], "y_pred": [0, 1], "groups": [0, 1]}, "class codes"),
        ({"y_true": [0, 1], "y_pred": [0, 1, 1], "groups": [0, 1]}, "y_pred has 3"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "groups": [0]}, "groups has 1"),
        ({"y_true": [0, 1], "y_pred": [0, 3], "groups": [0, 1], "n_classes": 3}, "class codes"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "groups": [0, 1], "favourable": [2]}, "favourable"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "groups": [0, 1], "favourable": []}, "favourable"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "groups": [0, 1], "favourable": [1, 1]}, "distinct"),
        ({"y_true": [], "y_pred": [], "groups": []}, "empty"),
        (
            {"y_true": [0, 1], "y_pred": [0, 1], "groups": [0, 1], "sample_weight": [1, -1]},
            "non-negative",
        ),
        (
            {"y_true": [0, 1], "y_pred": [0, 1], "groups": [0, 1], "sample_weight": [1, 0]},
            "zero total",
        ),
    ],
)
def test_bad_input_names_the_fix(kwargs, words):
    with pytest.raises(InputError, match=words):
        mf.measure_value("demographic_parity_difference", **kwargs)


def test_unknown_measure_and_bad_n_boot():
    with pytest.raises(UnknownNameError, match="demographic_parity_difference"):
        mf.multiclass_measure("demographic_parity_ks")
    with pytest.raises(InputError, match="n_boot"):
        mf.bootstrap_cells([0, 1], [0, 1], [0, 1], n_boot=0)
