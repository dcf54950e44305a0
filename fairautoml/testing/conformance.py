"""Conformance checks every registered learner and mitigator passes (built-in or yours).

In the spirit of ``optuna/testing/pytest_samplers.py``: the package's tests run them for
every registered name, and a user can run them on a plug-in before searching with it::

    from fairautoml.testing.conformance import check_learner, check_mitigator

    check_learner("my_learner")  # the checks of each task it declares
    check_mitigator("my_mitigator", "demographic_parity_difference <= 0.1")
    check_regression_mitigator("my_mitigator", "mean_squared_error_group_max <= 1.5")

Each check raises ``AssertionError`` naming what is wrong.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from fairautoml.data.prepare import PreparedData, prepare_fit_data
from fairautoml.data.splits import split_train_validation
from fairautoml.exceptions import ConfigurationError
from fairautoml.learners import TASKS, Learner, get_learner
from fairautoml.measures.constraints import Constraint, parse_constraints
from fairautoml.measures.metrics import get_metric
from fairautoml.measures.regression import group_losses, regression_measure
from fairautoml.mitigators import STAGES, PostProcessor, TrainingMitigator, get_mitigator
from fairautoml.model.fair_model import FairModel
from fairautoml.search.evaluate import evaluate_candidate
from fairautoml.spaces import SearchSpace
from fairautoml.study.trial import Candidate, SearchContext, TrialResult
from fairautoml.tasks import get_task

# the worst group's training loss a group-loss bound may leave above the unmitigated
# learner's, as a share of it: a mixture or reweighted refit moves every group's loss a
# little (a learner whose seed moves it more is allowed that change too)
LOSS_NOISE = 0.05


def make_unfair(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Two groups with different base rates, a feature that is noisier for one group, a
    numeric and a categorical proxy of the group, missing values: a learner that ignores
    fairness violates demographic parity and equalized odds on it by 0.2 or more."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, size=n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    logits = 1.5 * x1 + x2 + 2.5 * (g - 0.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(int)
    x1 = x1 + (g == 0) * rng.normal(size=n)  # group 0's x1 is measured with noise
    proxy = g + rng.normal(0.0, 0.5, size=n)
    colour = np.where(rng.random(n) < 0.3 + 0.4 * g, "red", rng.choice(["green", "blue"], n))
    colour = colour.astype(object)
    colour[rng.random(n) < 0.05] = None
    x2 = np.where(rng.random(n) < 0.05, np.nan, x2)
    X = pd.DataFrame({"x1": x1, "x2": x2, "proxy": proxy, "colour": colour})
    return X, pd.Series(y, name="label"), pd.Series(np.array(["a", "b"])[g], name="group")


@lru_cache(maxsize=4)
def conformance_data(n: int = 1500, seed: int = 0) -> PreparedData:
    """:func:`make_unfair`, prepared as every learner receives it."""
    return prepare_fit_data(*make_unfair(n, seed), task=get_task("binary"))


def check_space(space: SearchSpace) -> None:
    """Defaults and low-cost starts lie in their ranges; the relative cost is positive."""
    assert space.cost > 0, f"space {space.name!r}: cost must be > 0, got {space.cost}"
    for config in (space.defaults(), space.low_cost()):
        for p in space.params:
            value = config[p.name]
            if p.type == "categorical":
                assert value in p.choices, f"{space.name}.{p.name}: {value!r} not a choice"
            else:
                assert p.low <= value <= p.high, f"{space.name}.{p.name}: {value} out of range"
                assert p.type != "int" or float(value).is_integer(), f"{p.name}: not an int"


def _proba_ok(proba: np.ndarray, n: int, what: str) -> None:
    proba = np.asarray(proba)
    assert proba.shape == (n,), f"{what}: shape {proba.shape}, expected ({n},)"
    assert np.all(np.isfinite(proba)), f"{what}: non-finite probabilities"
    assert np.all((proba >= 0) & (proba <= 1)), f"{what}: probabilities outside [0, 1]"


def _all_missing_row(X: pd.DataFrame) -> pd.DataFrame:
    """The first row of ``X`` with every value missing (category columns keep their dtype)."""
    empty = X.iloc[:1].copy()
    for column in empty.columns:
        empty[column] = empty[column].mask(np.ones(1, dtype=bool))
    return empty


def check_learner(name: str, data: PreparedData | None = None) -> None:
    """Declares known tasks and answers :meth:`~fairautoml.learners.Learner.for_task` for
    each of them (and an error for the others); then passes the checks of each task it
    serves: :func:`check_classifier` (on ``data``), :func:`check_multiclass`,
    :func:`check_regressor`."""
    learner = get_learner(name)
    assert learner.tasks and learner.tasks <= set(TASKS), f"{name}: tasks {set(learner.tasks)}"
    for task in TASKS:
        if task in learner.tasks:
            view = learner.for_task(task)
            assert view.name == name and task in view.tasks, f"{name}: for_task({task!r})"
        else:
            _check_refuses(learner, task)
    if "binary" in learner.tasks:
        check_classifier(name, data)
    if "multiclass" in learner.tasks:
        check_multiclass(name)
    if "regression" in learner.tasks:
        check_regressor(name)


def _check_refuses(learner: Learner, task: str) -> None:
    try:
        learner.for_task(task)
    except ConfigurationError as error:
        assert str(error).startswith(f"Learner {learner.name!r} does not support"), str(error)
    else:
        raise AssertionError(
            f"{learner.name}: for_task({task!r}) does not raise, yet the "
            f"learner does not declare {task!r}"
        )


def check_classifier(name: str, data: PreparedData | None = None) -> None:
    """Fits on mixed types with missing values, honours ``sample_weight`` and
    ``random_state``, survives cloning, and predicts a row with every value missing."""
    learner = get_learner(name).for_task("binary")
    check_space(learner.space)
    d = data or conformance_data()
    X, y = d.X, d.y
    for params in (learner.space.low_cost(), learner.space.defaults()):
        estimator = clone(learner.make(params, random_state=0))  # reductions copy estimators
        proba = estimator.fit(X, y).predict_proba(X)
        assert proba.shape == (len(y), 2), f"{name}: predict_proba shape {proba.shape}"
        assert np.allclose(proba.sum(axis=1), 1.0), f"{name}: rows of predict_proba must sum to 1"
        _proba_ok(proba[:, 1], len(y), name)
        assert list(estimator.classes_) == [0, 1], f"{name}: classes_ {estimator.classes_}"
    low = learner.space.low_cost()
    plain = learner.make(low, random_state=0).fit(X, y).predict_proba(X)[:, 1]
    again = learner.make(low, random_state=0).fit(X, y).predict_proba(X)[:, 1]
    assert np.allclose(plain, again), f"{name}: not reproducible under the same random_state"
    weights = np.where(y == 1, 20.0, 1.0)
    weighted = learner.make(low, random_state=0).fit(X, y, sample_weight=weights)
    assert weighted.predict_proba(X)[:, 1].mean() > plain.mean() + 0.01, (
        f"{name}: sample_weight seems ignored (up-weighting positives did not raise P(y=1))"
    )
    _proba_ok(weighted.predict_proba(_all_missing_row(X))[:, 1], 1, f"{name} on an all-missing row")


@lru_cache(maxsize=4)
def regression_data(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """The table of :func:`conformance_data` (numerics with NaN, a category column with
    missing values) and a continuous target that is easy to learn from it: linear in a
    numeric column, shifted by one category, with a little noise."""
    X = conformance_data(n, seed).X
    rng = np.random.default_rng(seed)
    red = (X["colour"] == "red").to_numpy(dtype=float)
    y = 2.0 * X["x1"].to_numpy() + 1.5 * red + rng.normal(0.0, 0.3, size=len(X))
    return X, y


def check_multiclass(name: str) -> None:
    """Fits three classes on mixed types with missing values; ``predict_proba`` has a
    column a class, in the order of ``classes_``, and rows that sum to 1."""
    learner = get_learner(name).for_task("multiclass")
    X, target = regression_data()
    y = np.digitize(target, np.quantile(target, [1 / 3, 2 / 3]))  # classes 0, 1, 2
    estimator = clone(learner.make(learner.space.low_cost(), random_state=0)).fit(X, y)
    proba = estimator.predict_proba(X)
    assert list(estimator.classes_) == [0, 1, 2], f"{name}: classes_ {estimator.classes_}"
    assert proba.shape == (len(y), 3), f"{name}: predict_proba shape {proba.shape}"
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0), (
        f"{name}: rows of predict_proba must be finite and sum to 1"
    )
    hits = np.mean(estimator.classes_[np.argmax(proba, axis=1)] == y)
    assert hits > 0.5, f"{name}: {hits:.2f} of three balanced, learnable classes right"


def _predictions_ok(pred: np.ndarray, n: int, what: str) -> None:
    assert isinstance(pred, np.ndarray) and pred.dtype == np.float64, (
        f"{what}: predict must return a float64 array, got {type(pred).__name__} "
        f"of {getattr(pred, 'dtype', None)}"
    )
    assert pred.shape == (n,), f"{what}: shape {pred.shape}, expected ({n},)"
    assert np.all(np.isfinite(pred)), f"{what}: non-finite predictions"


def check_regressor(name: str, data: tuple[pd.DataFrame, np.ndarray] | None = None) -> None:
    """Fits on mixed types with missing values and predicts finite float64 values, beats
    predicting the mean on held-out rows, repeats under ``random_state``, survives
    cloning, lets ``sample_weight`` change the fit, and predicts a row with every value
    missing."""
    learner = get_learner(name).for_task("regression")
    check_space(learner.space)
    X, y = data if data is not None else regression_data()
    cut = 2 * len(y) // 3
    X_fit, y_fit, X_out, y_out = X.iloc[:cut], y[:cut], X.iloc[cut:], y[cut:]
    mean_error = np.mean((y_out - y_fit.mean()) ** 2)
    for params in (learner.space.low_cost(), learner.space.defaults()):
        estimator = clone(learner.make(params, random_state=0))
        pred = estimator.fit(X_fit, y_fit).predict(X_out)
        _predictions_ok(pred, len(y_out), name)
        error = np.mean((y_out - pred) ** 2)
        # the low-cost start may be weak (a few trees on one random column each); it must
        # still have learnt something
        assert error < 0.9 * mean_error, (
            f"{name} with {params}: held-out squared error {error:.4f} is not below "
            f"that of predicting the mean, {mean_error:.4f}"
        )
    low = learner.space.low_cost()
    plain = learner.make(low, random_state=0).fit(X, y).predict(X)
    again = learner.make(low, random_state=0).fit(X, y).predict(X)
    assert np.allclose(plain, again), f"{name}: not reproducible under the same random_state"
    weights = np.where(y > np.median(y), 20.0, 1.0)
    weighted = learner.make(low, random_state=0).fit(X, y, sample_weight=weights)
    assert not np.allclose(weighted.predict(X), plain), (
        f"{name}: sample_weight seems ignored (up-weighting half the rows changed nothing)"
    )
    _predictions_ok(weighted.predict(_all_missing_row(X)), 1, f"{name} on an all-missing row")


def _violation(constraints: list[Constraint], values: dict[str, float]) -> float:
    """Signed worst violation (negative: every constraint holds with room to spare)."""
    return max(c.violation(values[c.key]) for c in constraints)


def _low_cost(learner: str, ctx: SearchContext) -> dict[str, Any]:
    """The low-cost start of ``learner``'s space for ``ctx``'s task."""
    return get_learner(learner).for_task(ctx.task.name).space.low_cost()


def _fit_twice(
    name: str, learner: str, ctx: SearchContext
) -> tuple[TrialResult, FairModel, np.ndarray]:
    """The checks every mitigator passes, whatever the task: a valid stage and space,
    supports ``ctx``'s constraints, fits within a trial on ``learner``'s low-cost start,
    is repeatable under ``random_state``, keeps its word on needing the group at predict
    time. Returns the trial's result, its model and the model's validation scores."""
    mitigator = get_mitigator(name)
    assert mitigator.stage in STAGES, f"{name}: stage {mitigator.stage!r} not in {STAGES}"
    assert isinstance(mitigator, PostProcessor) == (mitigator.stage == "post"), name
    assert isinstance(mitigator, (PostProcessor, TrainingMitigator)), name
    check_space(mitigator.space)
    constraints = ", ".join(map(str, ctx.constraints))
    assert mitigator.supports(ctx.constraints), f"{name} does not support {constraints}"
    learner_params = _low_cost(learner, ctx)
    params = mitigator.space.low_cost()
    if mitigator.stage == "post":
        candidate = Candidate(learner, learner_params, "none", {}, name, params)
    else:
        candidate = Candidate(learner, learner_params, name, params)
    first, second = evaluate_candidate(candidate, ctx), evaluate_candidate(candidate, ctx)
    result = first.result
    assert result.status == "ok", f"{name} failed: {result.error}"
    assert first.model is not None and second.model is not None
    measured = [(r.metric, *r.constraint_values.values()) for r in (result, second.result)]
    assert np.array_equal(*measured, equal_nan=True), f"{name}: not repeatable"
    model = first.model
    assert model.needs_group == mitigator.needs_group_at_predict, (
        f"{name}: needs_group_at_predict={mitigator.needs_group_at_predict} but the fitted "
        f"model's needs_group={model.needs_group}"
    )
    X_val, _, g_val = ctx.val
    groups = g_val if model.needs_group else None
    scores = model.positive_proba(X_val, groups)
    assert np.array_equal(scores, model.positive_proba(X_val, groups)), f"{name}: not repeatable"
    assert np.array_equal(scores, second.model.positive_proba(X_val, groups)), (
        f"{name}: two fits under the same random_state predict differently"
    )
    return result, model, scores


def check_mitigator(
    name: str,
    constraints: str | list[str] | list[Constraint],
    learner: str = "lightgbm",
    data: PreparedData | None = None,
    check_effect: bool = True,
) -> None:
    """Declares a valid stage and space, supports ``constraints``, fits within a trial,
    returns probabilities consistent with its decisions, is repeatable under
    ``random_state``, keeps its word on needing the group at predict time, and (with
    ``check_effect``) lowers the validation violation of the unmitigated learner."""
    parsed = parse_constraints(constraints)
    d = data or conformance_data()
    train, val = split_train_validation(d.y, d.groups, 0.4, 0)
    ctx = SearchContext(d, train, val, parsed, get_metric("accuracy"), random_state=0)
    result, _, proba = _fit_twice(name, learner, ctx)
    _proba_ok(proba, len(proba), name)
    pred = (proba >= 0.5).astype(int)
    assert 0 < pred.mean() < 1, f"{name}: predicts one class only"
    if check_effect:
        base = evaluate_candidate(Candidate(learner, _low_cost(learner, ctx)), ctx).result
        before = _violation(parsed, base.constraint_values)
        after = _violation(parsed, result.constraint_values)
        assert before > 0, "the conformance data should make the unmitigated learner unfair"
        assert after < before, (
            f"{name} did not lower the violation of {', '.join(map(str, parsed))}: "
            f"{before:.4f} unmitigated, {after:.4f} mitigated"
        )


def make_unfair_amounts(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """:func:`make_unfair`'s table (missing values, a categorical column, a proxy of the
    group) with an amount as target: higher on average for group b, whose amounts also
    follow ``x2`` the other way round and are twice as noisy, so a learner that ignores
    fairness errs more on b and predicts differently distributed amounts for the groups."""
    X, _, s = make_unfair(n, seed)
    rng = np.random.default_rng(seed)
    b = (s == "b").to_numpy()
    x1, x2 = X["x1"].to_numpy(), np.nan_to_num(X["x2"].to_numpy())
    y = 2.0 * x1 + np.where(b, -1.0, 1.0) * x2 + 1.0 * b + rng.normal(0.0, np.where(b, 1.0, 0.5))
    return X, y, s


@lru_cache(maxsize=4)
def regression_conformance_data(n: int = 1500, seed: int = 0) -> PreparedData:
    """:func:`make_unfair_amounts`, prepared as every regression learner receives it."""
    return prepare_fit_data(*make_unfair_amounts(n, seed), task=get_task("regression"))


def _worst_group_loss(constraint: Constraint, y: np.ndarray, pred: np.ndarray, groups) -> float:
    loss = regression_measure(constraint.metric).loss
    assert loss is not None, f"{constraint} bounds no group loss"
    return float(np.max(group_losses(y, pred, groups, loss)))


def check_regression_mitigator(
    name: str, constraints: str | list[str] | list[Constraint], learner: str = "lightgbm"
) -> None:
    """For a mitigator that declares the "regression" task: supports ``constraints`` (of
    the regression family), fits within a trial on :func:`make_unfair_amounts`, returns
    finite float64 amounts of one per row, is repeatable under ``random_state``, keeps its
    word on needing the group at predict time, and, a training mitigator bounding the
    worst group's loss (``..._group_max``), leaves that group's training loss no higher
    than the unmitigated learner's, up to noise (:data:`LOSS_NOISE` of it, plus the
    learner's own change when its seed changes)."""
    parsed = parse_constraints(constraints)
    task = get_task("regression")
    assert task.name in get_mitigator(name).tasks, f"{name} does not declare the regression task"
    task.check_constraints(parsed)
    d = regression_conformance_data()
    train, val = split_train_validation(
        d.strata, d.groups, 0.4, 0, strata_names=task.strata_names, every_stratum=False
    )
    ctx = SearchContext(d, train, val, parsed, get_metric("r2"), random_state=0, task=task)
    _, model, amounts = _fit_twice(name, learner, ctx)
    _predictions_ok(amounts, len(amounts), name)
    assert np.std(amounts) > 0, f"{name}: predicts one amount for every row"
    bounded = [c for c in parsed if regression_measure(c.metric).reduction == "group_max"]
    if bounded and get_mitigator(name).stage != "post":
        X_fit, y_fit, g_fit = ctx.train
        plain = Candidate(learner, _low_cost(learner, ctx))
        base = evaluate_candidate(plain, ctx).model
        other = evaluate_candidate(plain, replace(ctx, random_state=1)).model
        assert base is not None and other is not None, f"{learner} failed unmitigated"
        groups = g_fit if model.needs_group else None
        for c in bounded:
            before = _worst_group_loss(c, y_fit, base.positive_proba(X_fit, None), g_fit)
            reseeded = _worst_group_loss(c, y_fit, other.positive_proba(X_fit, None), g_fit)
            after = _worst_group_loss(c, y_fit, model.positive_proba(X_fit, groups), g_fit)
            # noise: a share of the loss, and the learner's own change from seed to seed
            noise = LOSS_NOISE * before + abs(reseeded - before)
            assert after <= before + noise, (
                f"{name} raised the worst group's training loss under {c}: "
                f"{before:.4f} unmitigated, {after:.4f} mitigated (noise {noise:.4f})"
            )


def supported_pairs(
    mitigators: list[str], constraint_sets: list[Any], task: str = "binary"
) -> list[tuple[str, Any]]:
    """(mitigator, constraints) pairs where the mitigator serves ``task`` and supports the
    constraints (``none`` left out)."""
    return [
        (m, spec)
        for m in mitigators
        for spec in constraint_sets
        if m != "none"
        and task in get_mitigator(m).tasks
        and get_mitigator(m).supports(parse_constraints(spec))
    ]


__all__ = [
    "check_classifier",
    "check_learner",
    "check_mitigator",
    "check_multiclass",
    "check_regression_mitigator",
    "check_regressor",
    "check_space",
    "conformance_data",
    "make_unfair",
    "make_unfair_amounts",
    "regression_conformance_data",
    "regression_data",
    "supported_pairs",
]
