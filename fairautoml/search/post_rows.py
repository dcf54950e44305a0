"""A post-processor's validation rows: which rows its rule is fitted on (known groups, or
every row weighted by its inferred membership), the scores' order shared by a model's
settings, and the rules cross-fitted over the validation folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairautoml.data.groups import UNKNOWN_GROUP
from fairautoml.data.missing_groups import fairness_rows
from fairautoml.mitigators import (
    FoldModels,
    PostProcessor,
    ScoringModel,
    rule_proba,
    weight_kwargs,
)
from fairautoml.study.trial import Candidate, SearchContext


def held_out_group_proba(scoring: ScoringModel, ctx: SearchContext) -> np.ndarray:
    """P(group | x) on the validation rows, each from a classifier that did not train on it."""
    if not isinstance(scoring, FoldModels):
        return scoring.group_proba(ctx.val[0])
    parts = [
        (scored_rows, model.group_proba(ctx.data.subset(scored_rows)[0]))
        for model, (_, scored_rows) in zip(scoring.models, ctx.cv_folds, strict=True)
    ]
    out = np.empty((len(ctx.val_idx), parts[0][1].shape[1]))
    for rows, proba in parts:
        out[rows] = proba
    return out


class GroupProbaOnce:
    """P(group | x) on the validation rows for one scoring model (:func:`held_out_group_proba`),
    read on first use and kept for the model's other post-processing settings: each
    reading is a prediction over every validation row (seconds on a big table), and the
    settings of one model all read the same one."""

    def __init__(self, scoring: ScoringModel, ctx: SearchContext) -> None:
        self.scoring, self.ctx = scoring, ctx
        self.value: np.ndarray | None = None

    def __call__(self) -> np.ndarray:
        if self.value is None:
            self.value = held_out_group_proba(self.scoring, self.ctx)
        return self.value


def group_proba_kwargs(
    group_proba: np.ndarray | None, rows: np.ndarray | slice
) -> dict[str, np.ndarray]:
    """``group_proba=`` for post-processors that read P(group | x), else nothing."""
    return {} if group_proba is None else {"group_proba": group_proba[rows]}


def fitting_rows(
    post: PostProcessor, ctx: SearchContext, fitting: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The validation rows (positions, repeats allowed) a post-processor's rule is fitted on
    among ``fitting`` (in its order), their groups and weights (None: unweighted).

    The rows whose group is known. Under ``missing_groups="infer"`` a post-processor that
    takes ``sample_weight`` also gets every other row once per group it may belong to,
    weighted by its membership (times its sample weight): the rows fairness is measured on
    (:func:`~fairautoml.data.missing_groups.fairness_rows`). The rule is still applied once to
    each validation row."""
    _, _, g = ctx.val
    w = ctx.val_weight
    membership = ctx.data.membership
    if membership is None or not post.accepts_sample_weight:
        rows = fitting[g[fitting] != UNKNOWN_GROUP]  # a rule fits to the known groups
        return rows, g[rows], None if w is None else w[rows]
    soft = fairness_rows(g[fitting], membership[ctx.val_idx[fitting]])
    back = np.argsort(soft.index, kind="stable")  # in the order of ``fitting`` (by score)
    rows = fitting[soft.index[back]]
    weight = None if soft.weight is None else soft.weight[back]
    if w is not None:
        weight = w[rows] if weight is None else weight * w[rows]
    return rows, soft.groups[back], weight


@dataclass(frozen=True)
class ScoreOrder:
    """One model's validation rows by descending score: all of them, and each of
    ``ctx.val_folds``' fitting rows. Every threshold rule sorts the scores it is fitted on;
    handed rows in this order it sorts presorted scores, in linear time, instead of sorting
    afresh for every setting and fold (at a few hundred thousand validation rows, most of
    the post-processing time). The rows are the same, so the rules are too. Class
    probabilities (n, k) are ordered by their largest (their rules do not sort)."""

    every: np.ndarray
    fits: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, scores: np.ndarray, ctx: SearchContext) -> ScoreOrder:
        s = np.asarray(scores, dtype=np.float64)
        every = np.argsort(-(s.max(axis=1) if s.ndim == 2 else s), kind="stable")
        fits = []
        for fit_rows, _ in ctx.val_folds:
            fitting = np.zeros(len(every), dtype=bool)
            fitting[fit_rows] = True
            fits.append(every[fitting[every]])
        return cls(every, tuple(fits))


def cross_fitted(
    post: PostProcessor,
    candidate: Candidate,
    ctx: SearchContext,
    scores: np.ndarray,
    group_proba: np.ndarray | None,
    order: ScoreOrder,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Validation probabilities where each fold's rows are decided by the rule fitted on
    the other folds; and each of those rules' probabilities on every validation row (what
    :func:`~fairautoml.measures.claims.rule_noise` compares)."""
    _, y, g = ctx.val
    out = np.empty(np.shape(scores))  # (n,), or (n, k) for class probabilities
    every_row = []
    for fitting, (_, apply_rows) in zip(order.fits, ctx.val_folds, strict=True):
        fit_rows, fit_groups, fit_weight = fitting_rows(post, ctx, fitting)
        rule = post.fit(
            scores[fit_rows], y[fit_rows], fit_groups, ctx.constraints, ctx.metric,
            candidate.post_params, ctx.random_state, **group_proba_kwargs(group_proba, fit_rows),
            **weight_kwargs(fit_weight),
        )  # fmt: skip
        every_row.append(rule_proba(rule, scores, g, group_proba=group_proba, keys=ctx.val_keys))
        out[apply_rows] = every_row[-1][apply_rows]
    return out, every_row
