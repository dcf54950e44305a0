"""The fitted fair model users get back: preparation, scoring model and decision rule."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fairautoml import exceptions as E
from fairautoml.data.features import FeatureSchema, as_frame, check_aligned
from fairautoml.data.groups import GroupEncoder, sensitive_frame, sensitive_names
from fairautoml.exceptions import InputError
from fairautoml.explain import (
    Contributions,
    check_k,
    fair_model_contributions,
    reasons_long,
    reasons_table,
)
from fairautoml.mitigators import DecisionRule, ScoringModel, row_keys, rule_proba
from fairautoml.tasks import Task, get_task

PREDICT_NEEDS_SENSITIVE = (
    "The chosen model ({model}) uses the sensitive attribute at predict time: pass "
    "sensitive_features= to {method}, or refit with sensitive_at_predict=False to get a model "
    "that does not need it."
)


@dataclass
class FairModel:
    """A fitted pipeline: prepare X -> scoring model (pre/in-processing) -> decision rule.

    The task turns scores into predictions: for yes/no decisions ``predict_proba`` is
    consistent with ``predict`` (a row is predicted positive exactly when its
    positive-class probability is at least 0.5; for several classes, its most probable
    class); for amounts the score is the prediction.
    """

    schema: FeatureSchema
    group_encoder: GroupEncoder
    sensitive_columns: list[str]
    keep_sensitive_as_feature: bool
    scoring: ScoringModel
    rule: DecisionRule | None
    classes_: np.ndarray | None
    description: str = ""
    task: Task = field(default_factory=lambda: get_task("binary"))

    @property
    def needs_group(self) -> bool:
        return self.scoring.needs_group or (self.rule is not None and self.rule.needs_group)

    def prepare(
        self, X: object, sensitive_features: object = None, *, method: str = "predict"
    ) -> tuple[pd.DataFrame, np.ndarray | None]:
        """Features as seen in fit, and group codes (None when the model does not use them)."""
        frame = as_frame(X).reset_index(drop=True)
        if len(frame) == 0:
            raise InputError(E.EMPTY_INPUT.format(n_rows=0, n_cols=frame.shape[1], method=method))
        frame.columns = [str(c) for c in frame.columns]
        check_aligned(X, "sensitive_features", sensitive_features)
        if sensitive_features is None and self.sensitive_columns:
            present = [c for c in self.sensitive_columns if c in frame.columns]
            if len(present) == len(self.sensitive_columns):
                sensitive_features = self.sensitive_columns
        groups = None
        if self.needs_group:
            if sensitive_features is None:
                raise InputError(
                    PREDICT_NEEDS_SENSITIVE.format(model=self.description, method=method)
                )
            sens, _ = sensitive_frame(frame, sensitive_features, len(frame))
            groups = self.group_encoder.encode(sens)
        drop = [] if self.keep_sensitive_as_feature else list(self.sensitive_columns)
        named = sensitive_names(sensitive_features, frame, len(frame))
        drop += [c for c in named if c not in self.schema.columns]  # named only for the groups
        frame = frame.drop(columns=[c for c in set(drop) if c in frame.columns])
        return self.schema.transform(frame), groups

    def positive_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        """The scores on prepared features: P(y = classes_[1]), every class's probability
        (n, k) for several classes, or the amounts."""
        scores = self.scoring.predict_proba(X, groups)
        if self.rule is None:
            return scores
        # the rule may read P(group | x) instead of the group, and key its draws on the rows
        group_proba = self.scoring.group_proba(X) if self.rule.needs_group_proba else None
        keys = row_keys(X) if self.rule.draws else None
        return rule_proba(self.rule, scores, groups, group_proba=group_proba, keys=keys)

    def predict_proba(self, X: object, sensitive_features: object = None) -> np.ndarray:
        """Array of shape (n_samples, n_classes): the probabilities of ``classes_`` in order
        (for two classes, of ``classes_[0]`` and ``classes_[1]``)."""
        Xp, groups = self.prepare(X, sensitive_features, method="predict_proba")
        return self.task.class_proba(self.positive_proba(Xp, groups))

    def predict(self, X: object, sensitive_features: object = None) -> np.ndarray:
        Xp, groups = self.prepare(X, sensitive_features, method="predict")
        decided = self.task.decide(self.positive_proba(Xp, groups))
        return decided if self.classes_ is None else self.classes_[decided]

    def contributions(
        self,
        X: object,
        sensitive_features: object = None,
        *,
        reference: object = None,
        n_samples: int = 32,
        random_state: int | None = 0,
    ) -> Contributions:
        """Each row's per-column contributions to the scoring model's score on its margin
        (log-odds of the favourable outcome, or the amount): they sum with ``.base`` to it.
        The decision rule after the score is not explained. Methods, and what the
        contributions are relative to (``reference`` rows, else the training rows for
        boosted trees and the rows of ``X`` for the others): :mod:`fairautoml.explain`."""
        return fair_model_contributions(
            self, X, sensitive_features, reference=reference, n_samples=n_samples,
            random_state=random_state,
        )  # fmt: skip

    def reasons(
        self,
        X: object,
        k: int = 4,
        sensitive_features: object = None,
        *,
        reference: object = None,
        long: bool = False,
    ) -> pd.DataFrame:
        """For each row of ``X``, the ``k`` features that most lowered its score, as
        phrases a notice can carry (``"debt_ratio = 0.62 lowered the score"``): a table
        with X's index and columns ``reason_1`` .. ``reason_k`` (missing where a row has
        fewer negative contributions), or with ``long=True`` one row per reason (row,
        rank, feature, value, contribution, reason). They explain the score, not the
        decision rule after it (docs/regulated_decisions.md, "Reasons for each
        decision")."""
        k = check_k(k)
        contrib = self.contributions(X, sensitive_features, reference=reference)
        return reasons_long(contrib, k) if long else reasons_table(contrib, k)
