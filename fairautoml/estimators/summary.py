"""What a fit keeps of its pick: its summary (:class:`FitSummary`, the pick, how it was
chosen and measured, what it reads of the group, the data's settings, its verdict word),
kept in plain data as ``best_config_``, and the evidence its numbers rest on (the rows and
predictions it was measured on).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from fairautoml import exceptions as E
from fairautoml.estimators.running import Search
from fairautoml.measures.membership import ASSUMPTIONS, WEIGHTED_NOTE, membership_measures
from fairautoml.model.fair_model import FairModel
from fairautoml.search.confirm import confirmation_kind
from fairautoml.study.leaderboard import hypervolume, pareto_front
from fairautoml.study.pick import verdict_word
from fairautoml.study.storage import CHOSEN_ATTR
from fairautoml.study.trial import Candidate, Evaluation


@dataclass(frozen=True)
class FitSummary:
    """The pick of a fit, typed: what ``best_config_`` holds as a dict (:meth:`as_dict`,
    the same keys in the same order), read back from one with :meth:`from_dict`.

    The pick's learner, mitigator and post-processor with their parameters (its
    ``candidate``, whose fields the dict spreads); its score on ``metric``; each
    constraint's value and interval at ``interval_level``; its ``tier`` and the evidence
    for it (``feasible``, ``robust``, ``assurance``, the pick policy's ``diagnostics`` by
    name); whether it was refitted or confirmed (``confirmation``: how); what it reads of
    the group; the data's settings; and the ``verdict`` word. The defaults are what a model
    file written before a key existed meant by its absence.
    """

    trial: int = -1
    model: str = ""
    candidate: Candidate = field(default_factory=lambda: Candidate("none"))
    metric: str = ""  # the key of ``score`` in the dict
    score: float = math.nan
    constraint_values: dict[str, float] = field(default_factory=dict)
    feasible: bool = False
    robust: bool = False
    tier: str = ""
    constraint_intervals: dict[str, list[float]] = field(default_factory=dict)
    interval_level: float = math.nan
    assurance: float = math.nan
    diagnostics: dict[str, float] = field(default_factory=dict)  # keys of their own
    refitted: bool = False
    confirmed: bool = False
    confirmation: str | None = None
    positive_label: Any = None
    needs_group_at_predict: bool = False
    task: str = "binary"
    sensitive_bins: dict[str, list[float]] | None = None
    sample_weight: dict[str, Any] | None = None
    # fit(..., target_X=...): the claim is for the target population (ShiftWeights.record)
    shift: dict[str, Any] | None = None
    missing_groups: str = "error"
    # fit(..., group_probabilities=P): the groups were probabilities (probabilities_record)
    group_probabilities: dict[str, Any] | None = None
    n_unknown_group: int = 0
    group_inference: dict[str, Any] | None = None
    verdict: str = ""  # "": a file from before the word was kept
    randomized: bool = False
    cv_folds: int = 0  # 0: validated on a holdout
    # what a dict held beyond these (a file from another version)
    extra: dict[str, Any] = field(default_factory=dict)

    def diagnostic(self, name: str) -> float:
        """The pick's diagnostic ``name`` (the score, where the metric is that diagnostic:
        the dict holds it once)."""
        if name in self.diagnostics:
            return float(self.diagnostics[name])
        return float(self.score) if name == self.metric else math.nan

    def as_dict(self) -> dict[str, Any]:
        """``best_config_``: the fields, the score under the metric's name and each
        diagnostic under its own, in the order a fit writes them."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "score":
                out[self.metric] = value
            elif f.name == "candidate":
                out.update(value.__dict__)
            elif f.name in ("diagnostics", "extra"):
                out.update(value)
            elif f.name != "metric":
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, config: Mapping[str, Any], metric: str | None = None) -> FitSummary:
        """The summary of a ``best_config_`` dict whose score is under ``metric`` (the
        fit's ``metric_``); keys it lacks take the defaults, keys it has beyond the
        fields are the diagnostics when numbers, else ``extra``."""
        own = {f.name for f in fields(cls)} - {"metric", "score", "diagnostics", "extra"}
        stages = {f.name for f in fields(Candidate)}
        given = {k: v for k, v in config.items() if k in own}
        given["candidate"] = Candidate(
            **{"learner": "none", **{k: v for k, v in config.items() if k in stages}}
        )
        rest = {k: v for k, v in config.items() if k not in own | stages and k != metric}
        diagnostics = {k: v for k, v in rest.items() if _is_number(v)}
        extra = {k: v for k, v in rest.items() if k not in diagnostics}
        score = config.get(metric, math.nan) if metric is not None else math.nan
        return cls(**given, metric=metric or "", score=score, diagnostics=diagnostics, extra=extra)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def evidence_of(search: Search, number: int, chosen: Evaluation) -> dict[str, Any] | None:
    """The rows the pick's numbers were measured on and its predictions there, as it was
    measured (``Evaluation.decisions``: out of fold, post-processing cross-fitted): what
    the card, the per-group table and the side-effect gaps read, so that every number on
    the page rests on one body of evidence. None when the point kept no predictions."""
    if chosen.decisions is None:
        return None
    rows = search.trial_context(number).val_idx
    if len(rows) != len(chosen.decisions):
        return None
    kept = {"rows": np.asarray(rows, dtype=np.int64), "predictions": chosen.decisions}
    return {**kept, **cut_evidence(search, number, chosen)}


def cut_evidence(search: Search, number: int, chosen: Evaluation) -> dict[str, Any]:
    """What :meth:`~fairautoml.estimators.base.FairSearchEstimator.decide` re-cuts, where
    the pick's probabilities are scores (``Evaluation.probabilities``): those
    probabilities, the rows' labels (0/1) and group codes (-1: none) and weights (None:
    one each), and under a robust shift claim (``shift_robust=True``) the rows' weights
    under each reweighting of the set; nothing otherwise. A few bytes a row, so a fit
    keeps them."""
    if chosen.probabilities is None:
        return {}
    ctx = search.trial_context(number)
    y, groups = ctx.data.y[ctx.val_idx], ctx.data.groups[ctx.val_idx]
    return {
        "scores": np.asarray(chosen.probabilities, dtype=np.float32),
        "labels": np.asarray(y, dtype=np.int8),
        "groups": np.asarray(groups, dtype=np.int16 if groups.max(initial=0) < 2**15 else np.int64),
        "weight": None if ctx.val_weight is None else np.asarray(ctx.val_weight, np.float64),
        "weight_set": None if ctx.val_weight_set is None else np.asarray(ctx.val_weight_set),
    }


def probabilities_record(search: Search, number: int, chosen: Evaluation) -> dict[str, Any] | None:
    """What ``best_config_["group_probabilities"]`` says of a fit given membership
    probabilities instead of groups (None otherwise): the attribute and its groups, that
    the constraint values are the regression estimator's and the training mitigations read
    the most probable group, the estimator's assumptions, and on the rows the pick was
    measured on the plain weighted value of each constraint with its interval, and each
    group's effective rows, beside the regression's (:mod:`fairautoml.measures.membership`)."""
    ctx = search.ctx
    data = ctx.data
    if data.probabilities is None:
        return None
    groups = [str(label) for label in data.group_encoder.labels]
    record: dict[str, Any] = {
        "attribute": data.group_encoder.names[0], "groups": groups,
        "estimator": "regression", "training_groups": "most probable group",
        "assumptions": list(ASSUMPTIONS), "weighted_note": WEIGHTED_NOTE,
    }  # fmt: skip
    evidence = evidence_of(search, number, chosen)
    if evidence is None:
        return record
    rows = evidence["rows"]
    try:
        measures = membership_measures(
            data.y[rows], evidence["predictions"], data.probabilities[rows], search.constraints,
            sample_weight=data.weights(rows), level=ctx.interval_level, n_boot=500,
            random_state=ctx.random_state, min_effective_rows=0,
        )  # fmt: skip
    except E.InputError as exc:  # the pick's values stand; the side-by-side is said missing
        record["weighted_error"] = str(exc)
        return record
    record["weighted"] = {e.key: e.weighted for e in measures.estimates}
    record["weighted_intervals"] = {e.key: list(e.weighted_interval) for e in measures.estimates}
    sizes = measures.identification["effective_rows_regression"]
    record["effective_rows"] = {str(g): float(v) for g, v in sizes.items()}
    record["clipped"] = list(measures.clipped)
    return record


def weight_record(weight: np.ndarray | None) -> dict[str, Any] | None:
    """What ``best_config_["sample_weight"]`` says of a weighted fit (None: unweighted);
    ``column`` is the CLI's ``--weight`` column (None from Python)."""
    if weight is None:
        return None
    return {
        "column": None,
        "total": float(weight.sum()),
        "rows": len(weight),
        "zero_rows": int(np.sum(weight == 0)),
    }


def user_weight(weight: np.ndarray | None, shift: dict[str, Any] | None) -> np.ndarray | None:
    """The weights to record as ``sample_weight``: none when only the importance weights
    for ``target_X`` weigh the rows (they have their own record, ``shift``); the total and
    the zero rows of the user's weights are those of the product, which keeps them."""
    if shift is not None and not shift.get("with_sample_weight", False):
        return None
    return weight


def keep_results(
    estimator: Any,
    search: Search,
    board: Any,
    number: int,
    tier: str,
    chosen: Evaluation,
    model: FairModel,
    refitted: bool,
) -> None:
    """Set ``estimator``'s fitted attributes: the study, its leaderboard and front, the
    pick's model and what is known of it (:func:`fit_summary`)."""
    ctx, metric = search.ctx, search.ctx.metric
    row = board.loc[board["trial"] == number].iloc[0]
    estimator.study_ = search.study
    estimator.constraints_ = search.constraints
    estimator.leaderboard_ = board
    estimator.pareto_front_ = pareto_front(board, search.constraints, metric)
    estimator.leaderboard_["chosen"] = estimator.leaderboard_["trial"] == number
    estimator.pareto_front_["chosen"] = estimator.pareto_front_["trial"] == number
    estimator.hypervolume_ = hypervolume(estimator.pareto_front_, search.constraints, metric)
    if estimator.storage is not None:
        search.study.set_user_attr(CHOSEN_ATTR, int(number))
    estimator.best_estimator_ = model
    estimator.best_config_ = fit_summary(
        search, row, number, tier, chosen, model, refitted, estimator.pos_label
    ).as_dict()  # the typed summary is rebuilt from it (``fit_summary_``): files keep dicts
    estimator.metric_ = metric.name
    if ctx.data.classes is not None:
        estimator.classes_ = ctx.data.classes
    estimator.feature_names_in_ = np.array(ctx.data.schema.columns, dtype=object)
    estimator.n_features_in_ = len(ctx.data.schema.columns)


def fit_summary(
    search: Search,
    row: Any,
    number: int,
    tier: str,
    chosen: Evaluation,
    model: FairModel,
    refitted: bool,
    pos_label: Any,
) -> FitSummary:
    """The summary of the pick (trial ``number``, its leaderboard ``row``): how it was
    chosen (``tier``) and measured, what it reads of the group, the data's settings, and
    the verdict word its evidence earns."""
    ctx, metric, result = search.ctx, search.ctx.metric, chosen.result
    summary = FitSummary(
        trial=int(number),
        model=result.candidate.describe(),
        candidate=result.candidate,
        metric=metric.name,
        score=float(row[metric.name]),
        constraint_values=dict(result.constraint_values),
        feasible=bool(row["feasible"]),
        robust=bool(row["robust"]),
        tier=tier,
        constraint_intervals={k: list(v) for k, v in result.constraint_intervals.items()},
        interval_level=ctx.interval_level,
        assurance=float(row["assurance"]),
        diagnostics={name: float(row[name]) for name in ctx.pick.diagnostics},
        refitted=refitted,
        confirmed=bool(row["confirmed"]),
        confirmation=confirmation_kind(ctx) if bool(row["confirmed"]) else None,
        positive_label=ctx.task.positive_label(ctx.data.classes, pos_label),
        needs_group_at_predict=model.needs_group,
        task=ctx.task.name,
        sensitive_bins={k: list(v) for k, v in ctx.data.group_encoder.bins.items()} or None,
        sample_weight=weight_record(user_weight(ctx.data.weight, ctx.data.shift)),
        shift=ctx.data.shift,
        missing_groups=ctx.data.missing_groups,
        group_probabilities=probabilities_record(search, number, chosen),
        n_unknown_group=int(np.sum(~ctx.data.known)),
        group_inference=ctx.data.group_inference,
        randomized=bool(row.get("randomized", False)),
        cv_folds=len(ctx.cv_folds),  # 0: validated on a holdout
    )
    # what the evidence says of the rule, in the one vocabulary every output uses
    return replace(summary, verdict=verdict_word(search.constraints, summary.as_dict()))
