"""Weighted post-processors (``sample_weight``): integer weights fit the rule of the rows
repeated that many times, and weights change the rule where they should."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

import fairautoml.estimators.build
from fairautoml import FairAutoML
from fairautoml.data.groups import GroupEncoder
from fairautoml.measures.constraints import bind_constraints, parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import available_mitigators, get_mitigator
from fairautoml.mitigators._bias_score_core import fit_bias_score_rule
from fairautoml.mitigators._recalibration_core import GroupRecalibration
from fairautoml.mitigators.inferred_thresholds import fit_inferred_thresholds
from fairautoml.mitigators.relaxed_thresholds import fit_relaxed_thresholds
from fairautoml.tasks import get_task

WEIGHTED_POSTS = {
    "group_thresholds", "relaxed_thresholds", "inferred_thresholds", "bias_score",
    "bias_score_blind", "barycenter_transport", "barycenter_transport_blind",
    "group_recalibration", "group_recalibration_blind", "multiclass_lp", "multiclass_lp_blind",
    "multicalibration", "multicalibration_blind",
}  # fmt: skip


def _data(n: int = 1200, n_groups: int = 2, seed: int = 0):
    """Scores informative of y and shifted by group, integer weights 1..3, and a noisy
    P(group | x)."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n)
    y = (rng.random(n) < 0.3 + 0.25 * g / max(n_groups - 1, 1)).astype(int)
    s = np.clip(0.3 * y + 0.15 * g + rng.normal(0.3, 0.2, n), 0, 1)
    k = rng.integers(1, 4, n)
    guess = np.where(rng.random(n) < 0.75, g, rng.integers(0, n_groups, n))
    confidence = rng.uniform(0.5, 1.0, n)
    proba = np.tile(((1 - confidence) / (n_groups - 1))[:, None], (1, n_groups))
    proba[np.arange(n), guess] = confidence
    return s, y, g, k, proba


def _repeat(k: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    return [np.repeat(a, k, axis=0) for a in arrays]


def _skewed(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Weights that make group 1's positives much heavier: a different population."""
    return np.where((g == 1) & (y == 1), 8.0, 1.0)


def test_every_post_processor_that_can_be_weighted_says_so():
    posts = {n for n in available_mitigators() if get_mitigator(n).stage == "post"}
    weighted = {n for n in posts if get_mitigator(n).accepts_sample_weight}
    assert weighted == WEIGHTED_POSTS & posts
    for name in available_mitigators():  # the others say why not
        m = get_mitigator(name)
        if not m.accepts_sample_weight:
            doc = type(m).__doc__ or ""
            module = __import__(type(m).__module__, fromlist=["_"]).__doc__ or ""
            assert "Not for weighted fits" in doc + module, name


# --- relaxed_thresholds ----------------------------------------------------------------------

SPECS = [
    ["demographic_parity_difference <= 0.05"],
    ["equalized_odds_difference <= 0.05"],
    ["demographic_parity_ratio >= 0.85"],
    ["true_positive_rate_difference <= 0.05", "false_positive_rate_ratio >= 0.8"],
]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy"])
def test_relaxed_thresholds_integer_weights_fit_the_rule_of_repeated_rows(spec, metric):
    s, y, g, k, _ = _data(n_groups=3)
    c, m = parse_constraints(spec), get_metric(metric)
    weighted = fit_relaxed_thresholds(s, y, g, c, m, 0.8, seed=3, sample_weight=k.astype(float))
    repeated = fit_relaxed_thresholds(*_repeat(k, s, y, g), c, m, 0.8, seed=3)
    assert weighted.feasible == repeated.feasible
    for a, b in zip(weighted.thresholds, repeated.thresholds, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weighted.accept, repeated.accept, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7)
    assert weighted.objective == pytest.approx(repeated.objective, abs=1e-9)
    new = np.random.default_rng(1).random(500)
    groups = np.arange(500) % 3
    np.testing.assert_array_equal(
        weighted.predict(new, groups), repeated.predict(new, groups)
    )  # fmt: skip


def test_relaxed_thresholds_weights_change_the_rule():
    s, y, g, _, _ = _data()
    c, m = parse_constraints(["equalized_odds_difference <= 0.05"]), get_metric("accuracy")
    plain = fit_relaxed_thresholds(s, y, g, c, m, seed=0)
    skewed = fit_relaxed_thresholds(s, y, g, c, m, seed=0, sample_weight=_skewed(y, g))
    assert plain.objective != pytest.approx(skewed.objective)
    assert any(
        a.shape != b.shape or not np.allclose(a, b)
        for a, b in zip(plain.accept, skewed.accept, strict=True)
    )
    # the weighted rates it predicted are the weighted rates of its acceptance probabilities
    w = _skewed(y, g)
    p = skewed.accept_probability(s, g)
    for group in (0, 1):
        pos = (g == group) & (y == 1)
        tpr = np.sum(w[pos] * p[pos]) / np.sum(w[pos])
        assert tpr == pytest.approx(skewed.rates["tpr"][group], abs=1e-8)


def test_relaxed_thresholds_weighted_pooled_rates_of_an_attribute():
    rng = np.random.default_rng(2)
    n = 1500
    sens = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "race": rng.choice(["a", "b"], n)})
    encoder = GroupEncoder.fit(sens)
    codes = encoder.encode(sens)
    y = rng.integers(0, 2, n)
    s = 1 / (1 + np.exp(-(1.5 * y - 0.75 + (sens["race"] == "a") + rng.normal(size=n))))
    s = s.to_numpy()
    k = rng.integers(1, 4, n)
    per_race = bind_constraints(
        parse_constraints(["demographic_parity_difference[race] <= 0.05"]), encoder
    )
    m = get_metric("accuracy")
    weighted = fit_relaxed_thresholds(s, y, codes, per_race, m, sample_weight=k.astype(float))
    repeated = fit_relaxed_thresholds(*_repeat(k, s, y, codes), per_race, m)
    assert weighted.objective == pytest.approx(repeated.objective, abs=1e-9)
    race = (sens["race"] == "b").to_numpy().astype(int)
    p = weighted.accept_probability(s, codes)
    selection = np.bincount(race, weights=k * p) / np.bincount(race, weights=k)
    assert weighted.feasible and abs(selection[1] - selection[0]) <= 0.05 + 1e-6


# --- inferred_thresholds ---------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS)
def test_inferred_thresholds_integer_weights_fit_the_rule_of_repeated_rows(spec):
    s, y, g, k, proba = _data(n_groups=3, seed=4)
    c, m = parse_constraints(spec), get_metric("accuracy")
    weighted = fit_inferred_thresholds(s, y, g, proba, c, m, 0.8, 1, sample_weight=k * 1.0)
    repeated = fit_inferred_thresholds(*_repeat(k, s, y, g, proba), c, m, 0.8, 1)
    np.testing.assert_array_equal(weighted.cell_map, repeated.cell_map)
    assert weighted.cells.objective == pytest.approx(repeated.cells.objective, abs=1e-9)
    for r, values in weighted.cells.rates.items():
        np.testing.assert_allclose(values, repeated.cells.rates[r], atol=1e-7, err_msg=r)
    np.testing.assert_array_equal(
        weighted.predict(s, None, group_proba=proba), repeated.predict(s, None, group_proba=proba)
    )


def test_inferred_thresholds_weights_change_the_rule():
    s, y, g, _, proba = _data(seed=5)
    c, m = parse_constraints(["equalized_odds_difference <= 0.05"]), get_metric("accuracy")
    plain = fit_inferred_thresholds(s, y, g, proba, c, m)
    skewed = fit_inferred_thresholds(s, y, g, proba, c, m, sample_weight=_skewed(y, g))
    assert plain.cells.objective != pytest.approx(skewed.cells.objective)


# --- bias_score(_blind) ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bias_score", "bias_score_blind"])
@pytest.mark.parametrize(
    "spec",
    [
        "demographic_parity_difference <= 0.03",
        "equal_opportunity_difference <= 0.03",
        "equalized_odds_difference <= 0.05",
    ],
)
@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy"])
def test_bias_score_integer_weights_fit_the_rule_of_repeated_rows(name, spec, metric):
    s, y, g, k, proba = _data(seed=6)
    post, c, m = get_mitigator(name), parse_constraints([spec]), get_metric(metric)
    extra = {"group_proba": proba} if post.needs_group_proba else {}
    weighted = post.fit(s, y, g, c, m, {}, 0, sample_weight=k.astype(float), **extra)
    repeated_extra = {"group_proba": np.repeat(proba, k, axis=0)} if extra else {}
    repeated = post.fit(*_repeat(k, s, y, g), c, m, {}, 0, **repeated_extra)
    assert weighted.rule.params == pytest.approx(repeated.rule.params, rel=1e-9)
    np.testing.assert_allclose(weighted.rule.priors, repeated.rule.priors, rtol=1e-12)
    assert weighted.feasible == repeated.feasible
    np.testing.assert_array_equal(
        weighted.predict(s, g, **extra), repeated.predict(s, g, **extra)
    )  # fmt: skip


def test_bias_score_weights_change_the_rule():
    s, y, g, _, _ = _data(seed=7)
    one_hot = np.eye(2)[g]
    kw = dict(constraint="true_positive_rate_parity", bound=0.02)
    plain = fit_bias_score_rule(s, one_hot, y, g, **kw)
    skewed = fit_bias_score_rule(s, one_hot, y, g, sample_weight=_skewed(y, g), **kw)
    assert not np.allclose(plain.priors, skewed.priors)
    assert plain.params != pytest.approx(skewed.params)
    with pytest.raises(ValueError, match="sample_weight must be"):
        fit_bias_score_rule(s, one_hot, y, g, sample_weight=np.zeros(len(y)), **kw)


# --- regression: barycenter_transport(_blind), group_recalibration(_blind) --------------------


def _regression(n: int = 800, seed: int = 8):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n)
    y = rng.normal(size=n) + g
    scores = y + rng.normal(scale=0.5, size=n) - 0.4 * g
    proba = np.column_stack([1 - (0.2 + 0.6 * g), 0.2 + 0.6 * g])
    return scores, y, g, rng.integers(1, 4, n), proba


@pytest.mark.parametrize("name", ["barycenter_transport", "barycenter_transport_blind"])
def test_transport_integer_weights_map_as_repeated_rows(name):
    scores, y, g, k, proba = _regression()
    post, c = get_mitigator(name), parse_constraints(["demographic_parity_ks <= 0.1"])
    m = get_metric("r2")
    extra = {"group_proba": proba} if post.needs_group_proba else {}
    weighted = post.fit(scores, y, g, c, m, {"fraction": 1.0}, 0, sample_weight=k * 1.0, **extra)
    rep_extra = {"group_proba": np.repeat(proba, k, axis=0)} if extra else {}
    repeated = post.fit(*_repeat(k, scores, y, g), c, m, {"fraction": 1.0}, 0, **rep_extra)
    np.testing.assert_allclose(weighted.transport.shares, repeated.transport.shares)
    # away from the extreme rows (a heavy row's level vs its copies' levels, see the core)
    inner = np.zeros(len(g), dtype=bool)
    for group in (0, 1):
        low, high = np.quantile(scores[g == group], [0.05, 0.95])
        inner |= (g == group) & (scores > low) & (scores < high)
    a = weighted.predict_proba(scores[inner], g[inner], **_rows(extra, inner))
    b = repeated.predict_proba(scores[inner], g[inner], **_rows(extra, inner))
    gap = np.abs(a - b)
    assert np.median(gap) < 0.002 * np.std(scores) and gap.max() < 0.02 * np.std(scores)
    plain = post.fit(scores, y, g, c, m, {"fraction": 1.0}, 0, **extra)
    heavy = post.fit(
        scores, y, g, c, m, {"fraction": 1.0}, 0, sample_weight=np.where(g == 1, 9.0, 1.0),
        **extra,
    )  # fmt: skip
    assert heavy.transport.shares[1] > 0.8 > plain.transport.shares[1]


def _rows(extra: dict, rows: np.ndarray) -> dict:
    return {key: value[rows] for key, value in extra.items()}


@pytest.mark.parametrize("name", ["group_recalibration", "group_recalibration_blind"])
@pytest.mark.parametrize("metric", ["rmse", "mae"])
def test_recalibration_integer_weights_fit_the_offsets_of_repeated_rows(name, metric):
    scores, y, g, k, proba = _regression()
    post = get_mitigator(name)
    c = parse_constraints(["mean_absolute_error_ratio >= 0.9"] if metric == "mae" else [])
    m = get_metric(metric)
    extra = {"group_proba": proba} if post.needs_group_proba else {}
    weighted = post.fit(scores, y, g, c, m, {}, 0, sample_weight=k * 1.0, **extra)
    rep_extra = {"group_proba": np.repeat(proba, k, axis=0)} if extra else {}
    repeated = post.fit(*_repeat(k, scores, y, g), c, m, {}, 0, **rep_extra)
    np.testing.assert_allclose(
        weighted.recalibration.offsets, repeated.recalibration.offsets, rtol=1e-12, atol=1e-12
    )
    plain = post.fit(scores, y, g, c, m, {}, 0, **extra)
    assert not np.allclose(plain.recalibration.offsets, weighted.recalibration.offsets)


def test_recalibration_weighted_median_and_zero_weight_groups():
    residual_rows = np.array([0.0, 1.0, 2.0, 10.0])
    scores, groups = np.zeros(4), np.zeros(4, dtype=int)
    heavy_top = GroupRecalibration.fit(
        residual_rows, scores, groups, 1, loss="absolute", sample_weight=np.array([1, 1, 1, 5.0])
    )
    assert heavy_top.offsets.tolist() == [10.0]
    even = GroupRecalibration.fit(
        residual_rows, scores, groups, 1, loss="absolute", sample_weight=np.array([1, 1, 1, 1.0])
    )
    assert even.offsets.tolist() == [1.5]  # np.median's middle pair
    with pytest.raises(ValueError, match="zero total weight"):
        GroupRecalibration.fit(
            residual_rows, scores, np.array([0, 0, 1, 1]), 2, sample_weight=np.array([1, 1, 0, 0.0])
        )


# --- the search ------------------------------------------------------------------------------


def test_a_weighted_blind_search_keeps_its_post_processors():
    rng = np.random.default_rng(9)
    n = 300
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    y, s = rng.integers(0, 2, n), rng.choice(["a", "b"], n)
    params = FairAutoML(decision_rule="proxy").get_params()
    _, domain = fairautoml.estimators.context.search_context(params, X, y, s, np.ones(n))
    _, unweighted = fairautoml.estimators.context.search_context(params, X, y, s, None)
    weighted = {
        p for p in unweighted.posts if p == "none" or get_mitigator(p).accepts_sample_weight
    }
    assert set(domain.posts) == weighted
    assert {"inferred_thresholds", "bias_score_blind"} <= set(domain.posts)


def test_a_weighted_blind_search_runs_its_post_processors_weighted(monkeypatch):
    from fairautoml.mitigators import bias_score
    from fairautoml.mitigators._bias_score_core import fit_bias_score_rule as core

    seen: list[bool] = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get("sample_weight") is not None)
        return core(*args, **kwargs)

    monkeypatch.setattr(bias_score, "fit_bias_score_rule", spy)
    rng = np.random.default_rng(10)
    n = 800
    g = rng.integers(0, 2, n)
    X = pd.DataFrame({"x1": rng.normal(size=n) + g, "x2": rng.normal(size=n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(X["x1"] + X["x2"])))).astype(int).to_numpy()
    w = rng.uniform(0.5, 3.0, n)
    est = FairAutoML(
        n_trials=2, time_budget=None, random_state=0, learners=["logistic_regression"],
        mitigators=["inferred_thresholds", "bias_score_blind"],
        constraints="demographic_parity_difference <= 0.05", cv_folds=None, confirm=False,
        decision_rule="proxy", n_jobs=1,
    ).fit(X, y, np.array(["a", "b"])[g], sample_weight=w)  # fmt: skip
    board = est.leaderboard_
    ok = board[board["status"] == "ok"]
    assert {"inferred_thresholds", "bias_score_blind"} <= set(ok["post"])
    assert seen and all(seen)


# --- gap_reweighing (in): weighted rates, cells' weights times the rows' ---------------------


class Binned(ClassifierMixin, BaseEstimator):
    """P(y=1) per cell of binned features, counted by the fit's weights: weights k and rows
    repeated k times train exactly the same model. Records every fit's weights."""

    fits: ClassVar[list] = []

    def fit(self, X, y, sample_weight=None):
        Binned.fits.append(sample_weight)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
        keys = self._keys(X)
        self.p_ = {}
        for key in np.unique(keys):
            rows = keys == key
            self.p_[key] = float(np.sum(w[rows] * y[rows]) / np.sum(w[rows]))
        self.classes_ = np.array([0, 1])
        return self

    @staticmethod
    def _keys(X):
        x = np.clip(np.floor(X["x"].to_numpy() * 2), -4, 4).astype(int)
        return x * 10 + (X["proxy"].to_numpy() > 1)

    def predict_proba(self, X):
        p = np.array([self.p_.get(k, 0.5) for k in self._keys(X)])
        return np.column_stack([1 - p, p])


def _unfair(n: int = 3000, seed: int = 11):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n)
    X = pd.DataFrame({"x": rng.normal(size=n), "proxy": 2.0 * g + rng.normal(0, 0.5, n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * X["x"] + 1.2 * g - 0.6)))).astype(int)
    return X, y.to_numpy(), g, rng.integers(1, 4, n)


@pytest.mark.parametrize(
    "spec", ["demographic_parity_difference <= 0.02", "equalized_odds_difference <= 0.02"]
)
def test_gap_reweighing_integer_weights_train_as_repeated_rows(spec):
    X, y, g, k = _unfair()
    m, c = get_mitigator("gap_reweighing"), parse_constraints([spec])
    Binned.fits = []
    weighted = m.fit(
        Binned, X, y, g, c, {}, 0, sample_weight=k.astype(float), task=get_task("binary")
    )
    weighted_fits = Binned.fits
    Binned.fits = []
    X_rep = X.iloc[np.repeat(np.arange(len(y)), k)].reset_index(drop=True)
    repeated = m.fit(Binned, X_rep, *_repeat(k, y, g), c, {}, 0, task=get_task("binary"))
    assert weighted.log_weights and weighted.log_weights.keys() == repeated.log_weights.keys()
    for cell, value in weighted.log_weights.items():
        assert value == pytest.approx(repeated.log_weights[cell], abs=1e-9), cell
    assert len(weighted_fits) == len(Binned.fits)
    for w, rep in zip(weighted_fits[1:], Binned.fits[1:], strict=True):
        # a row of weight k weighs what its k copies weigh together
        np.testing.assert_allclose(w, k * rep[np.cumsum(k) - 1], rtol=1e-9)
        assert w.sum() == pytest.approx(k.sum())
    np.testing.assert_allclose(
        weighted.predict_proba(X, None), repeated.predict_proba(X, None), atol=1e-12
    )
    # the refit trains the measured cells' weights times the rows' weights, once
    Binned.fits = []
    m.refit(
        weighted, Binned, X, y, g, c, {}, 0, sample_weight=k.astype(float), task=get_task("binary")
    )
    (refit_weights,) = Binned.fits
    np.testing.assert_allclose(refit_weights, weighted_fits[-1], rtol=1e-9)


def test_gap_reweighing_weights_change_the_measured_gaps():
    X, y, g, _ = _unfair(seed=12)
    m, c = (
        get_mitigator("gap_reweighing"),
        parse_constraints(["demographic_parity_difference <= 0.02"]),
    )
    plain = m.fit(Binned, X, y, g, c, {}, 0, task=get_task("binary"))
    skewed = m.fit(Binned, X, y, g, c, {}, 0, sample_weight=_skewed(y, g), task=get_task("binary"))
    assert plain.log_weights != pytest.approx(skewed.log_weights)
