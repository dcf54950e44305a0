"""``FairAutoML``: the scikit-learn estimator users fit. It wires data, search and pick."""

from __future__ import annotations

import logging
import math
import time
import warnings
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from fairautoml import exceptions as E
from fairautoml.allocator import ALLOCATORS
from fairautoml.constraints import Constraint, parse_constraints
from fairautoml.data import prepare_fit_data, split_train_validation
from fairautoml.evaluate import Candidate, Evaluation, SearchContext, evaluate_candidate, refit
from fairautoml.exceptions import ConfigurationError, InfeasibleWarning, SearchError, unknown_name
from fairautoml.leaderboard import leaderboard_frame, pareto_front
from fairautoml.learners import available_learners, get_learner
from fairautoml.metrics import get_metric
from fairautoml.mitigators import available_mitigators, get_mitigator
from fairautoml.search import DIRECTIONS, Budget, SearchDomain, get_controller
from fairautoml.selection import select_trial

logger = logging.getLogger("fairautoml")

# Share of the time budget kept for the final refit and bookkeeping.
REFIT_RESERVE = 0.15


class FairAutoML(ClassifierMixin, BaseEstimator):
    """Search learners, hyperparameters and mitigations for the most accurate fair model.

    Parameters
    ----------
    constraints : str, Constraint or list of them
        Fairness constraints that must all hold, e.g.
        ``"demographic_parity_difference <= 0.05"``.
    metric : str
        What "accurate" means: accuracy, balanced_accuracy, roc_auc, f1, log_loss.
    time_budget : float or None
        Seconds of wall clock for the whole ``fit``; None to stop on ``n_trials`` only.
    n_trials : int or None
        Maximum number of trained models (None: until the time budget ends). Each trained
        model is also scored under every post-processor setting, one trial of the study
        (one leaderboard row) per setting.
    controller : str
        Search controller: "optuna" (multi-objective study), "admm" (ADMM decomposition
        with dual variables for the constraints) or "flaml" (FLAML's cost-frugal search).
    allocator : str
        When costly in-processing mitigation is run (post-processing is applied to every
        trained model): "auto" where its expected cost per improvement of the best fair
        model is below plain tuning's (see :mod:`fairautoml.allocator`), "always" on every
        trained configuration the budget allows, or "never".
    learners, mitigators : list of str or None
        Names to search over (None: every registered one that supports the constraints).
    sensitive_at_predict : bool
        False restricts the search to models that never need the group at predict time.
    keep_sensitive_as_feature : bool
        When ``sensitive_features`` names columns of X, keep them as features too.
    validation_fraction : float
        Share of rows held out to score trials and fit post-processing.
    min_group_size : int
        Smallest group (rows) accepted; smaller groups give unreliable rates.
    confidence : float or None
        The pick must meet each constraint at the upper end of a bootstrap interval of
        this level on validation, when any trial does (None: the point estimate suffices).
    refit : bool
        Retrain the chosen scoring model on training + validation rows.
    storage, study_name : str or None
        Optuna storage URL and study name (None: in memory).
    n_jobs : int
        Threads per learner.
    random_state : int or None
        Seed of every random source (split, samplers, learners).
    verbose : int
        0 silent; 1 logs each trial at INFO level.
    """

    def __init__(
        self,
        constraints: Any = "demographic_parity_difference <= 0.05",
        metric: str = "accuracy",
        time_budget: float | None = 60,
        n_trials: int | None = None,
        controller: str = "optuna",
        allocator: str = "auto",
        learners: list[str] | None = None,
        mitigators: list[str] | None = None,
        sensitive_at_predict: bool = True,
        keep_sensitive_as_feature: bool = False,
        validation_fraction: float = 0.25,
        min_group_size: int = 20,
        confidence: float | None = 0.8,
        refit: bool = True,
        storage: str | None = None,
        study_name: str | None = None,
        n_jobs: int = 1,
        random_state: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.constraints = constraints
        self.metric = metric
        self.time_budget = time_budget
        self.n_trials = n_trials
        self.controller = controller
        self.allocator = allocator
        self.learners = learners
        self.mitigators = mitigators
        self.sensitive_at_predict = sensitive_at_predict
        self.keep_sensitive_as_feature = keep_sensitive_as_feature
        self.validation_fraction = validation_fraction
        self.min_group_size = min_group_size
        self.confidence = confidence
        self.refit = refit
        self.storage = storage
        self.study_name = study_name
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # --- parameter checks ------------------------------------------------------------------

    def _check_params(self) -> tuple[list[Constraint], SearchDomain]:
        if self.time_budget is None and self.n_trials is None:
            raise ConfigurationError("Set time_budget (seconds) or n_trials; both are None.")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ConfigurationError(f"time_budget must be > 0 seconds; got {self.time_budget}.")
        if self.n_trials is not None and int(self.n_trials) < 1:
            raise ConfigurationError(f"n_trials must be >= 1; got {self.n_trials}.")
        if not 0.05 <= self.validation_fraction <= 0.5:
            raise ConfigurationError(
                f"validation_fraction must be in [0.05, 0.5]; got {self.validation_fraction}."
            )
        if self.confidence is not None and not 0 < self.confidence < 1:
            raise ConfigurationError(
                f"confidence must be in (0, 1) or None; got {self.confidence}."
            )
        get_metric(self.metric)
        get_controller(self.controller)
        if self.allocator not in ALLOCATORS:
            raise unknown_name("allocator", self.allocator, ALLOCATORS)
        constraints = parse_constraints(self.constraints)
        return constraints, self._domain(constraints)

    def _domain(self, constraints: list[Constraint]) -> SearchDomain:
        learners = list(self.learners) if self.learners is not None else available_learners()
        for name in learners:
            get_learner(name)
        explicit = self.mitigators is not None
        names = list(self.mitigators) if explicit else available_mitigators()
        training, posts = ["none"], ["none"]
        for name in names:
            m = get_mitigator(name)
            usable = m.supports(constraints) and (
                self.sensitive_at_predict or not m.needs_group_at_predict
            )
            if not usable:
                if explicit:
                    raise ConfigurationError(
                        f"Mitigator {name!r} cannot be used here: it "
                        + (
                            "does not support " + ", ".join(str(c) for c in constraints)
                            if not m.supports(constraints)
                            else "needs the group at predict time (sensitive_at_predict=False)"
                        )
                        + "."
                    )
                continue
            target = posts if m.stage == "post" else training
            if name not in target:
                target.append(name)
        if not learners:
            raise ConfigurationError("learners is empty; name at least one learner.")
        return SearchDomain(tuple(learners), tuple(training), tuple(posts))

    # --- fit -------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any, sensitive_features: Any = None) -> FairAutoML:
        """Search for the most accurate model meeting every constraint, then refit it.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), two classes
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_attributes),
            or the name(s) of column(s) of X. With several attributes, groups are their
            intersections.
        """
        started = time.monotonic()
        constraints, domain = self._check_params()
        metric = get_metric(self.metric)
        data = prepare_fit_data(
            X,
            y,
            sensitive_features,
            keep_sensitive_as_feature=self.keep_sensitive_as_feature,
            min_group_size=self.min_group_size,
        )
        train_idx, val_idx = split_train_validation(
            data.y, data.groups, self.validation_fraction, self.random_state
        )
        ctx = SearchContext(
            data, train_idx, val_idx, constraints, metric, self.random_state, self.n_jobs,
            self.keep_sensitive_as_feature,
        )  # fmt: skip
        controller = get_controller(self.controller)(domain, self.random_state, self.allocator)
        optuna_verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(
            storage=self.storage,
            study_name=self.study_name,
            directions=DIRECTIONS,
            sampler=controller.sampler(),
            load_if_exists=self.study_name is not None,
        )
        deadline = None
        if self.time_budget is not None:
            deadline = started + float(self.time_budget) * (1 - REFIT_RESERVE)
        budget = Budget(deadline=deadline, n_trials=self.n_trials)
        evaluations: dict[int, Evaluation] = {}

        def on_result(number: int, evaluation: Evaluation) -> None:
            evaluations[number] = evaluation
            _forget_weak_models(evaluations, keep=10)
            r = evaluation.result
            if self.verbose:
                logger.info(
                    "trial %d %s: %s=%.4f violation=%.4f %s",
                    number, r.candidate.describe(), metric.name, r.metric, r.violation, r.status,
                )  # fmt: skip

        try:
            controller.run(study, ctx, budget, on_result)
        finally:
            optuna.logging.set_verbosity(optuna_verbosity)

        board = leaderboard_frame(study, constraints, metric)
        if board.empty or not (board["status"] == "ok").any():
            errors = board["error"].dropna().unique()[:3] if not board.empty else []
            raise SearchError(
                f"No trial succeeded ({len(board)} failed). First errors: {list(errors)}. "
                "Check the data and the learners, or raise time_budget."
            )
        number, robust = select_trial(board, evaluations, ctx, self.confidence)
        chosen = evaluations.get(number)
        if chosen is None or chosen.model is None:  # from an earlier session of the study
            chosen = evaluate_candidate(_candidate(study, number), ctx)
        row = board.loc[board["trial"] == number].iloc[0]
        feasible = bool(row["feasible"])
        if not feasible:
            warnings.warn(
                f"No trial met {', '.join(map(str, constraints))} on validation; returning the "
                f"least-violating model (violation {row['violation']:.4f}). Loosen the "
                "constraint or raise time_budget.",
                InfeasibleWarning,
                stacklevel=2,
            )
        model = chosen.model
        refitted = False
        if self.refit and self._time_for_refit(started, chosen, ctx):
            model = refit(chosen.result.candidate, ctx, model)
            refitted = True

        self.study_ = study
        self.constraints_ = constraints
        self.leaderboard_ = board
        self.pareto_front_ = pareto_front(board, constraints, metric)
        self.leaderboard_["chosen"] = self.leaderboard_["trial"] == number
        self.pareto_front_["chosen"] = self.pareto_front_["trial"] == number
        self.best_estimator_ = model
        self.best_config_ = {
            "trial": int(number),
            "model": chosen.result.candidate.describe(),
            **chosen.result.candidate.__dict__,
            metric.name: float(row[metric.name]),
            "constraint_values": dict(chosen.result.constraint_values),
            "feasible": feasible,
            "robust": robust,
            "refitted": refitted,
            "needs_group_at_predict": model.needs_group,
        }
        self.classes_ = data.classes
        self.feature_names_in_ = np.array(data.schema.columns, dtype=object)
        self.n_features_in_ = len(data.schema.columns)
        self.fit_time_ = time.monotonic() - started
        return self

    def _time_for_refit(self, started: float, chosen: Evaluation, ctx: SearchContext) -> bool:
        if self.time_budget is None:
            return True
        n_all = len(ctx.data.y)
        expected = chosen.result.fit_time * n_all / max(len(ctx.train_idx), 1) * 1.2
        left = started + float(self.time_budget) * 1.05 - time.monotonic()
        return expected < left

    # --- predict ---------------------------------------------------------------------------

    def _fitted(self) -> Any:
        if not hasattr(self, "best_estimator_"):
            raise E.NotFittedError(E.NOT_FITTED.format(cls=type(self).__name__))
        return self.best_estimator_

    def predict(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """Predicted classes; ``sensitive_features`` only if the chosen model needs them."""
        return self._fitted().predict(X, sensitive_features)

    def predict_proba(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """Class probabilities, shape (n_samples, 2), consistent with ``predict``."""
        return self._fitted().predict_proba(X, sensitive_features)

    def score(
        self, X: Any, y: Any, sample_weight: Any = None, sensitive_features: Any = None
    ) -> float:
        """The fitted ``metric`` on (X, y) (higher is better)."""
        metric = get_metric(self.metric)
        proba = self.predict_proba(X, sensitive_features)[:, 1]
        y_arr = (np.asarray(y) == self.classes_[1]).astype(int)
        return metric.score(y_arr, (proba >= 0.5).astype(int), proba)


def _candidate(study: optuna.Study, number: int) -> Candidate:
    return Candidate.from_json(study.trials[number].user_attrs["candidate"])


def _forget_weak_models(evaluations: dict[int, Evaluation], keep: int) -> None:
    """Keep fitted models only for the ``keep`` best fair scores (memory stays bounded)."""
    with_model = [(n, e) for n, e in evaluations.items() if e.model is not None]
    if len(with_model) <= keep:
        return

    def fair_key(item: tuple[int, Evaluation]) -> float:
        r = item[1].result
        return r.metric if r.feasible else -math.inf if r.status != "ok" else -1 - r.violation

    for _, e in sorted(with_model, key=fair_key)[: len(with_model) - keep]:
        e.model = None


def fit(X: Any, y: Any, sensitive_features: Any, **options: Any) -> FairAutoML:
    """Fit a :class:`FairAutoML` with ``options`` and return it."""
    return FairAutoML(**options).fit(X, y, sensitive_features=sensitive_features)


__all__ = ["FairAutoML", "fit", "pd"]
