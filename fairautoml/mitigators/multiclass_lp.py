"""``multiclass_lp``: the most accurate randomized re-labelling of a multiclass model's
predictions, per group, whose groups' one-vs-rest rates meet the constraints.

The linear program, its score cells and its repeatable per-row draws are
:mod:`fairautoml.mitigators._multiclass_lp_core` (Putzel & Lee 2022; Xian, Yin & Zhao
2023). Like every post-processor it is fitted on validation scores, cross-fitted by the
search (:func:`fairautoml.search.post_rows.cross_fitted`), and its ``tolerance`` (the share of
each bound the rule may use) is searched.

The program bands the rates of the intersection cells of the sensitive attributes, the
groups the rule decides with: a constraint on some attributes (``metric[race] <= b``) is
then met too, since a pooled group's rate is a weighted mean of its cells' rates.

``multiclass_lp_blind`` decides without the group: a row's mixing matrix is the groups'
matrices mixed by P(group | x) from the search's group classifier, while the true groups'
rates are banded.

The objective is accuracy, or balanced accuracy when that is the search's metric (the
others, macro F1 and log loss, are not linear in the confusion counts: accuracy stands in).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric
from fairautoml.mitigators._base import DecisionRule, PostProcessor
from fairautoml.mitigators._multiclass_lp_core import fit_multiclass_lp
from fairautoml.mitigators.registry import register_mitigator

N_BINS = 4  # margin bins per predicted class (the program's score cells)


def favourable_of(constraints: Sequence[Constraint]) -> list[int] | None:
    """The favourable class codes the constraints were bound to (None: every class)."""
    for c in constraints:
        if c.family is not None and c.family.favourable is not None:
            return list(c.family.favourable)
    return None


class _MulticlassLP(PostProcessor):
    tasks = frozenset({"multiclass"})
    randomized = True
    accepts_sample_weight = True
    blind: bool = False

    def fit(
        self,
        scores: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        constraints: Sequence[Constraint],
        metric: Metric,
        params: dict[str, Any],
        random_state: int | None,
        group_proba: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> DecisionRule:
        objective = "balanced_accuracy" if metric.name == "balanced_accuracy" else "accuracy"
        return fit_multiclass_lp(
            scores, np.asarray(y, dtype=np.int64), np.asarray(groups, dtype=np.int64),
            constraints, group_proba=group_proba, blind=self.blind,
            favourable=favourable_of(constraints), metric=objective,
            tolerance=float(params.get("tolerance", 0.8)), n_bins=N_BINS,
            sample_weight=sample_weight, seed=0 if random_state is None else int(random_state),
        )  # fmt: skip


@register_mitigator
class MulticlassLP(_MulticlassLP):
    name = "multiclass_lp"
    needs_group_at_predict = True


@register_mitigator
class BlindMulticlassLP(_MulticlassLP):
    name = "multiclass_lp_blind"
    needs_group_at_predict = False
    needs_group_proba = True
    blind = True
