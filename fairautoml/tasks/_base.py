"""The task seam: what differs between yes/no decisions, amounts and (later) several
classes, in one object that the search, the pick, the record, the report and the CLI ask.

A task prepares the target (encoding, checks), says how rows are stratified, turns a
model's scores into what is predicted, computes the diagnostics the pick reads to tell a
useful model from a near-constant one, and names its metrics and constraint family. It
composes the lower layers (:mod:`fairautoml.data.labels`, :mod:`fairautoml.measures.metrics`,
:mod:`fairautoml.measures.constraints`), which never import a task; the pick's policy is
built from a task's facts above it (:func:`fairautoml.study.pick.policy_for`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fairautoml.data.labels import encode_labels
from fairautoml.exceptions import ConfigurationError, ConstraintError
from fairautoml.measures.constraints import Constraint, metrics_for_task
from fairautoml.measures.group_tables import fairness_report
from fairautoml.measures.metrics import get_metric, metrics_for
from fairautoml.values import plain

CONSTRAINT_WRONG_TASK = (
    "Constraint {constraint!r} is for {other} targets, but this target is {task}. "
    "Constraints for {task}: {metrics}."
)
METRIC_WRONG_TASK = (
    "Metric {metric!r} measures {other} models, but this target is {task}. "
    "Metrics for {task}: {metrics}."
)


class Task(ABC):
    """One kind of target. Subclasses are stateless; :func:`get_task` returns one each."""

    name: ClassVar[str]
    estimator_kind: ClassVar[str]  # "classifier" | "regressor" (scikit-learn's word)
    # whether fit reads this task off the target (yes/no, several classes); amounts must be
    # asked for (whole-number amounts would read as classes)
    inferred_from_target: ClassVar[bool] = True
    # whether the target has a favourable outcome (``pos_label``); amounts do not
    has_favourable_label: ClassVar[bool] = True
    # whether its scores are probabilities a cut-off turns into decisions (yes/no): their
    # calibration by group is measured, and FairAutoML.decide re-cuts them
    cut_off: ClassVar[bool] = False
    default_metric: ClassVar[str]
    default_constraint: ClassVar[str]
    # the pick's diagnostics (PickPolicy): usefulness, its value for a constant model, the
    # least a useful model reaches; the spread diagnostic and its values for a constant one
    usefulness: ClassVar[str]
    chance: ClassVar[float]
    min_usefulness: ClassVar[float]
    spread: ClassVar[str]
    constant_at: ClassVar[tuple[float, ...]]
    # the names of the target's strata in split errors (class names, or quantile bins), and
    # whether validation must hold two rows of each per group (classes: a group's rates
    # need both) or its strata only balance the split (quantile bins of an amount)
    strata_names: ClassVar[tuple[str, ...]]
    every_stratum: ClassVar[bool] = True
    # the level of the claim's interval when FairAutoML's ``confidence`` is "auto": the
    # pick meets each constraint at its unfavourable end on validation (docs/decisions.md,
    # "The claim's level per task")
    claim_confidence: ClassVar[float] = 0.8
    # the report: the per-group table's columns (name -> heading), what each row count
    # means, the common fairness constraints a pick is checked against beyond its own
    # (a reviewer is warned when one is not met), and how the target is summarised
    report_columns: ClassVar[dict[str, str]]
    side_effects: ClassVar[tuple[str, ...]]
    target_summary: ClassVar[str]
    # the audit (fairautoml.audit.verdicts): what its page says of the per-group table (formatted
    # with the interval ``level``), and its note when the new rows come without labels
    audit_caption: ClassVar[str]
    audit_no_labels: ClassVar[str]

    @abstractmethod
    def prepare_target(
        self, y: object, n_rows: int, pos_label: object = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The target as learners see it, and the classes (None for amounts)."""

    def needs_class_rows(self, constraints: Sequence[Constraint]) -> bool:
        """Whether every group must hold rows of every target stratum (two of each in
        validation): what ``constraints`` compare is estimated per group and class."""
        return self.every_stratum

    @abstractmethod
    def check_groups(
        self,
        groups: np.ndarray,
        y: np.ndarray,
        labels: Sequence[str],
        min_size: int,
        by_class: bool = True,
        classes: np.ndarray | None = None,
    ) -> None:
        """Every group large enough to measure what the constraints compare (``by_class``:
        :meth:`needs_class_rows`; ``classes`` name the codes of ``y`` in errors)."""

    @abstractmethod
    def strata(self, y: np.ndarray) -> np.ndarray:
        """Small integer codes of the target that splits and folds stratify on (with the
        group)."""

    @abstractmethod
    def decide(self, scores: np.ndarray) -> np.ndarray:
        """What is predicted from a model's scores (a class code, or the amount)."""

    def scores_of(self, estimator: Any, X: Any) -> np.ndarray:
        """A fitted scikit-learn classifier's scores on ``X``, as this task reads scores:
        P(y=1) (also from one that saw a single class: the reductions fit a constant
        DummyClassifier when a reweighted label has one value); with a class code above 1
        among its ``classes_``, every class's probability, shape (n, k), each column placed
        by its code."""
        proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        classes = [int(c) for c in estimator.classes_]
        if classes and max(classes) > 1:
            out = np.zeros((len(proba), max(classes) + 1))
            out[:, classes] = proba
            return out
        return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(proba))

    def mixed(self, scores: np.ndarray) -> np.ndarray:
        """A weighted mean of scores, kept a score: probabilities clipped to [0, 1]."""
        return np.clip(scores, 0.0, 1.0)

    def scores_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """The task's scores from scikit-learn's ``predict_proba`` (every class's column)."""
        return proba

    def as_decisions(self, returned: np.ndarray) -> np.ndarray:
        """What a method returned (decisions, or scores to decide) as decisions."""
        return self.decide(returned)

    def fairness_report(
        self,
        predict: Any,
        classes: np.ndarray | None,
        X: Any,
        y: Any,
        sensitive_features: Any,
        encoder: Any,
        level: float,
        sample_weight: Any = None,
    ) -> Any:
        """The estimator's ``fairness_report``: the task's per-group table of
        ``predict(X, s)`` against ``y`` (intervals at ``level``, where it has them)."""
        return fairness_report(
            predict, classes, X, y, sensitive_features, encoder, sample_weight=sample_weight
        )

    @abstractmethod
    def diagnostics(
        self, y: np.ndarray, pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> dict[str, float]:
        """The spread and usefulness of predictions (what the pick reads), over rows
        weighted by ``sample_weight`` when given."""

    @abstractmethod
    def group_table(
        self, y: np.ndarray, pred: np.ndarray, groups: np.ndarray, level: float
    ) -> pd.DataFrame:
        """Per group: :attr:`report_columns` with ``<column>_low`` / ``_high`` intervals."""

    @abstractmethod
    def diagnostics_line(self, cfg: dict[str, Any]) -> str:
        """The pick's diagnostics in words (``best_config_`` holds them)."""

    @abstractmethod
    def audit_outcomes(
        self, classes: np.ndarray | None, y: object, pred: np.ndarray, pos_label: object
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """New rows' labels (None without ``y``) and the model's predictions, as this task's
        audit counts them; labels that are not the fit's are an error naming them."""

    @abstractmethod
    def audit_table(
        self,
        y: np.ndarray | None,
        pred: np.ndarray,
        names: np.ndarray,
        level: float,
        classes: np.ndarray | None,
    ) -> pd.DataFrame:
        """The audit's per-group table of :meth:`audit_outcomes` (group labels ``names``;
        ``y`` None: only what needs no labels), with intervals at ``level``."""

    @abstractmethod
    def drift_counts(
        self,
        y: np.ndarray,
        pred: np.ndarray,
        groups: np.ndarray,
        labels: Sequence[str],
        classes: np.ndarray | None,
    ) -> dict[str, list[int]] | None:
        """Per group label (``groups`` codes into ``labels``), the counts fairness drift
        compares between the fit's validation rows and new ones (:mod:`fairautoml.measures.drift`);
        None when this task's fairness drift is not tested."""

    def rate_trials(self, counts: list[int], rate: str) -> list[tuple[int | None, int, int]]:
        """``(class code or None, successes, trials)`` of ``rate`` in a group's
        :meth:`drift_counts`."""
        return []

    def needs_labels(self, constraint: Constraint) -> bool:
        """Whether measuring ``constraint`` needs the true outcomes: a comparison of
        selection rates (demographic parity) reads the decisions only; calibration reads
        the scores against the outcomes."""
        return constraint.reads_scores or not set(constraint.rates) <= {"selection"}

    def confidence(self, confidence: float | str | None) -> float | None:
        """FairAutoML's ``confidence`` for this task: "auto" is :attr:`claim_confidence`;
        a number, or None (no interval asked for), as given."""
        return self.claim_confidence if confidence == "auto" else confidence

    def interval_level(self, confidence: float | str | None) -> float:
        """The level of the constraint intervals a search records: the claim's, or the
        task's own where no interval is asked for (they are still reported)."""
        level = self.confidence(confidence)
        return self.claim_confidence if level is None else float(level)

    @property
    def diagnostic_names(self) -> tuple[str, str]:
        return self.spread, self.usefulness

    def metrics(self) -> list[str]:
        return metrics_for(self.name)

    def constraint_metrics(self) -> tuple[str, ...]:
        return metrics_for_task(self.name)

    def check_metric(self, name: str) -> None:
        """``name`` must measure this task: a clear error naming this task's metrics."""
        metric = get_metric(name)
        if self.name not in metric.tasks:
            raise ConfigurationError(
                METRIC_WRONG_TASK.format(
                    metric=name,
                    other=" / ".join(sorted(metric.tasks)),
                    task=self.name,
                    metrics=", ".join(self.metrics()),
                )
            )

    def check_constraints(self, constraints: Sequence[Constraint]) -> list[Constraint]:
        """Every constraint must be of this task's family: a clear error naming them. The
        constraints as this task measures them (a task whose family shares names with
        another's binds them to itself: :meth:`Constraint.for_target`)."""
        out = []
        for c in constraints:
            if c.continuous and self.name in ("binary", "regression"):
                # a dependence on a numeric attribute measures decisions and amounts alike
                out.append(c if c.task == self.name else c.for_target(self.name))
                continue
            out.append(c)
            if c.task != self.name:
                raise ConstraintError(
                    CONSTRAINT_WRONG_TASK.format(
                        constraint=str(c),
                        other=c.task,
                        task=self.name,
                        metrics=", ".join(self.constraint_metrics()),
                    )
                )
        return out

    def bind_target(
        self, constraints: Sequence[Constraint], classes: np.ndarray | None, pos_label: object
    ) -> list[Constraint]:
        """The constraints measured on the prepared target (its ``classes`` and favourable
        ``pos_label``, for a task whose measures need them)."""
        return list(constraints)

    def strata_labels(self, classes: np.ndarray | None) -> tuple[str, ...]:
        """The names of the target's strata in split errors (:attr:`strata_names`)."""
        return self.strata_names

    def score_shape(self, n_rows: int, classes: np.ndarray | None) -> tuple[int, ...]:
        """The shape of a scoring model's scores on ``n_rows`` rows: one score per row."""
        return (n_rows,)

    def class_proba(self, scores: np.ndarray) -> np.ndarray:
        """``predict_proba`` from the scores: the two classes' probabilities."""
        p = np.asarray(scores, dtype=np.float64)
        return np.column_stack([1.0 - p, p])

    def positive_label(self, classes: np.ndarray | None, pos_label: object) -> object:
        """The favourable label the record names (``classes[1]``; None for amounts)."""
        return None if classes is None else plain(classes[1])

    def encode_labels(self, y: object, classes: np.ndarray, n_rows: int) -> np.ndarray:
        """Labels (e.g. for ``score``) as the codes the model predicts."""
        return encode_labels(y, classes, n_rows)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))
