"""What one trial is: the candidate it tries, the context it runs in, what it measured.

The types every controller, the record and the pick share; how a candidate is trained
and measured is :mod:`fairautoml.search.evaluate`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.data.missing_groups import FairnessRows, fairness_rows, known_rows
from fairautoml.data.prepare import PreparedData
from fairautoml.data.splits import cv_folds, subsample_rows
from fairautoml.learners import get_learner
from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric
from fairautoml.measures.row_copies import RowCopies, counted
from fairautoml.mitigators import decision_rule_of, randomized_of, row_keys
from fairautoml.model.fair_model import FairModel
from fairautoml.study.kinds import CandidateKind, kind_of
from fairautoml.study.pick import PickPolicy
from fairautoml.tasks import Task, get_task

POST_FOLDS = 5  # folds of the validation rows over which post-processing is cross-fitted


@dataclass(frozen=True)
class Candidate:
    """One point of the joint space: learner, training mitigation and post-processing."""

    learner: str
    learner_params: dict[str, Any] = field(default_factory=dict)
    mitigator: str = "none"
    mitigator_params: dict[str, Any] = field(default_factory=dict)
    post: str = "none"
    post_params: dict[str, Any] = field(default_factory=dict)
    # training rows: None, every search training row; n, a stratified sample of n of them
    # (a lower rung of successive halving over rows, fairautoml.search.row_rungs)
    train_rows: int | None = None

    @property
    def kind(self) -> CandidateKind:
        """One trained model, or a composite of other candidates (an ensemble)."""
        return kind_of(self.learner)

    def describe(self) -> str:
        parts = [self.kind.describe(self.learner, self.learner_params)]
        if self.mitigator != "none":
            parts.append(self.mitigator)
        if self.post != "none":
            parts.append(self.post)
        return " + ".join(parts)

    def mitigators_used(self) -> tuple[str, ...]:
        """Every mitigator its model is built with: its own, and its members' (a
        composite's members are candidates of their own, fairautoml.study.kinds)."""
        names = [self.mitigator, self.post, *self.kind.member_mitigators(self.learner_params)]
        return tuple(dict.fromkeys(n for n in names if n != "none"))

    @property
    def decision_rule(self) -> str:
        """What its model reads of the group when it decides (mitigators.DECISION_RULES)."""
        return decision_rule_of(self.mitigators_used())

    @property
    def randomized(self) -> bool:
        return randomized_of(self.mitigators_used())

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> Candidate:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class TrialResult:
    """What one evaluated candidate measured on validation."""

    candidate: Candidate
    status: str  # "ok" | "failed"
    metric: float = float("nan")
    constraint_values: dict[str, float] = field(default_factory=dict)
    violation: float = float("inf")
    fit_time: float = 0.0
    error: str | None = None
    # bootstrap interval of each constraint's value on validation (level in SearchContext)
    constraint_intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    # worst violation at the unfavourable end of each interval (<= 0: robust; nan: unknown)
    robust_violation: float = float("nan")
    # the task's diagnostics on validation (Task.diagnostics): how widely the predictions
    # spread (a binary model's selection rate) and how useful they are (balanced accuracy)
    diagnostics: dict[str, float] = field(default_factory=dict)
    # standard errors by which every constraint holds (constraints.assurance; nan: unknown)
    assurance: float = float("nan")
    # measured again after the search (search.confirm: on every row or every training row)
    confirmed: bool = False
    # standard error of each constraint's value that comes from fitting the point's
    # post-processing rule on a sample (constraints.rule_noise; empty: no rule fitted)
    rule_noise: dict[str, float] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return self.status == "ok" and self.violation <= 0.0

    @property
    def decision_rule(self) -> str:
        return self.candidate.decision_rule

    @property
    def randomized(self) -> bool:
        return self.candidate.randomized


# The learner of the search's one group classifier (default settings), whose P(group | x)
# blind post-processors read: a model that decides without the group.
GROUP_LEARNER = "lightgbm"


def make_group_classifier(random_state: int | None, n_jobs: int = 1) -> Any:
    """An unfitted classifier of the group (:data:`GROUP_LEARNER`, default settings)."""
    learner = get_learner(GROUP_LEARNER)  # a classifier of the group, whatever the task
    return learner.make(learner.space.defaults(), random_state, n_jobs)


@dataclass
class SearchContext:
    """Everything a trial needs: data, split, constraints, metric, randomness."""

    data: PreparedData
    train_idx: np.ndarray
    val_idx: np.ndarray
    constraints: list[Constraint]
    metric: Metric
    random_state: int | None = None
    n_jobs: int = 1
    keep_sensitive_as_feature: bool = False
    deadline: float | None = None  # time.monotonic() at which the search must end
    interval_level: float = 0.8  # level of the bootstrap intervals of constraint values
    pick: PickPolicy = field(default_factory=PickPolicy)  # what the final pick takes
    task: Task = field(default_factory=lambda: get_task("binary"))
    # cross-validation: (fit rows, scored rows) per fold, with train_idx = val_idx = every
    # row; empty: the holdout split train_idx / val_idx
    cv_folds: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    # group_estimator's cache: fold (-1: the holdout's training rows) -> fitted classifier
    _group_estimators: dict[int, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # sampled's cache: rows -> the context training on that many of train_idx
    _samples: dict[int, SearchContext] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _sampled_from: SearchContext | None = field(default=None, init=False, repr=False, compare=False)

    @cached_property
    def train(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """The training rows, with the groups a mitigation trains on."""
        return self.data.training_subset(self.train_idx)

    @cached_property
    def val(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        return self.data.subset(self.val_idx)

    @cached_property
    def val_keys(self) -> np.ndarray:
        """The validation rows' keys (:func:`~fairautoml.mitigators._base.row_keys`), which
        a randomized rule's draws read, as at predict time."""
        return row_keys(self.val[0])

    @cached_property
    def train_weight(self) -> np.ndarray | None:
        """The training rows' ``sample_weight`` (None: an unweighted fit)."""
        return self.data.weights(self.train_idx)

    @cached_property
    def val_weight(self) -> np.ndarray | None:
        """The validation rows' ``sample_weight`` (None: an unweighted fit)."""
        return self.data.weights(self.val_idx)

    @cached_property
    def val_weight_set(self) -> np.ndarray | None:
        """The validation rows' reweightings a robust shift claim is the worst case over,
        shape (k, validation rows) (None: the claim is for ``val_weight`` alone)."""
        if self.data.weight_set is None:
            return None
        return self.data.weight_set[:, self.val_idx]

    def group_estimator(self, fold: int | None = None) -> Any:
        """The search's classifier of the group from the features (:data:`GROUP_LEARNER`
        with its default settings), fitted once on the training rows (of ``fold`` under
        cross-validation) and shared by every trial: P(group | x) does not depend on the
        scoring model, so blind post-processing costs no extra training per model."""
        if self._sampled_from is not None:  # the search's classifier, not the sample's
            return self._sampled_from.group_estimator(fold)
        key = -1 if fold is None else fold
        if key not in self._group_estimators:
            rows = self.train_idx if fold is None else self.cv_folds[fold][0]
            rows = rows[known_rows(self.data.groups[rows])]  # an unknown group teaches nothing
            X, _, g = self.data.subset(rows)
            w = self.data.weights(rows)
            estimator = make_group_classifier(self.random_state, self.n_jobs)
            fitted = estimator.fit(X, g) if w is None else estimator.fit(X, g, sample_weight=w)
            self._group_estimators[key] = fitted
        return self._group_estimators[key]

    def has_group_estimator(self, fold: int | None = None) -> bool:
        """Whether :meth:`group_estimator` is fitted already (asking for it costs nothing)."""
        if self._sampled_from is not None:
            return self._sampled_from.has_group_estimator(fold)
        return (-1 if fold is None else fold) in self._group_estimators

    @property
    def trains_on_sample(self) -> bool:
        """Whether the search's trials train on a sample of the holdout's training rows
        (a table above ``max_search_rows``)."""
        return not self.cv_folds and len(self.train_idx) + len(self.val_idx) < len(self.data.y)

    def for_trials(self) -> SearchContext:
        """This context with only the rows its trials read (the searched training rows and
        the validation rows), renumbered in the same order: what a trial worker process
        is sent, so a big table's unsearched training rows are not copied into every
        worker. A holdout's samples (:meth:`sampled`) pick the same rows in both."""
        rows = np.union1d(self.train_idx, self.val_idx)
        if self.cv_folds or len(rows) == len(self.data.y):
            return self
        data = self.data.rows(rows)
        train_idx, val_idx = (
            np.searchsorted(rows, self.train_idx),
            np.searchsorted(rows, self.val_idx),
        )
        trials = replace(self, data=data, train_idx=train_idx, val_idx=val_idx)
        trials._group_estimators = self._group_estimators  # trained on the same rows
        return trials

    def n_training_rows(self, candidate: Candidate) -> int:
        """How many training rows ``candidate`` trains on here (see :meth:`sampled`)."""
        n = len(self.train_idx)
        if candidate.train_rows is None or self.cv_folds:
            return n
        return min(n, candidate.train_rows)

    def sampled(self, n_rows: int | None) -> SearchContext:
        """This context training on a stratified sample of ``n_rows`` of its training rows
        (itself for None, at least every row, or cross-validation). The sample depends on
        the rows and ``random_state`` only, so a rebuilt trial trains on the same rows; the
        validation rows, their folds and the group classifier are this context's."""
        if n_rows is None or n_rows >= len(self.train_idx) or self.cv_folds:
            return self
        if n_rows not in self._samples:
            seed = 0 if self.random_state is None else self.random_state
            strata, groups = self.data.strata, self.data.stratified_on
            rows = subsample_rows(self.train_idx, strata, groups, n_rows, seed)
            sample = replace(self, train_idx=rows)
            sample._sampled_from = self
            # shared, not copied
            sample.__dict__.update(val=self.val, val_folds=self.val_folds, val_keys=self.val_keys)
            self._samples[n_rows] = sample
        sample = self._samples[n_rows]
        # what the search changes as it goes (the deadline, the pick's floor) stays in step
        sample.deadline, sample.pick, sample.n_jobs = self.deadline, self.pick, self.n_jobs
        return sample

    @cached_property
    def fairness_rows(self) -> FairnessRows:
        """The validation rows fairness is measured on (:mod:`fairautoml.data.missing_groups`)."""
        data, rows = self.data, self.val_idx
        return fairness_rows(
            data.groups[rows],
            None if data.membership is None else data.membership[rows],
            None if data.probabilities is None else data.probabilities[rows],
            None if data.held_out_membership is None else data.held_out_membership[rows],
        )

    @cached_property
    def fairness_membership(self) -> np.ndarray | RowCopies | None:
        """What the measures count :attr:`fairness_rows` by (their ``membership=``), made once:
        a rectified estimate's row copies keep their bootstrap draws for every point."""
        fair = self.fairness_rows
        return counted(fair.index, fair.weight, fair.plain)

    @cached_property
    def val_folds(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """:data:`POST_FOLDS` folds of the validation rows, stratified on target x group."""
        strata = self.data.strata[self.val_idx]
        groups = self.data.stratified_on[self.val_idx]
        return list(cv_folds(strata, groups, POST_FOLDS, self.random_state))


@dataclass
class Evaluation:
    result: TrialResult
    model: FairModel | None = None
    # a trained model's raw point: its validation scores, for ensembles (fairautoml.search.ensemble
    # takes them from the search's record of the point, which keeps no copy)
    scores: np.ndarray | None = field(default=None, repr=False)
    # the point's predictions on its validation rows, as it was measured (post-processing
    # cross-fitted; out of fold under cross-validation): the evidence its claim rests on,
    # which the card and the report read (kept, like the model, for the leading points)
    decisions: np.ndarray | None = field(default=None, repr=False)
    # the point's probabilities behind those decisions (float32), where they are scores a
    # new cut-off may be read from: a yes/no point without a rule, or whose rule
    # calibrates (multicalibration); what FairAutoML.decide re-cuts
    probabilities: np.ndarray | None = field(default=None, repr=False)
