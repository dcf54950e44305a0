"""The leaderboard: a view over the Optuna study, its Pareto front, and the final pick.

``randomized`` marks trials whose decisions are drawn at random (e.g. ThresholdOptimizer's;
made repeatable per row under ``random_state``).

Fair score: the metric when every constraint holds on validation; otherwise
``metric.worst - violation``, which ranks an infeasible trial below every feasible one
and infeasible trials by how far they miss.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import optuna
import pandas as pd

from fairautoml.constraints import Constraint
from fairautoml.evaluate import Candidate
from fairautoml.metrics import Metric
from fairautoml.mitigators import available_mitigators, get_mitigator

BASE_COLUMNS = ["trial", "learner", "mitigator", "post", "randomized", "params"]


def leaderboard_frame(
    study: optuna.Study, constraints: Sequence[Constraint], metric: Metric
) -> pd.DataFrame:
    """One row per finished trial, best fair score first."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if not t.state.is_finished() or "candidate" not in t.user_attrs:
            continue
        cand = Candidate.from_json(t.user_attrs["candidate"])
        values = t.user_attrs.get("constraint_values", {})
        ok = t.user_attrs.get("status") == "ok"
        score = t.user_attrs.get("metric", np.nan)
        violation = (
            max([0.0, *(c.violation(values[c.metric]) for c in constraints)]) if ok else np.nan
        )
        feasible = bool(ok and violation <= 0)
        row = {
            "trial": t.number,
            "learner": cand.learner,
            "mitigator": cand.mitigator,
            "post": cand.post,
            "randomized": _randomized(cand),
            "params": json.dumps(
                {k: v for k, v in t.params.items() if k not in ("learner", "mitigator", "post")},
                default=str,
            ),
            metric.name: score,
            **{c.metric: values.get(c.metric, np.nan) for c in constraints},
            "violation": violation,
            "feasible": feasible,
            "fair_score": score if feasible else (metric.worst - violation if ok else -np.inf),
            "fit_time": t.user_attrs.get("fit_time", np.nan),
            "status": t.user_attrs.get("status", t.state.name.lower()),
            "error": (t.user_attrs.get("error") or "").split("\n")[0] or None,
        }
        rows.append(row)
    columns = [*BASE_COLUMNS, metric.name, *(c.metric for c in constraints)]
    columns += ["violation", "feasible", "fair_score", "fit_time", "status", "error"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["fair_score", "trial"], ascending=[False, True]).reset_index(
        drop=True
    )


def pareto_front(
    board: pd.DataFrame, constraints: Sequence[Constraint], metric: Metric
) -> pd.DataFrame:
    """Trials not dominated on (metric up, each constraint's signed violation down)."""
    ok = board[board["status"] == "ok"]
    if ok.empty:
        return ok.copy()
    objectives = [-ok[metric.name].to_numpy(dtype=float)]
    for c in constraints:
        values = ok[c.metric].to_numpy(dtype=float)
        objectives.append(values if not c.is_ratio else -values)
    costs = np.column_stack(objectives)  # all minimised
    dominated = np.zeros(len(costs), dtype=bool)
    for i in range(len(costs)):
        better_eq = np.all(costs <= costs[i], axis=1) & np.any(costs < costs[i], axis=1)
        dominated[i] = better_eq.any()
    front = ok[~dominated]
    return front.sort_values(metric.name, ascending=False).reset_index(drop=True)


def _randomized(candidate: Candidate) -> bool:
    """Whether a mitigator of the candidate makes randomized decisions (unknown: False)."""
    known = set(available_mitigators())
    names = (candidate.mitigator, candidate.post)
    return any(get_mitigator(n).randomized for n in names if n in known)
