"""Tests of the FairGBM-style constrained boosting core (proxy-Lagrangian on LightGBM).

Fairness gaps are always measured with fairlearn on held-out rows, never re-derived here.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_positive_rate_difference,
)
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from fairautoml.mitigators._constrained_boosting_core import (
    SUPPORTED_CONSTRAINTS,
    fit_constrained_booster,
    predict_margin,
    predict_proba_positive,
)

GAPS = {
    "demographic_parity": demographic_parity_difference,
    "true_positive_rate_parity": equal_opportunity_difference,
    "false_positive_rate_parity": false_positive_rate_difference,
    "equalized_odds": equalized_odds_difference,
}
PARAMS = {"num_threads": 1, "num_leaves": 15}
BOUND = 0.05
GERMAN = "/work/shared/datasets/german.csv.gz"


def make_biased(n: int, n_groups: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Known bias: the label has a base-rate shift by group, and the main feature is measured with
    a group offset (higher groups look better than they are). The group is only weakly visible
    through a noisy proxy, so a plain model has large DP, TPR and FPR gaps (~0.15-0.3)."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n)
    x1, x2, x3 = rng.normal(size=(3, n))
    cat = rng.choice(["a", "b", "c"], size=n)
    logit = 2.5 * x1 + 1.2 * x2 - g + np.select([cat == "a", cat == "b"], [0.8, -0.4], 0.0)
    y = (logit + rng.logistic(scale=0.7, size=n) > 0).astype(np.int64)
    X = pd.DataFrame(
        {
            "x1": x1 + 0.6 * g,
            "x2": np.where(rng.random(n) < 0.1, np.nan, x2),  # missing values
            "x3": x3,
            "proxy": g + rng.normal(scale=1.5, size=n),
            "cat": pd.Categorical(cat),
        }
    )
    return X, y, g


def _split(X: pd.DataFrame, y: np.ndarray, g: np.ndarray, n_train: int) -> dict:
    tr, te = slice(0, n_train), slice(n_train, None)
    return {
        "X": X.iloc[tr],
        "y": y[tr],
        "g": g[tr],
        "X_te": X.iloc[te],
        "y_te": y[te],
        "g_te": g[te],
    }


def _plain_pred(data: dict) -> np.ndarray:
    params = {"objective": "binary", "verbosity": -1, "seed": 0, **PARAMS}
    booster = lgb.train(params, lgb.Dataset(data["X"], data["y"]), num_boost_round=100)
    return booster.predict(data["X_te"], num_threads=1) > 0.5


def _fit(data: dict, constraint: str, **kwargs):
    kwargs = {"bound": BOUND, "params": PARAMS, "random_state": 0, **kwargs}
    return fit_constrained_booster(data["X"], data["y"], data["g"], constraint=constraint, **kwargs)


def _gap(data: dict, constraint: str, pred: np.ndarray, **kwargs) -> float:
    return float(GAPS[constraint](data["y_te"], pred, sensitive_features=data["g_te"], **kwargs))


@pytest.fixture(scope="module")
def two_groups() -> dict:
    return _split(*make_biased(15000, 2, seed=0), n_train=10000)


@pytest.fixture(scope="module")
def three_groups() -> dict:
    return _split(*make_biased(15000, 3, seed=1), n_train=10000)


@pytest.mark.parametrize("constraint", list(GAPS))
def test_reduces_held_out_gap(two_groups: dict, constraint: str) -> None:
    plain = _plain_pred(two_groups)
    pred = predict_proba_positive(_fit(two_groups, constraint), two_groups["X_te"]) > 0.5
    plain_gap, gap = _gap(two_groups, constraint, plain), _gap(two_groups, constraint, pred)
    assert plain_gap > 0.1  # the known bias is there
    assert gap <= 0.4 * plain_gap
    assert gap <= BOUND + 0.04
    acc, plain_acc = np.mean(pred == two_groups["y_te"]), np.mean(plain == two_groups["y_te"])
    assert acc >= plain_acc - 0.15


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_three_groups(three_groups: dict, constraint: str) -> None:
    result = _fit(three_groups, constraint)
    pred = predict_proba_positive(result, three_groups["X_te"]) > 0.5
    plain_gap = _gap(three_groups, constraint, _plain_pred(three_groups))
    assert _gap(three_groups, constraint, pred) <= 0.5 * plain_gap
    n_rates = len(SUPPORTED_CONSTRAINTS[constraint])
    assert result.multipliers.shape == (n_rates, 3, 2)
    assert np.asarray(result.history[-1]["rates"]).shape == (n_rates, 3)
    assert len(result.history) == 100 // 5 and result.n_rounds == 100


def test_not_constant_under_zero_bound_and_aggressive_dual(two_groups: dict) -> None:
    result = _fit(two_groups, "demographic_parity", bound=0.0, dual_lr=100.0, dual_every=1)
    proba = predict_proba_positive(result, two_groups["X_te"])
    assert proba.std() > 0.1
    assert 0.1 < np.mean(proba > 0.5) < 0.9
    assert roc_auc_score(two_groups["y_te"], proba) > 0.75
    assert (result.multipliers >= 0).all() and np.isfinite(result.multipliers).all()
    assert result.multipliers.max() <= 10.0


def test_warns_when_the_model_is_constant() -> None:
    X = pd.DataFrame({"x": np.random.default_rng(0).normal(size=400)})
    y, g = np.tile([0, 1], 200), np.repeat([0, 1], 200)
    no_split = {"min_gain_to_split": 1e9, "num_threads": 1}  # no split is worth it
    with pytest.warns(RuntimeWarning, match="constant"):
        fit_constrained_booster(
            X, y, g, constraint="demographic_parity", bound=0.1, params=no_split
        )


def test_repeatable_with_same_random_state(two_groups: dict) -> None:
    a, b = (_fit(two_groups, "equalized_odds", random_state=7) for _ in range(2))
    c = _fit(two_groups, "equalized_odds", random_state=8)
    X_te = two_groups["X_te"]
    np.testing.assert_array_equal(predict_margin(a, X_te), predict_margin(b, X_te))
    np.testing.assert_array_equal(a.multipliers, b.multipliers)
    assert [h["rates"] for h in a.history] == [h["rates"] for h in b.history]
    assert not np.array_equal(predict_margin(a, X_te), predict_margin(c, X_te))


def test_predictions_and_base_score_without_active_constraint(two_groups: dict) -> None:
    result = _fit(two_groups, "demographic_parity", bound=1.0)  # never violated
    assert not result.multipliers.any()
    X_te, y_te = two_groups["X_te"], two_groups["y_te"]
    margin, proba = predict_margin(result, X_te), predict_proba_positive(result, X_te)
    assert proba.dtype == np.float64 and margin.dtype == np.float64
    np.testing.assert_allclose(proba, 1.0 / (1.0 + np.exp(-margin)))
    plain = lgb.train(
        {"objective": "binary", "verbosity": -1, **PARAMS},
        lgb.Dataset(two_groups["X"], two_groups["y"]),
        num_boost_round=100,
    )
    # trees boosted from the log-odds of the mean: dropping it in predict would shift every score
    assert log_loss(y_te, proba) <= log_loss(y_te, plain.predict(X_te, num_threads=1)) + 0.02
    assert abs(proba.mean() - y_te.mean()) < 0.03


def test_sample_weight_is_used(two_groups: dict) -> None:
    data = dict(two_groups)
    rng = np.random.default_rng(3)
    noisy = rng.random(len(data["y"])) < 0.4
    data["y"] = np.where(noisy, 0, data["y"])  # 40% of the rows wrongly labelled negative
    ignored = _fit(data, "demographic_parity", sample_weight=(~noisy).astype(float))
    trusted = _fit(data, "demographic_parity")
    acc = {
        name: np.mean((predict_proba_positive(r, data["X_te"]) > 0.5) == data["y_te"])
        for name, r in {"ignored": ignored, "trusted": trusted}.items()
    }
    assert acc["ignored"] > acc["trusted"] + 0.03
    pred = predict_proba_positive(ignored, data["X_te"]) > 0.5
    assert _gap(data, "demographic_parity", pred) <= BOUND + 0.04


def test_sample_weight_reduces_weighted_gap(two_groups: dict) -> None:
    w = np.random.default_rng(4).uniform(
        0.2, 3.0, size=len(two_groups["y"]) + len(two_groups["y_te"])
    )
    w_tr, w_te = w[: len(two_groups["y"])], w[len(two_groups["y"]) :]
    pred = predict_proba_positive(
        _fit(two_groups, "equalized_odds", sample_weight=w_tr), two_groups["X_te"]
    )
    plain = _plain_pred(two_groups)
    gap = _gap(two_groups, "equalized_odds", pred > 0.5, sample_weight=w_te)
    assert gap <= 0.5 * _gap(two_groups, "equalized_odds", plain, sample_weight=w_te)


def test_unknown_constraint_lists_supported_kinds(two_groups: dict) -> None:
    with pytest.raises(ValueError, match="Unknown constraint 'equal_odds'") as info:
        _fit(two_groups, "equal_odds")
    for kind in (
        "demographic_parity",
        "true_positive_rate_parity",
        "false_positive_rate_parity",
        "equalized_odds",
    ):
        assert kind in str(info.value)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"y": np.full(50, 2)}, "only 0 and 1"),
        ({"groups": np.zeros(49, dtype=int)}, "one entry per row"),
        ({"groups": np.zeros(50, dtype=int)}, "two groups"),
        ({"groups": np.linspace(0, 1, 50)}, "integer codes"),
        ({"bound": -0.1}, "bound"),
        ({"sample_weight": -np.ones(50)}, "sample_weight"),
        ({"dual_every": 0}, "dual_every"),
    ],
)
def test_invalid_inputs_raise(change: dict, match: str) -> None:
    args = {
        "X": pd.DataFrame({"x": np.arange(50.0)}),
        "y": np.tile([0, 1], 25),
        "groups": np.repeat([0, 1], 25),
        "constraint": "demographic_parity",
        "bound": 0.1,
    } | change
    with pytest.raises(ValueError, match=match):
        fit_constrained_booster(**args)


def _german() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    df = pd.read_csv(GERMAN)
    y = (df.pop("credit_risk") == 1).to_numpy(np.int64)  # 1 = good credit
    female = (df["personal_status_sex"] == "A92").to_numpy(np.int64)
    for c in df.columns:
        is_num = pd.api.types.is_numeric_dtype(df[c])
        df[c] = df[c].astype("float64") if is_num else df[c].astype("category")
    return df, y, female


def test_german_credit_demographic_parity_out_of_fold() -> None:
    """1000 rows are too few for a per-split check, so compare pooled 5-fold predictions."""
    X, y, a = _german()
    plain, constrained = np.zeros(len(y), bool), np.zeros(len(y), bool)
    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(X, y * 2 + a)
    for k, (tr, te) in enumerate(folds):
        params = {"objective": "binary", "verbosity": -1, "num_threads": 1}
        model = lgb.train(params, lgb.Dataset(X.iloc[tr], y[tr]), num_boost_round=100)
        plain[te] = model.predict(X.iloc[te], num_threads=1) > 0.5
        result = fit_constrained_booster(
            X.iloc[tr], y[tr], a[tr], constraint="demographic_parity", bound=0.02,
            params={"num_threads": 1}, random_state=k,
        )  # fmt: skip
        constrained[te] = predict_proba_positive(result, X.iloc[te]) > 0.5
    plain_gap = demographic_parity_difference(y, plain, sensitive_features=a)
    gap = demographic_parity_difference(y, constrained, sensitive_features=a)
    assert plain_gap > 0.03
    assert gap <= 0.5 * plain_gap
    assert np.mean(constrained == y) >= np.mean(plain == y) - 0.03
