"""One search for every task: the scikit-learn estimator the classifier and the regressor
share (its parameters, fit, predict, audit, save), whatever differs between tasks being
the task object's.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from fairautoml import exceptions as E
from fairautoml.audit.verdicts import reference_of_fit
from fairautoml.data.labels import warn_assumed_positive
from fairautoml.estimators.build import build_search
from fairautoml.estimators.decide import decide
from fairautoml.estimators.params import advice_of
from fairautoml.estimators.running import Search, will_not_refit
from fairautoml.estimators.summary import FitSummary, evidence_of, keep_results
from fairautoml.search.evaluate import refit
from fairautoml.study.pick import select_trial, warn_about_pick
from fairautoml.study.storage import masked

NOT_FITTED = "This {cls} instance is not fitted yet: call fit(X, y, sensitive_features=...) first."
NOT_ON_BOARD = (
    "Trial {trial} is not on the search's leaderboard ({count} rows): adopt a number from "
    "its 'trial' column."
)

logger = logging.getLogger("fairautoml")


class FairSearchEstimator(BaseEstimator):
    """Search learners, hyperparameters and mitigations for the most accurate fair model.

    The search shared by :class:`FairAutoML` (yes/no decisions) and
    :class:`FairAutoMLRegressor` (amounts); each sets its task.

    Parameters
    ----------
    constraints : str, Constraint, list of them, or None
        Fairness constraints that must all hold, e.g.
        ``"demographic_parity_difference <= 0.05"`` (classification) or
        ``"demographic_parity_ks <= 0.1"`` (regression). None: that example for the task.
    metric : str or None
        What "accurate" means: accuracy, balanced_accuracy, roc_auc, f1, log_loss for
        classification; r2, rmse, mae for regression (losses are maximised negated).
        None: accuracy, or r2.
    time_budget : float or None
        Seconds of wall clock for the whole ``fit``; None to stop on ``n_trials`` only.
        The search runs until what the final steps need is left: the pick, and the
        refit of the model leading the search when it will be refitted on all rows.
    n_trials : int or None
        Maximum number of trained models (None: until the time budget ends). Each trained
        model is also scored under every post-processor setting, one trial of the study
        (one leaderboard row) per setting.
    controller : str
        Search controller: "optuna" (multi-objective study), "admm" (ADMM decomposition
        with dual variables for the constraints) or "flaml" (FLAML's cost-frugal search).
    learners, mitigators : list of str or None
        Names to search over (None: every registered one that supports the constraints).
        Post-processing is applied to every trained model; costly in-processing (stage
        "in": reductions, constrained boosting) runs on a configuration where its expected
        cost per improvement of the best fair model is below plain tuning's
        (:mod:`fairautoml.search.allocator`). To search without it, leave it out of ``mitigators``.
    decision_rule : {"group_free", "proxy", "group_aware"} or None
        Which decision rules the chosen model may use: what it reads of the sensitive
        attribute when it decides. "group_free" (the default): no group and no estimate
        of the group enters a decision; the group still shapes training (reweighing,
        reductions, constrained boosting, ensembles of such models). "proxy": also rules
        that estimate each applicant's group from the features and apply a cut-off per
        estimated group (``inferred_thresholds``, ``bias_score_blind``), which reviewers
        in US lending and hiring read as group-specific cut-offs through a proxy.
        "group_aware": rules on the true group (per-group thresholds), read at predict
        time; the same as ``sensitive_at_predict=True``. Deciding with the group is
        disparate treatment in much of lending and hiring (US ECOA / Regulation B; the
        Civil Rights Act of 1991 bars adjusting employment-test cut-offs by race or sex;
        similar rules in the EU), hence the default. With every group known, the search
        also measures the other policies' post-processing on the same trained models, so
        the report shows what each policy costs; those models are never picked. None:
        "group_aware" with ``sensitive_at_predict=True``, else "group_free".
    deterministic : bool
        Leave randomized rules out of the pick (``threshold_optimizer``,
        ``relaxed_thresholds``, ``inferred_thresholds``, the several-classes LP): every
        decision is then a function of the applicant's features alone, with no draw.
        Default False.
    sensitive_at_predict : bool
        The older spelling of ``decision_rule="group_aware"`` (True); False leaves the
        policy to ``decision_rule``.
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
        every row. "auto" (default): 5 folds up to 10,000 rows, a holdout
        above. None: a holdout.
    min_group_size : int
        Smallest group (rows) accepted; smaller groups give unreliable rates.
    sensitive_bins : dict or None
        Bins for numeric sensitive attributes (an age, an income), by attribute name:
        cut points, ``{"age": [25, 40, 60]}`` (groups ``<25``, ``[25, 40)``, ``[40, 60)``,
        ``>=60``; each bin holds its left edge), or ``{"age": "quantiles:4"}`` (cut at the
        quartiles of the fit rows). The model keeps the cut points and cuts new rows at
        them (values beyond the outer ones fall in the end bins); ``best_config_
        ["sensitive_bins"]`` records them. A numeric attribute with many distinct values
        and no bins is an error. None: every attribute's values are its groups.
    missing_groups : {"error", "exclude", "infer"}
        What to do with rows whose group is unknown (a missing value of a sensitive
        attribute). "error" (default): refuse them. "exclude": every model trains on every
        row, and fairness (the constraints, their intervals, the mitigations' fits) is
        measured on the rows whose group is known. "infer": as "exclude", and the group of
        the other rows is inferred from their features and target by a classifier trained
        on the rows whose group is known; their soft memberships P(group | x, y) count in
        the constraints and widen their intervals, and in the fits of the post-processors
        that take row weights; ``best_config_["group_inference"]``
        says how well the groups could be inferred. When they can hardly be inferred
        (a :class:`~fairautoml.exceptions.GroupInferenceWarning`), fairness is measured
        as under "exclude". Models that read the group at predict
        time (``decision_rule="group_aware"``) are not searched with missing groups.
    pos_label : label or None
        The favourable outcome: the class whose rate demographic parity compares and whose
        true-positive rate equal opportunity compares (a loan granted, a candidate hired).
        None: the label that sorts last (1 of 0/1, True of booleans); then a
        :class:`~fairautoml.exceptions.PositiveLabelWarning` says which label was taken
        when a constraint depends on it (every ratio and single-rate metric; not the
        demographic parity and equalized odds differences) and the labels are not 0/1 or
        booleans. ``classes_[1]`` is the positive class. Classification only.
    max_search_rows : int or None
        Training rows a trial sees at most (the data side of multi-fidelity): above it,
        trials train on a sample stratified on target x group, validation keeps its rows
        (up to ``max_validation_rows``), and the chosen model is refitted on every row
        (``refit``; not a pick that post-processes its scores). None: all rows. Holdout
        searches only.
    max_validation_rows : int or None
        Validation rows at most: above it, a sample of the held-out rows stratified on
        target x group stays for validation and the others join the training rows (which
        ``max_search_rows`` samples, and a confirmation trains on). On a big table every
        trial scores, post-processes and measures its rules on the validation rows, so
        their number sets the cost of a trial whatever the rows it trained on. The
        default 100,000 caps a table above 400,000 rows at the default fraction: fewer
        rows there buy more models in the time, and far fewer widen the intervals the
        pick is held to (``docs/decisions.md``, "Validation rows on a big table"). None:
        every row ``validation_fraction`` holds out. Holdout searches only.
    min_rung_rows : int, "auto" or None
        Successive halving over those rows (the other side of multi-fidelity, with early
        stopping of boosting): a new configuration trains first on a sample of them, down
        by factors of 3 while a sample keeps at least this many rows, and is trained again
        on three times as many only if its best pickable point is among the top third of
        its rung's (:mod:`fairautoml.search.row_rungs`). "auto" (default): 10,000 when the
        table is above ``max_search_rows`` (where rungs find as accurate a pick sooner),
        else none.
        None: every configuration trains on every search row. Holdout searches with the
        built-in controllers that train through one loop (``optuna``, and ``flaml`` with
        trials side by side).
    confidence : float, "auto" or None
        The pick must meet each constraint at the upper end of a bootstrap interval of
        this level on validation, when any trial does (None: the point estimate suffices).
        "auto" (default): the task's level, 0.8 for yes/no decisions and amounts, 0.98 for
        several classes, whose claims need the wider margin to hold on new rows
        (docs/fairness_claims.md).
    refit : bool
        Retrain the chosen scoring model on training + validation rows, unless the pick
        post-processes its scores: that rule (per-group thresholds, bias-score multipliers,
        ThresholdOptimizer) was fitted to the search-time model's validation scores and
        does not carry over to a retrained model's scores (its fairness on new rows would
        no longer be what the search measured); nor an ensemble with a mitigated member,
        whose fairness is the mix of its members' scores as measured; nor, under
        ``missing_groups="infer"``, a model whose mitigation trained in groups drawn for
        the rows without one (trained again, it lands on another model).
    confirm : bool
        After a holdout search, train the leading post-processed models again by 3-fold
        cross-validation over every row and fit and measure their rules on all held-out
        scores (:mod:`fairautoml.search.confirm`): the rule and its fairness claim then rest on
        every row instead of the validation quarter, and the pick prefers such points
        within a tier. The first confirmed is the most accurate model that meets the
        constraints on validation without the confidence asked for, when it beats the
        pick there: measured on every row, it may meet them with that confidence. Runs
        while the time budget allows; small data are cross-validated by the search
        already (``cv_folds``).
    ensemble : bool
        Also offer ensembles of the search's models as candidates (default True): a
        weighted mean of the scores of up to 10 of its best models, grown by greedy
        selection with replacement (Caruana et al. 2004) for the best point the pick could
        take after post-processing (:mod:`fairautoml.search.ensemble`). Built during the search
        (within a tenth of its wall clock) and at its end; each ensemble is scored raw and
        under every post-processor setting like a trained model, and confirmed and
        refitted (each member) like one. False: single models only.
    portfolio : bool
        Start the search from the portfolio (default True): after each learner's low-cost
        start, configurations learned offline to do well across the bundled tables are
        tried in a fixed order (:mod:`fairautoml.search.portfolio`), each whose learner is
        in ``learners``, whose parameters lie in its search space and whose time estimate
        fits the time left; then the sampler takes over, having learned from them. The
        ``optuna`` controller only, for the tasks the portfolio covers (binary
        classification). False: after the low-cost starts, the defaults of the learners
        whose low-cost start did best.
    storage, study_name : str or None
        Optuna storage URL (``sqlite:///path.db``, ``postgresql://...``,
        ``journal:path.log``) and study name (None: in memory). With a named study in a
        storage, ``fit`` resumes it: trials already recorded are kept, the time budget
        is the study's total search time and ``n_trials`` its total number of trials,
        and other processes may join it (``fairautoml worker``). A saved, pickled or
        copied estimator keeps the URL with its password masked (``***``), so no model
        file holds it: to fit a loaded one again, give ``storage`` anew (``set_params``).
    trial_time_limit : float, "auto" or None
        Seconds one trial may take before it is stopped and recorded as failed; "auto"
        is a third of ``time_budget`` from 10 s up, applied once a trial has succeeded
        (until then only the budget stops a trial: a search must not end with no model
        because its first trials were slow), and no limit for smaller budgets or without
        one (worker processes take a second or two to start). With a limit, or
        with trials side by side (``n_jobs``), trials run in worker processes.
    n_jobs : int
        Cores the fit uses (default 1; -1: every core this process may run on; -2: all
        but one; not yet the default: ``docs/decisions.md``, "All cores by default").
        With a time budget, trials train side by side, one per core (fewer on a table
        too big for a worker per core in memory; the cores left become threads of
        each); with ``n_trials`` and no time budget, one trial at a time on every core.
        The final refit uses every core (:mod:`fairautoml.search.cores`). Only
        ``n_jobs=1`` runs by ``n_trials`` are repeatable.
    random_state : int or None
        Seed of every random source (split, samplers, learners). With None the samplers
        and learners are unseeded but the validation split is still fixed by the data's
        content, so a resumed or shared study scores all its trials on one split.
    verbose : int
        0 silent; 1 a progress bar on stderr (trials, best fair score so far, time left);
        2 also logs each trial at INFO level.
    """

    _task: ClassVar[str] = "binary"

    def __init__(
        self,
        constraints: Any = None,
        metric: str | None = None,
        time_budget: float | None = 60,
        n_trials: int | None = None,
        controller: str = "optuna",
        learners: list[str] | None = None,
        mitigators: list[str] | None = None,
        decision_rule: str | None = None,
        deterministic: bool = False,
        sensitive_at_predict: bool = False,
        keep_sensitive_as_feature: bool = False,
        validation_fraction: float = 0.25,
        cv_folds: int | str | None = "auto",
        min_group_size: int = 20,
        sensitive_bins: dict[str, Any] | None = None,
        missing_groups: str = "error",
        pos_label: Any = None,
        max_search_rows: int | None = 100_000,
        max_validation_rows: int | None = 100_000,
        min_rung_rows: int | str | None = "auto",
        confidence: float | str | None = "auto",
        refit: bool = True,
        confirm: bool = True,
        ensemble: bool = True,
        portfolio: bool = True,
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
        self.learners = learners
        self.mitigators = mitigators
        self.decision_rule = decision_rule
        self.deterministic = deterministic
        self.sensitive_at_predict = sensitive_at_predict
        self.keep_sensitive_as_feature = keep_sensitive_as_feature
        self.validation_fraction = validation_fraction
        self.cv_folds = cv_folds
        self.min_group_size = min_group_size
        self.sensitive_bins = sensitive_bins
        self.missing_groups = missing_groups
        self.pos_label = pos_label
        self.max_search_rows = max_search_rows
        self.max_validation_rows = max_validation_rows
        self.min_rung_rows = min_rung_rows
        self.confidence = confidence
        self.refit = refit
        self.confirm = confirm
        self.ensemble = ensemble
        self.portfolio = portfolio
        self.storage = storage
        self.study_name = study_name
        self.trial_time_limit = trial_time_limit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # --- fit -------------------------------------------------------------------------------

    def fit(
        self,
        X: Any,
        y: Any,
        sensitive_features: Any = None,
        sample_weight: Any = None,
        target_X: Any = None,
        group_probabilities: Any = None,
        shift_robust: bool = False,
    ) -> FairSearchEstimator:
        """Search for the most accurate model meeting every constraint, then refit it.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,): two classes, or amounts (regression)
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_attributes),
            or the name(s) of column(s) of X. With several attributes, groups are their
            intersections.
        sample_weight : array-like of shape (n_samples,) or None
            How many people each row stands for (survey or frequency weights): finite,
            >= 0, not all zero. Learners train with them, and the metric, the
            constraint values, their bootstrap intervals and post-processing rules count
            each row by its weight (integer weights k act as the row repeated k times).
            The search keeps the learners and mitigators that take weights. None: every
            row counts once.
        target_X : DataFrame or None
            Rows from where the model will be used, without labels, with the feature
            columns of X (X's sensitive columns may be among them; then they count too).
            The claim and the pick are then made for that population: each row of X
            counts by its importance weight, the odds a domain classifier gives that it
            comes from ``target_X`` (times ``sample_weight`` when both are given), in
            training, the metric, the constraint values and their intervals, and the
            post-processing. This assumes covariate shift (the outcome given the features
            is the same there). ``best_config_["shift"]`` records the effective sample
            size; poor overlap warns (:class:`~fairautoml.exceptions.ShiftOverlapWarning`),
            none is an error. The weights' time (``best_config_["shift"]["seconds"]``) is
            not taken from ``time_budget``: the search gets all of it. See
            docs/fairness_claims.md, "Where the model will be used".
        group_probabilities : DataFrame of shape (n_samples, n_groups) or None
            Instead of ``sensitive_features``: each row's probability of each group (BISG,
            BIFSG; one named column per group, rows summing to 1; the columns' name, if
            any, is the attribute constraints may name). Every fairness measure is then
            estimated from them by the regression estimator (unbiased if they are
            calibrated and, given the group, the decisions do not depend on what they are
            computed from: docs/sensitive_attributes.md, "Membership probabilities"), with
            bootstrap intervals; only yes/no decisions and group-free decision rules are
            searched, and training mitigations read each row's most probable group.
        shift_robust : bool, default False
            With ``target_X``: every constraint value the search, the pick and the claim
            read is the worst case over a set of reweightings of the fit's rows, the
            importance weights' density ratio raised to each power of
            :data:`~fairautoml.data.shift.ROBUST_POWERS` (0: the fit's own population; 1:
            the target as estimated; 1.5: a shift half again as far), each capped and
            normalised as the central weights are; the metric, training and
            post-processing keep the central weights. ``best_config_["shift"]["robust"]``
            records the set. Without ``target_X`` it is an error. See
            docs/fairness_claims.md, "A claim robust to the weights".
        """
        started = time.monotonic()
        search = build_search(
            self.search_params(), X, y, sensitive_features, started=started,
            sample_weight=sample_weight, target_X=target_X,
            group_probabilities=group_probabilities, shift_robust=shift_robust,
        )  # fmt: skip
        classes = search.ctx.data.classes
        if self.pos_label is None and classes is not None:
            depends = [str(c) for c in search.constraints if c.needs_positive_label]
            warn_assumed_positive(depends, classes, stacklevel=2)
        search.run()
        search.confirm()
        board = search.leaderboard()
        number, tier = select_trial(board, search.ctx.metric.name, search.ctx.pick)
        row = board.loc[board["trial"] == number].iloc[0]
        advice = advice_of(self.search_params(), len(search.ctx.cv_folds))
        if search.ctx.data.probabilities is not None:
            advice = replace(advice, other_rules=False)
        warn_about_pick(row, search.constraints, stacklevel=3, advice=advice)
        return self.adopt(search, number, board=board, tier=tier, compare_policies=True)

    def adopt(
        self,
        search: Search,
        trial: int,
        *,
        board: Any = None,
        tier: str | None = None,
        compare_policies: bool = False,
        evaluation: Any = None,
    ) -> FairSearchEstimator:
        """Make trial ``trial`` of ``search`` this estimator's model, as ``fit`` makes its
        own pick (``fit`` ends here): rebuild the trial's model if the search no longer
        holds it, refit it on every row when ``refit`` asks and the trial allows it (not a
        post-processed model, nor an ensemble with a mitigated member) and the budget has
        time, and set every fitted attribute (``best_estimator_``, ``best_config_``,
        ``leaderboard_`` with the trial ``chosen``, ``evidence_``, ...). Returns ``self``.

        ``search``: a search built from this estimator's parameters and run,
        ``fairautoml.estimators.build.build_search(self.search_params(), X, y, s,
        started=...)``; :func:`fairautoml.find_alternatives` adopts the alternative it
        found this way. ``board``: the search's leaderboard (None: read now); ``tier``: the
        trial's tier there (None: its ``tier`` column). ``compare_policies``: also measure
        the other decision-rule policies on the search's models, for the report (``fit``
        does; the points are never picked). ``evaluation``: the trial's, where the caller
        holds it already (``search.evaluation(trial)``), so that the model adopted is the
        very one the caller measured.
        """
        board = search.leaderboard() if board is None else board
        found = board.loc[board["trial"] == trial]
        if found.empty:
            raise E.InputError(NOT_ON_BOARD.format(trial=trial, count=len(board)))
        if tier is None:
            tier = str(found.iloc[0].get("tier", ""))
        chosen = search.evaluation(int(trial)) if evaluation is None else evaluation
        model, refitted = chosen.model, False
        if self.refit and not will_not_refit(chosen, search.ctx) and search.time_for_refit(chosen):
            try:
                model, refitted = refit(chosen.result.candidate, search.ctx, model), True
            except Exception as exc:  # keep the validated search-time model
                logger.warning("refit failed (%s: %s); keeping the search-time model",
                               type(exc).__name__, exc)  # fmt: skip
        if compare_policies and search.compare_policies():  # never picked: the pick stays
            board = search.leaderboard()
        keep_results(self, search, board, int(trial), tier, chosen, model, refitted)
        self.evidence_ = evidence_of(search, int(trial), chosen)
        self.audit_reference_ = reference_of_fit(
            search.ctx, chosen.model or model, features=search.fit_features, evidence=self.evidence_
        )
        began = search.started
        if began is not None and search.ctx.data.shift is not None:  # the weights' time too
            began -= search.ctx.data.shift["seconds"]
        self.fit_time_ = time.monotonic() - began if began is not None else float("nan")
        return self

    def search_params(self) -> dict[str, Any]:
        """The parameters a search is built from: the estimator's, and its task (for a
        classifier, the one its last ``fit`` read off the target)."""
        return {**self.get_params(), "task": getattr(self, "_fit_task", self._task)}

    @property
    def fit_summary_(self) -> FitSummary:
        """The pick of the last fit, typed: ``best_config_`` read back, so a model file
        keeps the dict alone (one written by an older version reads too, a key it lacks
        at its default)."""
        return FitSummary.from_dict(self.best_config_, getattr(self, "metric_", None))

    # --- predict ---------------------------------------------------------------------------

    def _fitted(self) -> Any:
        if not hasattr(self, "best_estimator_"):
            raise E.NotFittedError(NOT_FITTED.format(cls=type(self).__name__))
        return self.best_estimator_

    def predict(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """Predictions (classes, or amounts); ``sensitive_features`` only if the chosen
        model needs them."""
        return self._fitted().predict(X, sensitive_features)

    def decide(self, constraints: Any = None, cost: float | None = None) -> FairSearchEstimator:
        """A copy of this fitted estimator deciding by a new cut-off, without refitting: for
        ``constraints`` (a string, a list, as in ``constraints=``) and/or ``cost`` (a false
        positive's cost in false negatives; 1 by default), fitted on the rows the claim
        rests on, the claim (``best_config_``: values, intervals, verdict) recomputed there
        cross-fitted, ``best_config_["decided"]`` saying what was asked and the claim
        before. Needs a yes/no pick whose probabilities are scores (no post-processing, or
        ``multicalibration``). This estimator is not changed. See
        :mod:`fairautoml.estimators.decide`."""
        return decide(self, constraints, cost)

    def reasons(self, X: Any, k: int = 4, sensitive_features: Any = None, **options: Any) -> Any:
        """For each row, the ``k`` features that most lowered the chosen model's score, as
        phrases a notice can carry: see :meth:`fairautoml.model.fair_model.FairModel.reasons`
        (``options``: ``reference``, ``long``)."""
        return self._fitted().reasons(X, k, sensitive_features, **options)

    def audit(
        self,
        X: Any,
        y: Any = None,
        sensitive_features: Any = None,
        group_probabilities: Any = None,
        **options: Any,
    ) -> Any:
        """Audit the chosen model on new rows: a per-group table with intervals (rates and
        impact ratios of decisions, per class for several classes; errors for amounts),
        each constraint's verdict (holds / violated / cannot tell) against what the fit
        claimed, and whether fairness or the inputs drifted since the fit.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Rows the search never saw, with the fit's columns.
        y : array-like of shape (n_samples,) or None
            Their true outcomes; None measures what needs no labels (selection rates,
            impact ratios, the predictions' distribution, input drift) and says what it
            cannot.
        sensitive_features : column name(s) of X or values per row
            None: the columns named in ``fit``.
        group_probabilities : DataFrame of shape (n_samples, n_groups) or None
            Instead of known groups, each row's probability of each group (BISG, one named
            column per group, rows summing to 1): the disparities are estimated from them
            by :func:`fairautoml.audit.probabilities.audit_with_probabilities` (options:
            ``constraints``, ``pos_label``, ``level``, ``n_boot``, ``random_state``,
            ``min_effective_rows``, ``alpha``), which returns a ``ProbabilityAudit`` (its
            ``.drift`` tested where the fit too was given probabilities).
        **options
            ``pos_label``, ``level`` (of the intervals; the fit's, by default), ``alpha``
            (drift tests' false alarm rate, 0.05), ``random_state``: see
            :func:`fairautoml.audit.verdicts.audit`.

        Returns
        -------
        fairautoml.audit.verdicts.Audit
            ``.verdict``, ``.groups``, ``.constraints``, ``.drift``, ``.notes``;
            ``fairautoml.audit.page.write_audit(result, out_dir)`` writes its page and JSON.
        """
        from fairautoml.audit.verdicts import audit

        self._fitted()
        if group_probabilities is not None:
            from fairautoml.audit.probabilities import BOTH_GROUPS_AND_PROBABILITIES as BOTH
            from fairautoml.audit.probabilities import audit_with_probabilities

            if sensitive_features is not None:
                raise E.InputError(BOTH)
            return audit_with_probabilities(self, X, y, group_probabilities, **options)
        return audit(self, X, y, sensitive_features, **options)

    def save(self, path: Any) -> Path:
        """Write the fitted estimator to ``path``; read it with ``fairautoml.load``.

        A ``.skops`` path writes the skops format, which loading builds without running
        code from the file: a model to share or to keep. A ``.joblib`` (``.pkl``) path
        writes a pickle, which ``fairautoml.load`` opens only with ``trusted=True``. The
        Optuna study handle (``study_``) is not written: reopen a persistent study with
        ``optuna.load_study``; ``leaderboard_`` and ``pareto_front_`` are kept.
        """
        from fairautoml.model.files import write_model

        self._fitted()
        return write_model(self, path)

    def __getstate__(self) -> dict[str, Any]:
        """What a copy, a pickle or a model file keeps: not the study handle, and the
        storage URL without its password (``model.skops`` and ``.joblib`` files are shared;
        this estimator keeps the real URL while it runs)."""
        state = dict(super().__getstate__())  # a copy: the estimator keeps its study_
        state.pop("study_", None)  # storages hold connections; the leaderboard is kept
        if isinstance(state.get("storage"), str):
            state["storage"] = masked(state["storage"])
        return state

    def _shown(self) -> FairSearchEstimator:
        """This estimator as it is displayed: its storage URL without the password."""
        url = self.storage
        if not isinstance(url, str) or masked(url) == url:
            return self
        return copy.copy(self)  # through __getstate__, which masks it

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        return BaseEstimator.__repr__(self._shown(), N_CHAR_MAX)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return BaseEstimator._repr_mimebundle_(self._shown(), **kwargs)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing feature values are the learners' to handle
        tags.input_tags.categorical = True
        tags.input_tags.string = True  # text columns are categories
        return tags
