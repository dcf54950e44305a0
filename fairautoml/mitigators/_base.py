"""Mitigator protocols, one per place in the pipeline: pre -> learner (in) -> post.

* :class:`TrainingMitigator` (stage ``none``, ``pre`` or ``in``) trains the scoring model:
  it gets a factory of the learner's estimator and returns a :class:`ScoringModel`.
* :class:`PostProcessor` (stage ``post``) turns validation scores into a
  :class:`DecisionRule`. It is cheap, so it can be tried on every trained model.

A post-processor that declares ``needs_group_proba`` also gets ``group_proba``, the
probabilities P(group | x) of the search's group classifier, trained on the same rows as
the scoring model (:class:`GroupPredictingModel`), so its rule can serve rows whose group
is unknown.

Weighted fits (``fit(..., sample_weight=w)``): a mitigator that declares
``accepts_sample_weight = True`` is called with ``sample_weight=`` (one weight per row it
is given) and must train, fit its rule and compute its rates with those weights. The
others are called exactly as before in unweighted fits, and are left out of a weighted
search (an error when named in ``mitigators``), never run unweighted on weighted data.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric
from fairautoml.spaces import SearchSpace
from fairautoml.tasks import Task

STAGES = ("none", "pre", "in", "post")

_DEADLINE: ContextVar[float | None] = ContextVar("fairautoml_search_deadline", default=None)


@contextmanager
def search_deadline(deadline: float | None) -> Iterator[None]:
    """Within a search trial: the search's deadline (a ``time.monotonic()`` value)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float:
    """Seconds until the search's deadline; ``inf`` outside a search (e.g. the refit).

    Mitigators that fit the learner many times check it up front and fail fast (the
    trial is recorded as failed) rather than run far past the user's time budget.
    """
    deadline = _DEADLINE.get()
    return math.inf if deadline is None else deadline - time.monotonic()


# What a model's decisions read of the sensitive attribute (a user's `decision_rule` policy
# says which may be deployed): nothing (the group may still shape training: reweighing,
# reductions, constrained boosting); an estimate of the group from the features, with a
# rule per estimated group; the true group, with a rule per group.
GROUP_FREE, PROXY, GROUP_AWARE = "group_free", "proxy", "group_aware"
DECISION_RULES = (GROUP_FREE, PROXY, GROUP_AWARE)
# the kinds of rule each policy deploys: a proxy rule stands in for the group where the
# true group is not at hand at predict time, so a group-aware policy does not take one
DEPLOYS = {
    GROUP_FREE: frozenset({GROUP_FREE}),
    PROXY: frozenset({GROUP_FREE, PROXY}),
    GROUP_AWARE: frozenset({GROUP_FREE, GROUP_AWARE}),
}


class Mitigator(ABC):
    """What every mitigator declares; its space is ``search_spaces/mitigator_<name>.yaml``."""

    name: ClassVar[str]
    stage: ClassVar[str]
    supported_constraints: ClassVar[frozenset[str] | None] = None  # None: every metric
    needs_group_at_predict: ClassVar[bool] = False
    learners: ClassVar[frozenset[str] | None] = None  # learners it works with; None: any
    tasks: ClassVar[frozenset[str]] = frozenset({"binary"})  # the targets it serves
    randomized: ClassVar[bool] = False
    # takes sample_weight= in fit (and refit): usable in a weighted search
    accepts_sample_weight: ClassVar[bool] = False
    # searched by default only without the group at predict time (named: always)
    blind_default: ClassVar[bool] = False
    # the most groups (intersection cells) it can decide for; None: any number
    max_groups: ClassVar[int | None] = None
    # serves a dependence on a numeric attribute (generalized_disparate_impact[age]): its
    # groups are then that attribute's values, one per distinct value, read as numbers
    numeric_attributes: ClassVar[bool] = False
    # its model's probabilities stay scores (the learner's own, or calibrated), so it can
    # serve a constraint on their calibration (calibration_within_groups); a rule that
    # turns scores into decisions cannot
    serves_calibration: ClassVar[bool] = False
    space: SearchSpace = SearchSpace(name="empty")

    @property
    def cost(self) -> float:
        return self.space.cost

    @property
    def decision_rule(self) -> str:
        """What its model reads of the group when it decides (:data:`DECISION_RULES`):
        the true group, an estimate of it from the features, or neither."""
        if self.needs_group_at_predict:
            return GROUP_AWARE
        if getattr(self, "needs_group_proba", False):
            return PROXY
        return GROUP_FREE

    def works_with(self, learner: str) -> bool:
        return self.learners is None or learner in self.learners

    def supports(self, constraints: Sequence[Constraint]) -> bool:
        """Whether it can serve these constraints: each of a task it serves, and of its
        ``supported_constraints`` when it names them."""
        allowed = self.supported_constraints
        return all(
            c.task in self.tasks
            and (allowed is None or c.metric in allowed)
            and (self.numeric_attributes or not c.continuous)
            and (self.serves_calibration or not c.reads_scores)
            for c in constraints
        )


class ScoringModel(ABC):
    """A trained model giving a score per row: P(y=1) for yes/no decisions, every class's
    probability for several classes (shape (n, k)), the predicted amount for regression;
    may read the group codes."""

    needs_group: bool = False

    @abstractmethod
    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        """The scores (positive-class probabilities, or amounts), float64 of shape
        (n_samples,); class probabilities of shape (n_samples, n_classes) for several
        classes."""

    def group_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(group | x), shape (n_samples, n_groups); only models that carry a group classifier."""
        raise NotImplementedError(f"{type(self).__name__} carries no group classifier.")


class TrainingMitigator(Mitigator):
    @abstractmethod
    def fit(
        self,
        make_estimator: Callable[[], Any],
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        params: dict[str, Any],
        random_state: int | None,
        *,
        task: Task,
    ) -> ScoringModel:
        """Train the learner (made by ``make_estimator()``) with this mitigation, for the
        target's ``task`` (:class:`fairautoml.tasks.Task`: how the model's scores are read,
        the target's strata). With ``accepts_sample_weight``, a weighted fit also passes
        ``sample_weight=`` (the rows' weights, to hand on to the estimator's ``fit`` and to
        weigh any rates)."""

    def refit(
        self,
        fitted: ScoringModel,
        make_estimator: Callable[[], Any],
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        params: dict[str, Any],
        random_state: int | None,
        sample_weight: np.ndarray | None = None,
        *,
        task: Task,
    ) -> ScoringModel:
        """Train again on more rows (the pick's refit on every row), ``fitted`` being the
        model the search measured (one fit, or :class:`FoldModels`). By default the whole
        mitigation runs again. A mitigator whose ``fit`` tunes its own settings on the rows
        it trains on (``gap_reweighing``'s weights) may reuse what that tuning found
        instead: run again on other rows, it can land elsewhere, and the refitted model
        would not be the one whose fairness was measured. ``sample_weight=`` is passed
        on to ``fit`` (weighted fits only)."""
        return self.fit(
            make_estimator, X, y, groups, constraints, params, random_state,
            **weight_kwargs(sample_weight), task=task,
        )  # fmt: skip


class DecisionRule(ABC):
    """Maps scores (and groups) to decisions; ``predict == (predict_proba >= 0.5)``, or,
    for class probabilities of shape (n, k), their argmax.

    A rule with ``needs_group_proba`` is also called with ``group_proba=`` (P(group | x));
    a rule that ``draws`` (decides some rows at random) with ``row_keys=`` (:func:`row_keys`
    of the rows' features, or None). :func:`rule_proba` passes each what it reads.
    """

    needs_group: bool = False
    needs_group_proba: bool = False
    draws: bool = False
    # its probabilities are calibrated scores, not decisions dressed as probabilities: a
    # new cut-off may be read off them (FairAutoML.decide)
    calibrates: bool = False

    @abstractmethod
    def predict_proba(self, scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """Adjusted positive-class probabilities, float64, consistent with ``predict``."""

    def predict(
        self, scores: np.ndarray, groups: np.ndarray | None, **extra: np.ndarray
    ) -> np.ndarray:
        proba = self.predict_proba(scores, groups, **extra)
        if np.ndim(proba) == 2:
            return np.argmax(proba, axis=1).astype(np.int64)
        return (proba >= 0.5).astype(np.int64)


def row_keys(X: pd.DataFrame) -> np.ndarray:
    """One 64-bit key per row from its feature values alone (not its position or index).

    A randomized rule keys each row's draw on it: rows tied on the score (a model whose
    probabilities clip at 0 or 1, a tree's leaf values) then get draws of their own, so
    their decided rate is the rule's rate; and the same applicant gets the same decision
    in any batch. Rows with identical features share a draw, by design.
    """
    return pd.util.hash_pandas_object(X, index=False).to_numpy(dtype=np.uint64)


def rule_proba(
    rule: DecisionRule,
    scores: np.ndarray,
    groups: np.ndarray | None,
    *,
    group_proba: np.ndarray | None = None,
    keys: np.ndarray | None = None,
) -> np.ndarray:
    """``rule.predict_proba`` given what the rule reads: P(group | x) if it reads it, the
    rows' keys (:func:`row_keys`) if it draws."""
    extra: dict[str, np.ndarray | None] = {}
    if rule.needs_group_proba:
        extra["group_proba"] = group_proba
    if rule.draws:
        extra["row_keys"] = keys
    return rule.predict_proba(scores, groups, **extra)


class PostProcessor(Mitigator):
    """Fits a :class:`DecisionRule` on held-out scores.

    With ``needs_group_proba = True``, ``fit`` also receives ``group_proba=`` (P(group | x)
    on the same rows, from the search's group classifier).
    """

    stage: ClassVar[str] = "post"
    needs_group_proba: ClassVar[bool] = False

    @abstractmethod
    def fit(
        self,
        scores: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        metric: Metric,
        params: dict[str, Any],
        random_state: int | None,
    ) -> DecisionRule:
        """Fit the rule on held-out scores so it meets ``constraints``. With
        ``accepts_sample_weight``, a weighted fit also passes ``sample_weight=`` (the rows'
        weights: the rule's objective and rates are then weighted)."""


def weight_kwargs(sample_weight: np.ndarray | None) -> dict[str, np.ndarray]:
    """``sample_weight=`` for a weighted call, nothing for an unweighted one (so mitigators
    and estimators written without weights are called as they always were)."""
    return {} if sample_weight is None else {"sample_weight": sample_weight}


class EstimatorScoringModel(ScoringModel):
    """A plain fitted estimator, its scores read as its ``task`` reads them: the group is
    not used."""

    def __init__(self, estimator: Any, task: Task) -> None:
        self.estimator = estimator
        self.task = task

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return self.task.scores_of(self.estimator, X)


def trained_parts(scoring: ScoringModel) -> list[ScoringModel]:
    """The models a scoring model was trained as: each fold's of :class:`FoldModels`,
    without the search's group classifier beside them (:class:`GroupPredictingModel`)."""
    if isinstance(scoring, FoldModels):
        return [part for model in scoring.models for part in trained_parts(model)]
    if isinstance(scoring, GroupPredictingModel):
        return trained_parts(scoring.scoring)
    return [scoring]


class GroupPredictingModel(ScoringModel):
    """A scoring model plus a classifier of the group from the features, trained on the same
    rows; feeds the rules of post-processors that declare ``needs_group_proba``."""

    def __init__(self, scoring: ScoringModel, group_estimator: Any, n_groups: int) -> None:
        self.scoring = scoring
        self.group_estimator = group_estimator
        self.n_groups = n_groups
        self.needs_group = scoring.needs_group

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        return self.scoring.predict_proba(X, groups)

    def group_proba(self, X: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(X), self.n_groups))
        proba = np.asarray(self.group_estimator.predict_proba(X), dtype=np.float64)
        out[:, np.asarray(self.group_estimator.classes_, dtype=np.int64)] = proba
        return out


class FoldModels(ScoringModel):
    """Cross-validation's models, one per fold; each row is scored by one of them.

    During the search each row's score came from the fold model that did not train on it,
    and the decision rules were fitted on those held-out scores. New rows get the same
    treatment: a hash of the row's features picks the model, so the scores a rule meets
    after the search have the distribution it was fitted on, and a row always gets the
    same answer. (Averaging the models would give steadier but differently distributed
    scores, for which no rule was validated.)
    """

    def __init__(self, models: Sequence[ScoringModel]) -> None:
        self.models = list(models)
        self.needs_group = any(m.needs_group for m in self.models)

    def route(self, X: pd.DataFrame) -> np.ndarray:
        """The fold model of each row."""
        hashed = pd.util.hash_pandas_object(X, index=False).to_numpy()
        return (hashed % np.uint64(len(self.models))).astype(np.int64)

    def _by_model(self, X: pd.DataFrame, call: Callable[[ScoringModel, np.ndarray], np.ndarray]):
        which = self.route(X)
        parts = {k: np.flatnonzero(which == k) for k in range(len(self.models))}
        results = {k: call(self.models[k], rows) for k, rows in parts.items() if len(rows)}
        first = next(iter(results.values()))
        out = np.empty((len(X), *first.shape[1:]), dtype=np.float64)
        for k, values in results.items():
            out[parts[k]] = values
        return out

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        if len(X) == 0:
            return np.empty(0)

        def score(model: ScoringModel, rows: np.ndarray) -> np.ndarray:
            return model.predict_proba(X.iloc[rows], None if groups is None else groups[rows])

        return self._by_model(X, score)

    def group_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self._by_model(X, lambda m, rows: m.group_proba(X.iloc[rows]))
