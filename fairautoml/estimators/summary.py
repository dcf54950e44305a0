"""What a fit keeps of its pick in plain data: ``best_config_`` (the pick, how it was chosen
and measured, what it reads of the group, the data's settings, its verdict word) and the
evidence its numbers rest on (the rows and predictions it was measured on).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fairautoml.estimators.running import Search
from fairautoml.model.fair_model import FairModel
from fairautoml.search.confirm import confirmation_kind
from fairautoml.study.leaderboard import hypervolume, pareto_front
from fairautoml.study.pick import verdict_word
from fairautoml.study.storage import CHOSEN_ATTR
from fairautoml.study.trial import Evaluation


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
    return {"rows": np.asarray(rows, dtype=np.int64), "predictions": chosen.decisions}


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
    )
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
) -> dict[str, Any]:
    """``best_config_``: the pick (trial ``number``, its leaderboard ``row``), how it was
    chosen (``tier``) and measured, what it reads of the group, the data's settings, and
    the verdict word its evidence earns."""
    ctx, metric, result = search.ctx, search.ctx.metric, chosen.result
    summary = {
        "trial": int(number),
        "model": result.candidate.describe(),
        **result.candidate.__dict__,
        metric.name: float(row[metric.name]),
        "constraint_values": dict(result.constraint_values),
        "feasible": bool(row["feasible"]),
        "robust": bool(row["robust"]),
        "tier": tier,
        "constraint_intervals": {k: list(v) for k, v in result.constraint_intervals.items()},
        "interval_level": ctx.interval_level,
        "assurance": float(row["assurance"]),
        **{name: float(row[name]) for name in ctx.pick.diagnostics},
        "refitted": refitted,
        "confirmed": bool(row["confirmed"]),
        "confirmation": confirmation_kind(ctx) if bool(row["confirmed"]) else None,
        "positive_label": ctx.task.positive_label(ctx.data.classes, pos_label),
        "needs_group_at_predict": model.needs_group,
        "task": ctx.task.name,
        "sensitive_bins": {k: list(v) for k, v in ctx.data.group_encoder.bins.items()} or None,
        "sample_weight": weight_record(ctx.data.weight),
        "missing_groups": ctx.data.missing_groups,
        "n_unknown_group": int(np.sum(~ctx.data.known)),
        "group_inference": ctx.data.group_inference,
    }
    # what the evidence says of the rule, in the one vocabulary every output uses
    summary["verdict"] = verdict_word(search.constraints, summary)
    summary["randomized"] = bool(row.get("randomized", False))
    summary["cv_folds"] = len(ctx.cv_folds)  # 0: validated on a holdout
    return summary
