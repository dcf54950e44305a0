"""What a benchmark method receives (:class:`CellData`) and returns (:class:`Fitted`), and the
``fairautoml`` method itself. The anchors live in ``anchors.py``.

Every method sees the same non-test rows: ``train`` (60%) and ``validation`` (20%).
fairautoml gets both together and makes its own inner split (its default
``validation_fraction=0.25`` of 80% is again 60/20); anchors that need a validation split
use the runner's. Nobody sees the test rows until the runner scores the returned model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.data.features import FeatureSchema
from fairautoml.exceptions import ConfigurationError
from fairautoml.measures.claims import worst_violation
from fairautoml.measures.constraints import Constraint, evaluate_constraints
from fairautoml.tasks import Task as TargetTask
from fairautoml.tasks import get_task

# (raw X, groups) -> what is predicted (0/1 labels, or amounts); groups is None for a blind
# task (no group at decision time)
Predict = Callable[[pd.DataFrame, "np.ndarray | None"], np.ndarray]

MAX_FRONT = 12  # front points scored on test, spread along the front


class NotApplicableError(ConfigurationError):
    """The method has no mode for these constraints (e.g. FairGBM and demographic parity).

    The runner records the cell as ``not_applicable``: shown as n/a, never a failure.
    """


@dataclass
class CellData:
    """One cell's data and rules. ``X_*`` are raw tables; ``features`` prepares them."""

    X_train: pd.DataFrame
    y_train: np.ndarray
    s_train: np.ndarray
    X_val: pd.DataFrame
    y_val: np.ndarray
    s_val: np.ndarray
    constraints: tuple[Constraint, ...]
    budget: float
    seed: int
    threads: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    shared_dir: Path | None = None  # where methods of a sweep share fits (None: no sharing)
    blind: bool = False  # the model must decide without the group (``options: {blind: true}``)
    started: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=datetime.now)
    # the training rows then the validation rows, when X_train and X_val are views of it
    # (a ten-million-row table is not copied again for a method that fits on both)
    X_fit: pd.DataFrame | None = None
    # the target's task (``fairautoml.tasks``): yes/no decisions or amounts
    kind: TargetTask = field(default_factory=lambda: get_task("binary"))

    def needs_kind(self, method: str, *kinds: str) -> None:
        """Raise :class:`NotApplicableError` for a method with no mode for this target's
        task (a threshold optimizer on amounts, a transport on yes/no decisions)."""
        if self.kind.name not in kinds:
            raise NotApplicableError(
                f"{method} handles {' / '.join(kinds)} targets; this dataset's task is "
                f"{self.kind.name}."
            )

    def needs_group(self, method: str) -> None:
        """Raise :class:`NotApplicableError` for a method that decides with the group, when
        the task is blind."""
        if self.blind:
            raise NotApplicableError(
                f"{method} decides with the group at predict time; this task is blind "
                "(options: {blind: true})."
            )

    def start_clock(self) -> None:
        self.started, self.started_at = time.monotonic(), datetime.now()

    def charge(self, seconds: float) -> None:
        """Count ``seconds`` as spent by this method (negative: give time back).

        A fit shared between methods charges its recorded seconds to each that reuses it;
        time spent waiting for another cell to finish that fit is given back.
        """
        self.started -= seconds
        self.started_at -= timedelta(seconds=seconds)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self.budget - self.elapsed()

    @cached_property
    def schema(self) -> FeatureSchema:
        """Numeric columns as float64, the rest as pandas categories fixed on non-test rows."""
        return FeatureSchema.infer(self.trainval[0])

    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` as LightGBM and FLAML take it (native categoricals)."""
        return self.schema.transform(X)

    @property
    def trainval(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        X = self.X_fit
        if X is None:
            X = pd.concat([self.X_train, self.X_val], ignore_index=True)
        return (
            X,
            np.concatenate([self.y_train, self.y_val]),
            np.concatenate([self.s_train, self.s_val]),
        )

    def violation(self, y: np.ndarray, pred: np.ndarray, s: np.ndarray) -> float:
        """Worst violation of the constraints (0: all hold)."""
        values = evaluate_constraints(self.constraints, y, np.asarray(pred), s)
        return worst_violation(self.constraints, values)

    def signed_violation(self, y: np.ndarray, pred: np.ndarray, s: np.ndarray) -> float:
        """Largest ``value - bound`` (negative: every constraint holds with room to spare)."""
        values = evaluate_constraints(self.constraints, y, np.asarray(pred), s)
        return max(c.violation(values[c.key]) for c in self.constraints)


@dataclass
class Fitted:
    """What a method hands back: the model it would ship and what it logged on the way.

    ``trial_log`` holds ``(seconds since start, feasible on validation)`` per trial in
    completion order; ``front`` lazily builds the predictors of the method's validation
    Pareto front (called after the clock stops); ``selection_feasible`` says whether the
    shipped model met the constraints on the rows it was chosen or fitted on.
    """

    predict: Predict
    trials: int | None = None
    trial_log: list[tuple[float, bool]] | None = None
    front: list[Callable[[], Predict]] | None = None
    selection_feasible: bool | None = None
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # an oracle's predict takes the test targets as a third argument (it fits on them):
    # only a limit to compare with, never a method
    sees_test_targets: bool = False


def spread(items: list[Any], k: int = MAX_FRONT) -> list[Any]:
    """At most ``k`` items, evenly spaced, keeping both ends."""
    if len(items) <= k:
        return list(items)
    picks = np.unique(np.round(np.linspace(0, len(items) - 1, k)).astype(int))
    return [items[i] for i in picks]


def time_to_first_feasible(fitted: Fitted, wall_time: float) -> tuple[float, str]:
    """Seconds until the method had its first model feasible on validation, and how known."""
    if fitted.trial_log is not None:
        times = [t for t, feasible in fitted.trial_log if feasible]
        if times:
            return float(min(times)), "first trial feasible on validation"
        return math.nan, "no trial was feasible on validation"
    if fitted.selection_feasible:
        return wall_time, "single final model, feasible on its selection rows"
    if fitted.selection_feasible is None:
        return math.nan, "not measured: the method does not see fairness before it ends"
    return math.nan, "single final model, infeasible on its selection rows"


# --- fairautoml ----------------------------------------------------------------------------


def fit_fairautoml(task: CellData, controller: str | None) -> Fitted:
    """``FairAutoML(constraints, time_budget, random_state)`` (``FairAutoMLRegressor`` for
    amounts: the task's estimator) fitted on train + validation (``sensitive_at_predict=True``
    unless the task is blind: the group-aware comparison; a sweep's ``decision_rule``
    option, where given, decides instead)."""
    from fairautoml.estimators.automl import estimator_for
    from fairautoml.study import record

    options = dict(task.options)
    if "decision_rule" not in options:  # the sweep decides, not the default
        options["sensitive_at_predict"] = not task.blind
    if controller is not None:
        options["controller"] = controller
    X, y, s = task.trainval
    automl = estimator_for(task.kind.name)(
        constraints=list(task.constraints),
        time_budget=task.budget,
        random_state=task.seed,
        n_jobs=task.threads,
        **options,
    )
    automl.fit(X, y, sensitive_features=s)
    board = automl.leaderboard_.set_index("trial")
    log = []
    for t in automl.study_.trials:
        if t.datetime_complete is None or t.number not in board.index:
            continue
        seconds = (t.datetime_complete - task.started_at).total_seconds()
        log.append((seconds, bool(board.loc[t.number, "feasible"])))
    cfg = automl.best_config_
    return Fitted(
        predict=lambda X_, s_: automl.predict(X_, sensitive_features=s_),
        trials=len(board),
        trial_log=sorted(log),
        front=_fairautoml_front(automl, X, y, s, task),
        selection_feasible=bool(cfg["feasible"]),
        info={
            "model": cfg["model"],
            "controller": automl.controller,
            "robust": bool(cfg["robust"]),
            "tier": cfg.get("tier"),
            "assurance": cfg.get("assurance"),
            f"validation_{task.kind.usefulness}": cfg.get(task.kind.usefulness),
            "refitted": bool(cfg["refitted"]),
            "confirmed": bool(cfg.get("confirmed")),
            "confirmation": cfg.get("confirmation"),
            # "trials" counts leaderboard points (about a dozen per model): what FLAML's
            # trial count compares with is the number of trained models
            "trained_models": len(record.trained_models(automl.study_.trials)),
        },
    )


def _fairautoml_front(automl: Any, X: Any, y: Any, s: Any, task: CellData) -> list[Callable]:
    """The validation Pareto front's models, rebuilt as the search had them (same split)."""
    from fairautoml.estimators.context import search_context
    from fairautoml.estimators.running import trial_context
    from fairautoml.search.evaluate import evaluate_candidate
    from fairautoml.study import record
    from fairautoml.study.trial import SearchContext

    holder: dict[str, SearchContext] = {}

    def context() -> SearchContext:
        if "ctx" not in holder:
            ctx, _ = search_context(automl.search_params(), X, y, s)
            ctx.n_jobs = task.threads
            holder["ctx"] = ctx
        return holder["ctx"]

    def builder(number: int) -> Callable[[], Predict]:
        def build() -> Predict:
            trial = automl.study_.trials[number]
            cand = record.candidate(trial)
            model = evaluate_candidate(cand, trial_context(context(), trial)).model
            if model is None:
                raise RuntimeError(f"front trial {number} failed when rebuilt")
            return lambda X_, s_: model.predict(X_, s_)

        return build

    numbers = [int(n) for n in automl.pareto_front_["trial"]]
    return [builder(n) for n in spread(numbers)]
