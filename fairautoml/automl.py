"""``FairAutoML``: the scikit-learn estimator users fit. It wires data, search and pick."""

from __future__ import annotations

import logging
import math
import numbers
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import optuna
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin

from fairautoml import exceptions as E
from fairautoml import record
from fairautoml.allocator import ALLOCATORS
from fairautoml.constraints import Constraint, parse_constraints
from fairautoml.data import (
    cv_folds,
    encode_labels,
    plain,
    prepare_fit_data,
    split_train_validation,
    subsample_rows,
    warn_assumed_positive,
)
from fairautoml.evaluate import Candidate, Evaluation, SearchContext, evaluate_candidate, refit
from fairautoml.exceptions import ConfigurationError, SearchError, unknown_name
from fairautoml.leaderboard import hypervolume, leaderboard_frame, pareto_front
from fairautoml.learners import available_learners, get_learner
from fairautoml.metrics import METRICS, get_metric
from fairautoml.mitigators import available_mitigators, get_mitigator
from fairautoml.persistence import (
    CHOSEN_ATTR,
    Session,
    SharedBudget,
    check_config,
    data_fingerprint,
    open_study,
    session_seed,
)
from fairautoml.progress import SearchProgress
from fairautoml.search import (
    Budget,
    Controller,
    SearchDomain,
    available_controllers,
    get_controller,
)
from fairautoml.search.runner import make_runner
from fairautoml.selection import PickPolicy, select_trial, warn_about_pick

logger = logging.getLogger("fairautoml")

# Share of the time budget kept for the final refit and bookkeeping.
REFIT_RESERVE = 0.15
# Seconds a persistent search without time budget waits for other workers' running trials.
WAIT_FOR_WORKERS = 600.0
# Smallest time budget (s) for which trials run in worker processes under a time limit.
ISOLATE_FROM = 10.0
CV_FOLDS = 5  # cv_folds="auto": folds, and the most rows searched by cross-validation
CV_MAX_ROWS = 10_000


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
        False restricts the search to models that never need the group at predict time;
        their post-processing reads a group classifier's P(group | x) instead
        (``inferred_thresholds``, ``bias_score_blind``: searched by default only then).
    keep_sensitive_as_feature : bool
        When ``sensitive_features`` names columns of X, keep them as features too.
    validation_fraction : float
        Share of rows held out to score trials and fit post-processing (holdout only).
    cv_folds : int, "auto" or None
        Score trials by cross-validation with this many folds instead of a holdout: every
        row is then a validation row, scored by the fold model that did not train on it,
        so small groups' rates are measured on four times as many rows and the pick's
        margin against their noise is that much smaller. Each trained configuration costs
        that many fits. The model kept is the fold models, each new row scored by one of
        them (chosen by a hash of the row); a pick without post-processing is refitted on
        every row. "auto" (default): 5 folds up to :data:`CV_MAX_ROWS` rows, a holdout
        above. None: a holdout.
    min_group_size : int
        Smallest group (rows) accepted; smaller groups give unreliable rates.
    pos_label : label or None
        The favourable outcome: the class whose rate demographic parity compares and whose
        true-positive rate equal opportunity compares (a loan granted, a candidate hired).
        None: the label that sorts last (1 of 0/1, True of booleans); then a
        :class:`~fairautoml.exceptions.PositiveLabelWarning` says which label was taken
        when a constraint depends on it (every ratio and single-rate metric; not the
        demographic parity and equalized odds differences) and the labels are not 0/1 or
        booleans. ``classes_[1]`` is the positive class.
    max_search_rows : int or None
        Training rows a trial sees at most (the data side of multi-fidelity): above it,
        trials train on a sample stratified on target x group, validation keeps all its
        rows, and the chosen model is refitted on every row (``refit``; not a pick that
        post-processes its scores). None: all rows. Holdout searches only.
    confidence : float or None
        The pick must meet each constraint at the upper end of a bootstrap interval of
        this level on validation, when any trial does (None: the point estimate suffices).
    refit : bool
        Retrain the chosen scoring model on training + validation rows, unless the pick
        post-processes its scores: that rule (per-group thresholds, bias-score multipliers,
        ThresholdOptimizer) was fitted to the search-time model's validation scores and
        does not carry over to a retrained model's (``experiments/refit_check.py``: on
        COMPAS one such pick went from test DPD 0.047 to 0.207 when refitted).
    storage, study_name : str or None
        Optuna storage URL (``sqlite:///path.db``, ``postgresql://...``,
        ``journal:path.log``) and study name (None: in memory). With a named study in a
        storage, ``fit`` resumes it: trials already recorded are kept, the time budget
        is the study's total search time and ``n_trials`` its total number of trials,
        and other processes may join it (``fairautoml worker``).
    trial_time_limit : float, "auto" or None
        Seconds one trial may take before it is stopped and recorded as failed; "auto"
        is a third of ``time_budget`` from 10 s up, and no limit for smaller budgets or
        without one (worker processes take a second or two to start). With a limit, or
        with ``n_jobs > 1``, trials run in worker processes.
    n_jobs : int
        Trials run in parallel (each learner uses one thread).
    random_state : int or None
        Seed of every random source (split, samplers, learners). With None the samplers
        and learners are unseeded but the validation split is still fixed by the data's
        content, so a resumed or shared study scores all its trials on one split.
    verbose : int
        0 silent; 1 a progress bar on stderr (trials, best feasible score, time left);
        2 also logs each trial at INFO level.
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
        cv_folds: int | str | None = "auto",
        min_group_size: int = 20,
        pos_label: Any = None,
        max_search_rows: int | None = 100_000,
        confidence: float | None = 0.8,
        refit: bool = True,
        storage: str | None = None,
        study_name: str | None = None,
        trial_time_limit: float | str | None = "auto",
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
        self.cv_folds = cv_folds
        self.min_group_size = min_group_size
        self.pos_label = pos_label
        self.max_search_rows = max_search_rows
        self.confidence = confidence
        self.refit = refit
        self.storage = storage
        self.study_name = study_name
        self.trial_time_limit = trial_time_limit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # --- parameter checks ------------------------------------------------------------------

    def _check_params(self) -> tuple[list[Constraint], SearchDomain]:
        if self.time_budget is None and self.n_trials is None:
            raise ConfigurationError("Set time_budget (seconds) or n_trials; both are None.")
        for name, expected, ok in _PARAMETERS:
            value = getattr(self, name)
            if not ok(value):
                raise ConfigurationError(
                    E.PARAMETER_VALUE.format(name=name, expected=expected, value=value)
                )
        for kind, value in (("metric", self.metric), ("controller", self.controller)):
            if not isinstance(value, str):
                available = METRICS if kind == "metric" else available_controllers()
                raise E.unknown_name(kind, value, available)
        get_metric(self.metric)
        get_controller(self.controller)
        if self.allocator not in ALLOCATORS:
            raise unknown_name("allocator", self.allocator, ALLOCATORS)
        constraints = parse_constraints(self.constraints)
        return constraints, self._domain(constraints)

    def _domain(self, constraints: list[Constraint]) -> SearchDomain:
        learners = _names("learner", self.learners, available_learners())
        for name in learners:
            get_learner(name)
        explicit = self.mitigators is not None
        names = _names("mitigator", self.mitigators, available_mitigators())
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
            if (
                not explicit
                and self.sensitive_at_predict
                and getattr(m, "needs_group_proba", False)
            ):
                continue  # a rule on inferred groups, where the true group is at hand
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
        ctx, domain = self._search_context(X, y, sensitive_features)
        constraints, metric, data = ctx.constraints, ctx.metric, ctx.data
        if self.pos_label is None:
            warn_assumed_positive(constraints, data.classes, stacklevel=2)
        study = open_study(self.storage, self.study_name)
        n_before = len(study.trials)
        if n_before:
            logger.info("resuming study %r: %d trials recorded", study.study_name, n_before)
        seed = self.random_state
        if n_before:  # another sampler seed, or the resumed sampler re-proposes old trials
            seed = session_seed(self.random_state, f"resume{n_before}")
        search_seconds = None
        if self.time_budget is not None:
            search_seconds = float(self.time_budget) * (1 - REFIT_RESERVE)
        session: Session | None = None
        if self.storage is not None:
            check_config(study, self._study_config(), data_fingerprint(data.X, data.y, data.groups))
            session = Session.coordinate(study, search_seconds, self.n_trials)
            budget: Budget = session.budget
        else:
            deadline = None if search_seconds is None else started + search_seconds
            budget = Budget(deadline=deadline, n_trials=self.n_trials)
        controller = self._build_search(study, ctx, domain, budget, seed, started)
        evaluations: dict[int, Evaluation] = {}
        progress = SearchProgress(
            self.n_trials, search_seconds, metric=metric.name, verbose=self.verbose,
            remaining=budget.remaining if search_seconds is not None else None,
        )  # fmt: skip

        def on_result(number: int, evaluation: Evaluation) -> None:
            evaluations[number] = evaluation
            _forget_weak_models(evaluations, keep=10, policy=ctx.pick)
            r = evaluation.result
            progress.update(r.metric, r.feasible)
            if session is not None:
                session.trial_done()
            if self.verbose >= 2:
                logger.info(
                    "trial %d %s: %s=%.4f violation=%.4f %s",
                    number, r.candidate.describe(), metric.name, r.metric, r.violation, r.status,
                )  # fmt: skip

        optuna_verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            controller.run(study, ctx, budget, on_result)
            if session is not None:  # workers' trials in flight belong to the pick
                limit = WAIT_FOR_WORKERS if self.time_budget is None else float(self.time_budget)
                session.wait_for_others(
                    started + limit * (1 - REFIT_RESERVE / 2) - time.monotonic()
                )
        finally:
            controller.runner.close()
            optuna.logging.set_verbosity(optuna_verbosity)
            progress.close()
            if session is not None:
                session.close()

        policy = ctx.pick
        board = leaderboard_frame(study, constraints, metric, policy)
        if board.empty or not (board["status"] == "ok").any():
            errors = board["error"].dropna().unique()[:3] if not board.empty else []
            raise SearchError(
                f"No trial succeeded ({len(board)} failed). First errors: {list(errors)}. "
                "Check the data and the learners, or raise time_budget."
            )
        number, tier = select_trial(board, metric.name, policy)
        chosen = evaluations.get(number)
        if chosen is None or chosen.model is None:  # not kept in memory, or another process's
            ctx.deadline = None  # the pick is rebuilt even after the search's deadline
            chosen = evaluate_candidate(_candidate(study, number), ctx)
            if chosen.model is None:
                raise SearchError(
                    f"The chosen trial {number} could not be rebuilt: {chosen.result.error}. "
                    "Rerun with another random_state or report this as a bug."
                )
        row = board.loc[board["trial"] == number].iloc[0]
        warn_about_pick(row, constraints, stacklevel=3)
        feasible = bool(row["feasible"])
        model = chosen.model
        refitted = False
        post_processed = model.rule is not None  # its rule fits these scores only
        if self.refit and not post_processed and self._time_for_refit(started, chosen, ctx):
            try:
                model = refit(chosen.result.candidate, ctx, model)
                refitted = True
            except Exception as exc:  # keep the validated search-time model
                logger.warning("refit failed (%s: %s); keeping the search-time model",
                               type(exc).__name__, exc)  # fmt: skip

        self.study_ = study
        self.constraints_ = constraints
        self.leaderboard_ = board
        self.pareto_front_ = pareto_front(board, constraints, metric)
        self.leaderboard_["chosen"] = self.leaderboard_["trial"] == number
        self.pareto_front_["chosen"] = self.pareto_front_["trial"] == number
        self.hypervolume_ = hypervolume(self.pareto_front_, constraints, metric)
        if self.storage is not None:
            study.set_user_attr(CHOSEN_ATTR, int(number))
        self.best_estimator_ = model
        self.best_config_ = {
            "trial": int(number),
            "model": chosen.result.candidate.describe(),
            **chosen.result.candidate.__dict__,
            metric.name: float(row[metric.name]),
            "constraint_values": dict(chosen.result.constraint_values),
            "feasible": feasible,
            "robust": bool(row["robust"]),
            "tier": tier,
            "constraint_intervals": {
                k: list(v) for k, v in chosen.result.constraint_intervals.items()
            },
            "interval_level": ctx.interval_level,
            "assurance": float(row["assurance"]),
            "balanced_accuracy": float(row["balanced_accuracy"]),
            "selection_rate": float(row["selection_rate"]),
            "refitted": refitted,
            "positive_label": plain(data.classes[1]),
            "needs_group_at_predict": model.needs_group,
        }
        self.classes_ = data.classes
        self.feature_names_in_ = np.array(data.schema.columns, dtype=object)
        self.n_features_in_ = len(data.schema.columns)
        self.fit_time_ = time.monotonic() - started
        return self

    def _build_search(
        self,
        study: optuna.Study,
        ctx: SearchContext,
        domain: SearchDomain,
        budget: Budget,
        seed: int | None,
        started: float | None,
    ) -> Controller:
        """One process's search on ``study``: this estimator's controller and allocator,
        its per-trial time limit and trial runner, under ``budget``.

        ``fit`` and ``fairautoml worker`` (``started=None``: a worker joining the study,
        whose running trials stop shortly after the study's search deadline) both build
        their search here, so a worker runs the search its study's ``fit`` started.
        """
        controller = get_controller(self.controller)(domain, seed, self.allocator)
        study.sampler = controller.sampler() or study.sampler
        self._limit_trials(budget, started)
        ctx.deadline = budget.deadline  # costly mitigators fail fast rather than overrun it
        controller.budget = budget
        controller.runner = make_runner(
            ctx, effective_n_jobs(self.n_jobs), budget.trial_time_limit is not None
        )
        return controller

    def _limit_trials(self, budget: Budget, started: float | None) -> None:
        """Set the per-trial limit and the moment running trials are stopped."""
        limit = self.trial_time_limit
        if self.time_budget is None:
            budget.trial_time_limit = None if limit == "auto" else limit
            return
        total = float(self.time_budget)
        if limit == "auto":  # below ISOLATE_FROM, starting worker processes costs too much
            limit = total / 3 if total >= ISOLATE_FROM else None
        budget.trial_time_limit = limit
        if started is not None:
            budget.hard_deadline = started + total * (1 - REFIT_RESERVE / 2)
        elif isinstance(budget, SharedBudget):  # as long after the deadline as fit's
            budget.stop_after(total * REFIT_RESERVE / 2)

    def _search_context(
        self, X: Any, y: Any, sensitive_features: Any
    ) -> tuple[SearchContext, SearchDomain]:
        """Validate parameters and data; the split and everything a trial needs."""
        constraints, domain = self._check_params()
        data = prepare_fit_data(
            X,
            y,
            sensitive_features,
            keep_sensitive_as_feature=self.keep_sensitive_as_feature,
            min_group_size=self.min_group_size,
            pos_label=self.pos_label,
        )
        split_seed = self.random_state
        if split_seed is None:  # one split per data set, so resumes and workers share it
            split_seed = int(data_fingerprint(data.X, data.y, data.groups)[:8], 16)
        train_idx, val_idx = split_train_validation(
            data.y, data.groups, self.validation_fraction, split_seed,
            labels=data.group_encoder.labels,
        )  # fmt: skip
        folds: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
        n_folds = self._n_folds(len(data.y))
        if n_folds:  # the holdout split above still checked that validation can be scored
            folds = cv_folds(data.y, data.groups, n_folds, split_seed)
            train_idx = val_idx = np.arange(len(data.y))
        elif self.max_search_rows is not None:
            train_idx = subsample_rows(
                train_idx, data.y, data.groups, self.max_search_rows, split_seed
            )
        ctx = SearchContext(
            data, train_idx, val_idx, constraints, get_metric(self.metric), self.random_state,
            1, self.keep_sensitive_as_feature, interval_level=self.confidence or 0.8,
            pick=PickPolicy.for_confidence(self.confidence),
            cv_folds=folds,
        )  # fmt: skip
        return ctx, domain

    def _n_folds(self, n_rows: int) -> int:
        """Cross-validation folds for ``n_rows`` rows (0: a holdout split)."""
        if self.cv_folds == "auto":
            return CV_FOLDS if n_rows <= CV_MAX_ROWS else 0
        return int(self.cv_folds or 0)

    def _study_config(self) -> dict[str, Any]:
        """The parameters a persistent study records, so workers and resumes can rebuild it."""
        params = self.get_params()
        config = {k: v for k, v in params.items() if k not in ("storage", "study_name")}
        config["constraints"] = [str(c) for c in parse_constraints(self.constraints)]
        for key in ("learners", "mitigators"):
            config[key] = None if params[key] is None else list(params[key])
        config["pos_label"] = plain(self.pos_label)
        return config

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

    def fairness_report(self, X: Any, y: Any, sensitive_features: Any = None) -> Any:
        """Per-group selection rate, TPR, FPR, accuracy and count of the chosen model.

        Returns a ``fairlearn.metrics.MetricFrame``: ``.by_group`` is the table (one row
        per group or intersection), ``.overall`` the whole data, ``.difference()`` the
        largest gap per metric. Pass rows the search never saw for an honest report.
        """
        from fairautoml.report import fairness_report

        self._fitted()
        return fairness_report(self.predict, self.classes_, X, y, sensitive_features)

    def save(self, path: Any) -> Any:
        """Write the fitted estimator to ``path`` with joblib; read it with ``fairautoml.load``.

        The Optuna study handle (``study_``) is not written: reopen a persistent study
        with ``optuna.load_study``; ``leaderboard_`` and ``pareto_front_`` are kept.
        """
        self._fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path, compress=3)
        return path

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: the estimator keeps its study_
        state.pop("study_", None)  # storages hold connections; the leaderboard is kept
        return state

    def score(
        self, X: Any, y: Any, sample_weight: Any = None, sensitive_features: Any = None
    ) -> float:
        """The fitted ``metric`` on (X, y) (higher is better)."""
        metric = get_metric(self.metric)
        proba = self.predict_proba(X, sensitive_features)[:, 1]
        y_arr = encode_labels(y, self.classes_, len(proba))
        return metric.score(y_arr, (proba >= 0.5).astype(int), proba)


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# The numeric parameters: name, what it must be (for the message), and the check.
_PARAMETERS: list[tuple[str, str, Callable[[Any], bool]]] = [
    ("time_budget", "> 0 seconds or None", lambda v: v is None or (_real(v) and v > 0)),
    ("n_trials", "an integer >= 1 or None", lambda v: v is None or (_int(v) and v >= 1)),
    ("validation_fraction", "a number in [0.05, 0.5]", lambda v: _real(v) and 0.05 <= v <= 0.5),
    ("confidence", "a number in (0, 1) or None", lambda v: v is None or (_real(v) and 0 < v < 1)),
    (
        "cv_folds",
        "an integer in [2, 20], 'auto' or None",
        lambda v: v is None or v == "auto" or (_int(v) and 2 <= v <= 20),
    ),
    ("min_group_size", "an integer >= 1", lambda v: _int(v) and v >= 1),
    (
        "max_search_rows",
        "an integer >= 100 or None",
        lambda v: v is None or (_int(v) and v >= 100),
    ),
    ("n_jobs", "a non-zero integer (-1: all cores)", lambda v: _int(v) and v != 0),
    (
        "trial_time_limit",
        "> 0 seconds, 'auto' or None",
        lambda v: v is None or v == "auto" or (_real(v) and v > 0),
    ),
    (
        "random_state",
        "an integer in [0, 2**32) or None",
        lambda v: v is None or (_int(v) and 0 <= v < 2**32),
    ),
]


def _names(kind: str, value: Any, default: list[str]) -> list[str]:
    """A list of registered names; one string is one name, None is every registered one."""
    if value is None:
        return list(default)
    names = [value] if isinstance(value, str) else list(value)
    for name in names:
        if not isinstance(name, str):
            raise E.unknown_name(kind, name, default)
    return names


def _candidate(study: optuna.Study, number: int) -> Candidate:
    return record.candidate(study.trials[number])


def _forget_weak_models(evaluations: dict[int, Evaluation], keep: int, policy: PickPolicy) -> None:
    """Keep fitted models only for the ``keep`` points the pick would rank first (memory
    stays bounded)."""
    with_model = [(n, e) for n, e in evaluations.items() if e.model is not None]
    if len(with_model) <= keep:
        return
    with_model.sort(key=lambda item: policy.key(item[1].result, item[1].result.metric))
    for _, e in with_model[: len(with_model) - keep]:
        e.model = None


def fit(X: Any, y: Any, sensitive_features: Any, **options: Any) -> FairAutoML:
    """Fit a :class:`FairAutoML` with ``options`` and return it."""
    return FairAutoML(**options).fit(X, y, sensitive_features=sensitive_features)


__all__ = ["FairAutoML", "fit"]
