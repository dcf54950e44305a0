"""``correlation_remover``: fairlearn's CorrelationRemover before the learner.

The features are made numeric (numerics median-imputed, categories one-hot encoded with
missing as its own level), the group is one-hot encoded (one column per group but the
first), and CorrelationRemover projects out of every feature its linear correlation with
the group columns, blended with the original by ``alpha`` (1 removes all of it). The
learner is trained on the result. The projection reads the group, so the group is
needed at predict time. ``predict_proba`` is the learner's own on the projected features.

With a dependence constraint on a numeric attribute (``generalized_disparate_impact[age]``),
the attribute enters as its numeric value (one column, as fairlearn's CorrelationRemover
takes continuous sensitive features), not as groups: the projection removes each feature's
linear correlation with the age itself, which is what the degree-1 measure reads. Other
constrained attributes enter one-hot as before.

Not for weighted fits: fairlearn's CorrelationRemover fits its projection without row
weights, so a search with ``sample_weight`` leaves it out (naming it in ``mitigators`` is an
error) rather than run it unweighted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.preprocessing import CorrelationRemover

from fairautoml.learners import make_encoder
from fairautoml.measures.constraints import Constraint
from fairautoml.measures.dependence import DEPENDENCE_METRICS
from fairautoml.mitigators._base import ScoringModel, TrainingMitigator
from fairautoml.mitigators.registry import register_mitigator
from fairautoml.tasks import Task


class CorrelationRemovedModel(ScoringModel):
    """Encode -> remove correlation with the group -> learner."""

    needs_group = True

    def __init__(
        self,
        n_groups: int,
        alpha: float,
        columns: list[tuple[np.ndarray, np.ndarray | None]] | None = None,
    ) -> None:
        self.n_groups = n_groups
        self.alpha = alpha
        # the sensitive columns from the cell codes: (cell code -> group code, each group
        # code's numeric value or None: one-hot); None: the cells one-hot (no brackets)
        self.columns = columns

    def _sensitive(self, groups: np.ndarray) -> np.ndarray:
        codes = np.asarray(groups)
        columns = getattr(self, "columns", None)  # a model saved before it had them
        if columns is None:
            return (codes[:, None] == np.arange(1, self.n_groups)[None, :]).astype(float)
        parts = []
        for projection, values in columns:
            own = np.asarray(projection)[codes]
            if values is not None:
                parts.append(np.asarray(values, dtype=float)[own][:, None])
            else:
                width = int(np.max(projection)) + 1
                parts.append((own[:, None] == np.arange(1, width)[None, :]).astype(float))
        return np.column_stack(parts)

    def _numeric(self, X: pd.DataFrame, groups: np.ndarray, fit: bool) -> np.ndarray:
        Z = self.encoder_.fit_transform(X) if fit else self.encoder_.transform(X)
        S = self._sensitive(groups)
        self.n_sensitive_ = S.shape[1]
        return np.column_stack([Z, S])

    def _transform(self, X: pd.DataFrame, groups: np.ndarray, fit: bool) -> pd.DataFrame:
        full = self._numeric(X, groups, fit)
        if fit:
            ids = list(range(full.shape[1] - self.n_sensitive_, full.shape[1]))
            self.remover_ = CorrelationRemover(sensitive_feature_ids=ids, alpha=self.alpha)
            self.remover_.fit(full)
        out = self.remover_.transform(full)
        return pd.DataFrame(out, columns=[f"f{i}" for i in range(out.shape[1])])

    def fit(self, estimator: Any, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> Any:
        self.encoder_ = make_encoder()
        self.estimator_ = estimator.fit(self._transform(X, groups, fit=True), y)
        return self

    def predict_proba(self, X: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        assert groups is not None, "correlation_remover needs the group of every row"
        proba = self.estimator_.predict_proba(self._transform(X, groups, fit=False))
        return np.asarray(proba[:, 1], dtype=np.float64)


def sensitive_columns(
    constraints: Sequence[Constraint],
) -> list[tuple[np.ndarray, np.ndarray | None]] | None:
    """What the remover takes as sensitive columns when a constraint reads an attribute
    as numbers: per constrained set of attributes, the map from cell codes to its group
    codes and, read as numbers, each code's value (None: every other fit, the cells
    one-hot as before)."""
    if not any(c.continuous for c in constraints):
        return None
    out: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray | None]] = {}
    for c in constraints:
        if c.attributes and c.projection is not None and c.attributes not in out:
            values = None if c.levels is None else np.asarray(c.levels, dtype=float)
            out[c.attributes] = (np.asarray(c.projection, dtype=np.int64), values)
    return list(out.values())


@register_mitigator
class CorrelationRemoverMitigator(TrainingMitigator):
    name = "correlation_remover"
    stage = "pre"
    supported_constraints = frozenset(
        {"demographic_parity_difference", "demographic_parity_ratio", *DEPENDENCE_METRICS}
    )
    needs_group_at_predict = True
    numeric_attributes = True

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
        n_groups = int(np.max(groups)) + 1
        model = CorrelationRemovedModel(
            n_groups, float(params.get("alpha", 1.0)), sensitive_columns(constraints)
        )
        return model.fit(make_estimator(), X, y, groups)
