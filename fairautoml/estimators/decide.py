"""Re-deciding without refitting: a new cut-off on the pick's probabilities, for another
constraint or another cost, with the claim recomputed on the evidence the fit kept.

A pick whose probabilities are scores (no decision rule, or a rule that calibrates, such
as ``multicalibration``) keeps them on the rows its claim rests on, with those rows'
labels and groups (``evidence_``: :func:`fairautoml.estimators.summary.cut_evidence`).
:func:`decide` fits the new cut-off on those rows (one threshold for every row, or one per
group where the fit's ``decision_rule`` policy lets decisions read the group), measures it
cross-fitted over folds of them (each fold cut by thresholds fitted on the others, as the
search measures a post-processor) with bootstrap intervals at the fit's level, keeps a
margin (every bound tightened by each share of :data:`SLACKS` in turn, until the claim
holds at its interval's unfavourable end; if none does, the one nearest), and
returns a copy of the estimator whose model puts that cut-off after the pick's own rule:
the learner is not refitted, the original estimator is not changed. A fit whose claim is
the worst case over a set of reweightings (``fit(..., target_X=rows, shift_robust=True)``)
keeps each reweighting of those rows, and the new claim is that worst case too
(:func:`~fairautoml.measures.claims.worst_case`), the cut fitted under the central weights
as the search fits its post-processing. The kept scores are
the search-time model's: a pick refitted on every row after the search (``refit=True``,
a pick without post-processing) scores a little differently, and a warning says the claim
may not hold for it; fit with ``refit=False`` to re-decide the model that was measured.

The claim is as good as the calibration behind it: where the scores are calibrated within
every group (:mod:`fairautoml.measures.calibration`), a cut-off at ``c / (1 + c)`` is the
best one for a false positive costing ``c`` false negatives in every group alike.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from fairautoml import exceptions as E
from fairautoml.data.splits import cv_folds
from fairautoml.estimators.params import decision_rule_policy
from fairautoml.measures.claims import assurance, robust_violation, worst_case, worst_violation
from fairautoml.measures.constraints import (
    Constraint,
    bind_constraints,
    evaluate_constraints,
    evaluate_intervals,
    parse_constraints,
)
from fairautoml.measures.metrics import get_metric
from fairautoml.mitigators import GROUP_AWARE
from fairautoml.mitigators.cut import CutRule
from fairautoml.mitigators.group_thresholds import fit_group_thresholds, shifted_proba
from fairautoml.study.pick import usefulness_floor, verdict_word
from fairautoml.study.trial import POST_FOLDS

DECIDE_NOTHING = (
    "decide() needs a constraint or a cost: e.g. decide(constraints='equal_opportunity_"
    "difference <= 0.05') or decide(cost=2.0) (a false positive costs two false negatives)."
)
DECIDE_COST = (
    "cost must be a positive finite number (a false positive's cost in false negatives); "
    "got {cost!r}."
)
DECIDE_TASK = (
    "decide() re-cuts probabilities of a yes/no target; this fit's target is {task}. Refit "
    "with the constraint you need instead."
)
DECIDE_NO_SCORES = (
    "decide() needs the pick's probabilities to be scores a cut-off may be read from; this "
    "pick ({model}) decides with a rule that does not keep them (post-processing {post}), "
    "or its fit kept no evidence. Fit with mitigators=['multicalibration'] (or no "
    "post-processing) to get a model that can be re-decided without refitting."
)
DECIDE_WEAK = (
    "The cut-off {what} on the evidence rows leaves a near-constant "
    "model: balanced accuracy {balanced:.3f} (the pick's was {before:.3f}) and it selects "
    "{selection:.1%} of rows, so it barely tells the classes apart. Loosen the bound, allow "
    "one cut-off per group (decision_rule='group_aware', where the law allows it), or fit "
    "with this constraint instead."
)
DECIDE_CALIBRATION = (
    "decide() sets a cut-off on the scores, which does not change their calibration: "
    "{constraints} cannot be met by a cut-off. Fit with it as a constraint "
    "(mitigators=['multicalibration']) instead."
)
DECIDE_REFITTED = (
    "This pick was refitted on every row after the search, so its scores are not the ones "
    "the new cut-off was fitted and measured on (the search-time model's): the claim may "
    "not hold for the model that decides. Fit with refit=False (a post-processed pick, "
    "such as multicalibration, is never refitted) to re-decide the model that was measured."
)
GRID = 201  # the single threshold's candidates: quantiles of the scores
# the margins tried, each bound tightened by that share (as group_thresholds' ``slack``):
# the first whose cross-fitted claim holds at its interval's unfavourable end is kept
SLACKS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)


def _gain(y: np.ndarray, d: np.ndarray, w: np.ndarray, cost: float) -> float:
    """What decisions ``d`` earn: a correct positive 1, a correct negative ``cost``."""
    return float(np.sum(w * ((y == 1) & (d == 1))) + cost * np.sum(w * ((y == 0) & (d == 0))))


def _one_threshold(
    s: np.ndarray, y: np.ndarray, g: np.ndarray, w: np.ndarray,
    constraints: Sequence[Constraint], cost: float,
) -> float:  # fmt: skip
    """The threshold for every row: ``cost / (1 + cost)`` without constraints (the best
    for calibrated scores); else the best on these rows among those meeting every
    constraint (none meets them: the least violating)."""
    bayes = cost / (1.0 + cost)
    if not constraints:
        return bayes
    grid = np.unique([bayes, *np.quantile(s, np.linspace(0, 1, GRID)), np.inf])
    best: tuple[float, float, float] | None = None
    for t in grid:
        d = (s >= t).astype(np.int64)
        violation = worst_violation(constraints, evaluate_constraints(constraints, y, d, g, w))
        key = (-violation, _gain(y, d, w, cost), -abs(t - bayes))
        if best is None or key > best[:3]:
            best = (*key, float(t))  # type: ignore[assignment]
    assert best is not None
    return float(best[3])  # type: ignore[misc]


def _tightened(c: Constraint, slack: float) -> Constraint:
    """``c`` with its bound tightened by the share ``slack`` (a ratio's room below 1)."""
    bound = 1 - (1 - c.bound) * (1 - slack) if c.is_ratio else c.bound * (1 - slack)
    return replace(c, bound=bound)


def fit_cut(
    s: np.ndarray, y: np.ndarray, g: np.ndarray, w: np.ndarray,
    constraints: Sequence[Constraint], cost: float, n_groups: int, per_group: bool,
    slack: float = 0.0,
) -> np.ndarray:  # fmt: skip
    """The thresholds fitted on these rows, every bound tightened by the share ``slack``:
    one per group code (``per_group``, with constraints: :func:`fit_group_thresholds`
    under gains ``cost`` and 1; a code absent from the rows gets ``cost / (1 + cost)``), or
    one for every row."""
    if not (per_group and constraints):
        tight = [_tightened(c, slack) for c in constraints]
        return np.array([_one_threshold(s, y, g, w, tight, cost)])
    rule = fit_group_thresholds(
        s, y, g, constraints, get_metric("accuracy"), slack=slack, sample_weight=w,
        gains=(cost, 1.0),
    )  # fmt: skip
    out = np.full(n_groups, cost / (1.0 + cost))
    out[: rule.thresholds.size] = rule.thresholds
    return out


def _margin(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def _cut(s: np.ndarray, g: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    t = thresholds[g] if thresholds.size > 1 else np.full(s.shape, thresholds[0])
    return shifted_proba(s, t)


def decide(
    automl: Any,
    constraints: Any = None,
    cost: float | None = None,
    random_state: int | None = None,
) -> Any:
    """A copy of fitted ``automl`` deciding by a new cut-off (module docstring)."""
    if constraints is None and cost is None:
        raise E.InputError(DECIDE_NOTHING)
    if cost is None:
        cost = 1.0
    if (
        isinstance(cost, bool)
        or not isinstance(cost, (int, float))
        or not (math.isfinite(cost) and cost > 0)
    ):
        raise E.InputError(DECIDE_COST.format(cost=cost))
    model = automl._fitted()
    if not model.task.cut_off:
        raise E.InputError(DECIDE_TASK.format(task=model.task.name))
    evidence = getattr(automl, "evidence_", None) or {}
    pick = automl.fit_summary_
    if "scores" not in evidence:
        raise E.InputError(DECIDE_NO_SCORES.format(model=pick.model, post=pick.candidate.post))
    if pick.refitted:
        warnings.warn(DECIDE_REFITTED, E.UnconfirmedFairnessWarning, stacklevel=3)
    parsed = model.task.check_constraints(parse_constraints(constraints))
    scored = [str(c) for c in parsed if c.reads_scores]
    if scored:
        raise E.InputError(DECIDE_CALIBRATION.format(constraints=", ".join(scored)))
    bound = bind_constraints(parsed, model.group_encoder)
    known = np.asarray(evidence["groups"]) >= 0
    s = np.asarray(evidence["scores"], dtype=np.float64)[known]
    y = np.asarray(evidence["labels"], dtype=np.int64)[known]
    g = np.asarray(evidence["groups"], dtype=np.int64)[known]
    weight = evidence.get("weight")
    w = np.ones_like(s) if weight is None else np.asarray(weight, dtype=np.float64)[known]
    weight_set = evidence.get("weight_set")
    reweightings = None if weight_set is None else np.asarray(weight_set, np.float64)[:, known]
    n_groups = len(model.group_encoder.labels)
    per_group = decision_rule_policy(automl.search_params()) == GROUP_AWARE
    seed = automl.random_state if random_state is None else random_state
    level = pick.interval_level
    folds = cv_folds(y, g, POST_FOLDS, seed)
    tried = []
    for slack in SLACKS if bound else (0.0,):
        crossed = np.empty_like(s)
        for fit_rows, held in folds:
            t = fit_cut(s[fit_rows], y[fit_rows], g[fit_rows], w[fit_rows], bound, cost,
                        n_groups, per_group, slack)  # fmt: skip
            crossed[held] = _cut(s[held], g[held], t)
        decisions = (crossed >= 0.5).astype(np.int64)
        values, intervals = _claim(bound, y, decisions, g, w, reweightings, level, seed)
        tried.append((slack, crossed, decisions, values, intervals))
        if not bound or robust_violation(bound, intervals) <= 0:
            break
    else:  # no margin holds at the interval's end: the one that comes nearest
        tried.sort(key=lambda k: _margin(assurance(bound, k[3], k[4], level)))
    slack, crossed, decisions, values, intervals = tried[-1]
    thresholds = fit_cut(s, y, g, w, bound, cost, n_groups, per_group, slack)
    plain = None if weight is None else w
    score = get_metric(automl.metric_).measure(y, decisions, crossed, plain)
    diagnostics = {
        "balanced_accuracy": get_metric("balanced_accuracy").measure(y, decisions, crossed, plain),
        "selection_rate": float(np.average(decisions, weights=plain)),
    }
    what = (
        f"that meets {', '.join(map(str, bound))}"
        if bound
        else f"for a false positive costing {cost:g} false negatives"
    )
    _warn_if_weak(what, diagnostics, pick.diagnostic("balanced_accuracy"), model.task.chance)
    calibration = model.rule.calibration if isinstance(model.rule, CutRule) else model.rule
    cut = CutRule(thresholds, calibration=calibration)
    said = ", ".join(map(str, bound)) or f"cost {cost:g}"
    summary = replace(
        pick,
        model=f"{pick.model.split(' | cut for ')[0]} | cut for {said}",
        score=score,
        diagnostics={**pick.diagnostics, **diagnostics},
        constraint_values=dict(values),
        constraint_intervals={k: list(v) for k, v in intervals.items()},
        feasible=worst_violation(bound, values) == 0,
        robust=robust_violation(bound, intervals) <= 0,
        assurance=assurance(bound, values, intervals, level),
        needs_group_at_predict=model.needs_group or cut.needs_group,
        extra={**pick.extra, "decided": {
            "constraints": [str(c) for c in bound], "cost": float(cost),
            "thresholds": [float(t) for t in thresholds], "rows": int(s.size),
            "slack": float(slack),
            "before": {"constraints": [str(c) for c in automl.constraints_],
                       "verdict": pick.verdict},
        }},
    )  # fmt: skip
    cfg = summary.as_dict()
    cfg["verdict"] = verdict_word(bound, cfg)
    new = copy.copy(automl)
    new.best_estimator_ = replace(model, rule=cut, description=summary.model)
    new.constraints_ = bound
    new.best_config_ = cfg
    rows = np.asarray(evidence["rows"])
    predictions = np.asarray(evidence["predictions"]).copy()
    predictions[np.flatnonzero(known)] = decisions
    new.evidence_ = {**evidence, "rows": rows, "predictions": predictions}
    return new


def _claim(
    bound: Sequence[Constraint],
    y: np.ndarray,
    decisions: np.ndarray,
    g: np.ndarray,
    w: np.ndarray,
    reweightings: np.ndarray | None,
    level: float,
    seed: int | None,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Each constraint's value and interval for ``decisions`` under the rows' weights ``w``,
    or, under a robust shift claim, the worst case over ``reweightings`` (one row each)."""

    def under(weights: np.ndarray) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
        values = evaluate_constraints(bound, y, decisions, g, weights)
        intervals = evaluate_intervals(bound, y, decisions, g, level=level, random_state=seed,
                                       sample_weight=weights)  # fmt: skip
        return values, intervals

    if reweightings is None:
        return under(w)
    return worst_case(bound, [under(weights) for weights in reweightings])


def _warn_if_weak(what: str, diagnostics: dict[str, float], before: float, chance: float) -> None:
    """A :class:`~fairautoml.exceptions.WeakModelWarning` when the new cut-off's balanced
    accuracy is below :func:`~fairautoml.study.pick.usefulness_floor` of the pick's (the
    floor the fit's own pick is held to), as the fit warns of a weak pick."""
    if not math.isfinite(before):
        return
    if diagnostics["balanced_accuracy"] < usefulness_floor(before, chance):
        message = DECIDE_WEAK.format(
            what=what,
            balanced=diagnostics["balanced_accuracy"],
            before=before,
            selection=diagnostics["selection_rate"],
        )
        warnings.warn(message, E.WeakModelWarning, stacklevel=3)


__all__ = ["decide", "fit_cut"]
