"""The anchors: what a practitioner would run instead of fairautoml, each as its users
would use it, each given the same :class:`~fairautoml.bench.methods.CellData` and budget.

- ``unconstrained``: FLAML AutoML on train + validation (its own holdout and refit); its
  classifier or regressor, as the dataset's task says.
- ``flaml_threshold``: FLAML on train (validation as its holdout), then fairlearn's
  ThresholdOptimizer fitted on validation (``tol`` = the bound where fairlearn allows it).
- ``eg_lightgbm``: fairlearn ExponentiatedGradient around LightGBM on train + validation;
  for amounts, its ``BoundedGroupLoss`` moment around ``LGBMRegressor`` (group-loss
  constraints only: fairlearn has no moment for demographic parity of a regressor).
- ``optuna_hpo``: multi-objective Optuna over LightGBM's hyperparameters only (accuracy,
  violation), the best validation-feasible trial (the Fairband / FairBO idea).
- ``oxonfair``: OxonFair's FairPredictor on FLAML's model, thresholds fitted on validation;
  on a blind task (``options: {blind: true}``) its inferred-groups mode, the thresholds
  applied to a group classifier's output instead of the group.
- ``flaml_threshold`` decides with the group: not applicable when blind; the other
  anchors never read it at predict time. ``flaml_threshold``, ``optuna_hpo`` and
  ``oxonfair`` are for yes/no decisions; the regression anchors that post-process FLAML's
  regressor are in ``transport_anchors.py``.

``flaml_threshold`` and ``oxonfair`` share one FLAML fit per split (``flaml_fit.py``), its
seconds charged to each. Anchors whose libraries pin versions fairautoml cannot install
(the repository's ``benchmarks/``) join through ``plugins.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import pandas as pd

from fairautoml.bench.class_anchors import (
    fit_class_offsets,
    fit_multiclass_lp_oracle,
    fit_thresholds_oracle,
)
from fairautoml.bench.flaml_fit import (
    SHARED_NOTE,
    UNCONSTRAINED_SHARED_NOTE,
    Prefit,
    flaml_scores,
    flaml_trials,
    holdout_flaml,
    trainval_flaml,
)
from fairautoml.bench.methods import CellData, Fitted, NotApplicableError, Predict, spread
from fairautoml.bench.oxonfair_anchor import fit_oxonfair
from fairautoml.bench.transport_anchors import fit_barycenter, fit_barycenter_oracle
from fairautoml.exceptions import ConfigurationError
from fairautoml.learners import get_learner
from fairautoml.measures.constraints import Constraint


def fit_unconstrained(task: CellData) -> Fitted:
    automl, shared = trainval_flaml(task)
    return Fitted(
        predict=lambda X_, s_: task.kind.decide(flaml_scores(automl, task, X_)),
        trials=flaml_trials(automl),
        info={"model": str(automl.best_estimator), "config": automl.best_config, **shared},
        notes=["FLAML's search does not measure fairness: no time to first feasible",
               UNCONSTRAINED_SHARED_NOTE],
    )  # fmt: skip


_TO_CONSTRAINTS = {
    "demographic_parity_difference": ("demographic_parity", True),
    "equalized_odds_difference": ("equalized_odds", False),
    "equal_opportunity_difference": ("true_positive_rate_parity", True),
    "true_positive_rate_difference": ("true_positive_rate_parity", True),
    "false_positive_rate_difference": ("false_positive_rate_parity", True),
    "false_negative_rate_difference": ("false_negative_rate_parity", True),
}


def _single(task: CellData, method: str, supported: dict[str, Any]) -> Constraint:
    if len(task.constraints) != 1 or task.constraints[0].metric not in supported:
        raise ConfigurationError(
            f"{method} handles one constraint among {', '.join(supported)}; "
            f"got {', '.join(map(str, task.constraints))}."
        )
    return task.constraints[0]


def fit_flaml_threshold(task: CellData) -> Fitted:
    from fairlearn.postprocessing import ThresholdOptimizer

    task.needs_group("flaml_threshold")
    c = _single(task, "flaml_threshold", _TO_CONSTRAINTS)
    name, relaxable = _TO_CONSTRAINTS[c.metric]
    automl, shared = holdout_flaml(task)
    X_val = task.features(task.X_val)
    rule = ThresholdOptimizer(
        estimator=Prefit(automl),
        constraints=name,
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
        tol=c.bound if relaxable else None,
    )
    rule.fit(X_val, task.y_val, sensitive_features=task.s_val)

    def predict(X_: pd.DataFrame, s_: np.ndarray) -> np.ndarray:
        return np.asarray(
            rule.predict(task.features(X_), sensitive_features=s_, random_state=task.seed)
        )

    val_pred = predict(task.X_val, task.s_val)
    notes = [] if relaxable else ["ThresholdOptimizer cannot relax equalized odds: exact parity"]
    return Fitted(
        predict=predict,
        trials=flaml_trials(automl) + 1,
        selection_feasible=task.violation(task.y_val, val_pred, task.s_val) <= 0,
        info={"model": f"{automl.best_estimator} + ThresholdOptimizer({name})", **shared},
        notes=[*notes, "thresholds fitted and checked on the same validation rows", SHARED_NOTE],
    )


# --- fairlearn ExponentiatedGradient -------------------------------------------------------


def _moment(c: Constraint, task: CellData) -> Any:
    if task.kind.estimator_kind == "regressor":  # amounts: a bounded group loss
        return _group_loss_moment(c, task)
    from fairlearn import reductions as R

    moments = {
        "demographic_parity": R.DemographicParity,
        "equalized_odds": R.EqualizedOdds,
        "true_positive_rate": R.TruePositiveRateParity,
        "equal_opportunity": R.TruePositiveRateParity,
        "false_negative_rate": R.TruePositiveRateParity,  # FNR gaps are TPR gaps
        "false_positive_rate": R.FalsePositiveRateParity,
    }
    stem, kind = c.metric.rsplit("_", 1)
    if stem not in moments:
        raise ConfigurationError(
            f"eg_lightgbm has no fairlearn moment for {c.metric}. Supported: "
            + ", ".join(f"{k}_difference/_ratio" for k in moments)
        )
    key = "ratio_bound" if kind == "ratio" else "difference_bound"
    return moments[stem](**{key: c.bound})


def _group_loss_moment(c: Constraint, task: CellData) -> Any:
    """fairlearn's ``BoundedGroupLoss`` for a group-loss constraint: every group's loss at
    most an upper bound. A maximum is that bound; a difference ``d`` or a ratio ``r`` is
    read as a user would set it, from the group losses of a plain LightGBM (fitted on the
    train rows, measured on validation): the best group's loss plus ``d``, or over ``r``."""
    from fairlearn.reductions import AbsoluteLoss, BoundedGroupLoss, SquareLoss
    from lightgbm import LGBMRegressor

    from fairautoml.measures.regression import REGRESSION_MEASURES, group_losses

    measure = REGRESSION_MEASURES[c.metric]
    if measure.loss is None:
        raise NotApplicableError(
            f"eg_lightgbm: fairlearn has no reduction for {c.metric} (demographic parity of a "
            "regressor); its BoundedGroupLoss covers the group-loss constraints."
        )
    root = c.metric.startswith("root_")
    y = np.concatenate([task.y_train, task.y_val])
    low, high = float(y.min()), float(y.max())
    loss = AbsoluteLoss(low, high) if measure.loss == "absolute" else SquareLoss(low, high)
    if c.metric.endswith("_group_max"):
        bound = c.bound
    else:
        plain = LGBMRegressor(verbosity=-1, n_jobs=task.threads, random_state=task.seed)
        plain.fit(task.features(task.X_train), task.y_train)
        pred = plain.predict(task.features(task.X_val))
        losses = group_losses(task.y_val, pred, task.s_val, measure.loss)
        best = float(np.sqrt(losses.min()) if root else losses.min())
        bound = best / c.bound if c.is_ratio else best + c.bound
    return BoundedGroupLoss(loss, upper_bound=bound**2 if root else bound)


EG_MAX_ITER = 50  # fairlearn's default
EG_PILOT = 3
EG_GROWTH = 1.3  # later iterations cost more (the LP step grows with the models kept)


def fit_eg_lightgbm(task: CellData) -> Fitted:
    from fairlearn.reductions import ExponentiatedGradient
    from lightgbm import LGBMClassifier, LGBMRegressor

    if len(task.constraints) != 1:
        raise ConfigurationError(
            "eg_lightgbm takes one constraint (one fairlearn moment); got "
            + ", ".join(map(str, task.constraints))
        )
    moment = _moment(task.constraints[0], task)
    X, y, s = task.trainval
    Xf = task.features(X)
    learner = LGBMRegressor if task.kind.estimator_kind == "regressor" else LGBMClassifier
    base = learner(verbosity=-1, n_jobs=task.threads, random_state=task.seed)

    # EG has no time budget: start with a short run, then rerun with twice the iterations
    # while the measured cost per iteration says the rerun fits in what is left.
    def run(max_iter: int) -> Any:
        eg = ExponentiatedGradient(base, moment, max_iter=max_iter)
        with warnings.catch_warnings():  # fairlearn's own pandas deprecations
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            eg.fit(Xf, y, sensitive_features=s)
        return eg

    max_iter, calls = EG_PILOT, 0
    while True:
        clock = task.elapsed()
        eg = run(max_iter)
        calls += int(eg.n_oracle_calls_)
        per_iter = max(task.elapsed() - clock, 1e-3) / max_iter
        following = min(2 * max_iter, EG_MAX_ITER)
        converged = eg.last_iter_ + 1 < max_iter
        too_long = EG_GROWTH * per_iter * following > task.remaining()
        if converged or too_long or max_iter >= EG_MAX_ITER:
            break
        max_iter = following

    def predict(X_: pd.DataFrame, s_: np.ndarray) -> np.ndarray:
        return task.kind.decide(np.asarray(eg.predict(task.features(X_), random_state=task.seed)))

    return Fitted(
        predict=predict,
        trials=calls,
        selection_feasible=task.violation(y, predict(X, s), s) <= 0,
        info={"model": "ExponentiatedGradient(LightGBM)", "max_iter": max_iter},
        notes=[
            f"EG has no time budget: runs of {EG_PILOT}, {2 * EG_PILOT}, ... iterations while "
            "the next fits; trials = LightGBM fits; feasibility checked in-sample (EG's guarantee)"
        ],
    )


# --- Optuna over LightGBM ------------------------------------------------------------------


def _dominated(points: list[tuple[float, float]], i: int) -> bool:
    a, v = points[i]
    return any(
        (b >= a and w <= v) and (b > a or w < v) for j, (b, w) in enumerate(points) if j != i
    )


def fit_optuna_hpo(task: CellData) -> Fitted:
    """Multi-objective TPE over LightGBM: maximise accuracy, minimise the violation."""
    learner = get_learner("lightgbm")
    X_tr, X_val = task.features(task.X_train), task.features(task.X_val)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=task.seed, multivariate=True)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.enqueue_trial(learner.space.defaults())
    kept: dict[int, tuple[Any, float, float]] = {}  # front: number -> (model, acc, violation)
    log: list[tuple[float, bool]] = []
    slowest = 0.0
    while task.remaining() > 0.5 * slowest:
        trial = study.ask()
        params = learner.space.suggest(trial, "")
        start = task.elapsed()
        try:
            model = learner.make(params, task.seed, task.threads).fit(X_tr, task.y_train)
            pred = model.predict(X_val)
        except Exception:  # a failing trial never stops the search
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        finally:
            slowest = max(slowest, task.elapsed() - start)
        acc = float(np.mean(pred == task.y_val))
        signed = task.signed_violation(task.y_val, pred, task.s_val)
        trial.set_constraint("violation", signed)
        study.tell(trial, [acc, signed])
        log.append((task.elapsed(), signed <= 0))
        kept[trial.number] = (model, acc, signed)
        points = [(a, v) for _, a, v in kept.values()]
        kept = {n: k for i, (n, k) in enumerate(kept.items()) if not _dominated(points, i)}
    if not kept:
        raise RuntimeError("optuna_hpo: no trial finished within the budget")
    feasible = [k for k in kept.values() if k[2] <= 0]
    best = max(feasible, key=lambda k: k[1]) if feasible else min(kept.values(), key=lambda k: k[2])

    def as_predict(model: Any) -> Predict:
        return lambda X_, s_: np.asarray(model.predict(task.features(X_))).astype(int)

    front = sorted(kept.values(), key=lambda k: k[1])
    return Fitted(
        predict=as_predict(best[0]),
        trials=len(log),
        trial_log=log,
        front=[lambda m=m: as_predict(m) for m, _, _ in spread(front)],
        selection_feasible=bool(feasible),
        info={"model": "lightgbm", "validation_accuracy": best[1]},
    )


# --- OxonFair ------------------------------------------------------------------------------


ANCHOR_FITS: dict[str, Callable[[CellData], Fitted]] = {
    "unconstrained": fit_unconstrained,
    "flaml_threshold": fit_flaml_threshold,
    "eg_lightgbm": fit_eg_lightgbm,
    "optuna_hpo": fit_optuna_hpo,
    "oxonfair": fit_oxonfair,
    "barycenter": fit_barycenter,
    "barycenter_oracle": fit_barycenter_oracle,
    "class_offsets": fit_class_offsets,
    "multiclass_lp_oracle": fit_multiclass_lp_oracle,
    "thresholds_oracle": fit_thresholds_oracle,
}
# the targets' tasks each anchor has a mode for (the runner records the others as n/a)
ANCHOR_TASKS: dict[str, tuple[str, ...]] = {
    "unconstrained": ("binary", "regression", "multiclass"),
    "flaml_threshold": ("binary",),
    "eg_lightgbm": ("binary", "regression"),
    "optuna_hpo": ("binary",),
    "oxonfair": ("binary",),
    "barycenter": ("regression",),
    "barycenter_oracle": ("regression",),
    "class_offsets": ("multiclass",),
    "multiclass_lp_oracle": ("multiclass",),
    "thresholds_oracle": ("binary",),
}
