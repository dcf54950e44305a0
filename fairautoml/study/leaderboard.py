"""The leaderboard: a view over the Optuna study, its Pareto front and hypervolume.

Every column comes from the trials' records in the study, so the leaderboard reads the
same from memory, from a SQLite file of a killed search, or from a database shared by
several workers.

Columns, one row per finished trial (best fair score first):

* ``trial``, ``learner``, ``mitigator``, ``post``, ``params`` (JSON of every parameter);
* ``decision_rule``: what the model reads of the group when it decides: ``group_free``,
  ``proxy`` (an estimate of the group from the features) or ``group_aware`` (the true
  group); a row the user's ``decision_rule`` policy does not deploy is measured for the
  comparison of policies and never picked (its tier: ``not deployable``);
* ``randomized``: decisions near the cut-off drawn at random (e.g. ThresholdOptimizer's;
  each row's draw keyed on its own values, so repeatable per applicant);
* ``confirmed``: measured again after the search (:mod:`fairautoml.search.confirm`: on every row
  by cross-validation, or for big data trained on every training row); the other rows
  were measured as the search went;
* ``train_rows``: the training rows its model saw, when a sample of the search's (a lower
  rung of :mod:`~fairautoml.search.row_rungs`); empty: every search training row;
* the validation metric (named after it, e.g. ``accuracy``);
* per constraint: its value on validation (named after the fairness metric) and a
  bootstrap interval ``<name>_low`` / ``<name>_high`` over validation rows (small groups
  make a measured violation noisy; the interval shows how noisy) and ``<name>_rule_se``,
  the part of that noise a post-processed point's rule adds by being fitted on a sample
  (:func:`~fairautoml.measures.claims.rule_noise`; empty for a point without a rule);
* ``violation`` (worst, 0 when all hold) and ``robust_violation`` (worst at the
  unfavourable end of each interval); ``assurance``: by how many standard errors every
  constraint holds (:func:`~fairautoml.measures.claims.assurance`); ``feasible`` (violation
  is 0) and ``robust`` (robust_violation <= 0);
* ``fair_score``: the metric when every constraint holds on validation; otherwise
  ``metric.worst - violation``, which ranks an infeasible trial below every feasible one
  and infeasible trials by how far they miss;
* the task's diagnostics on validation (:meth:`fairautoml.tasks.Task.diagnostics`): for
  yes/no decisions ``selection_rate``, the share of rows predicted positive (0 or 1: a
  constant model, which meets parity constraints trivially) and ``balanced_accuracy``
  (near 0.5: the model barely tells the classes apart); for amounts
  ``prediction_spread`` (0: a constant) and ``r2``;
* ``tier`` and ``pickable``: where the pick policy puts the trial
  (:class:`~fairautoml.study.pick.PickPolicy`: robust, feasible, weak, constant,
  infeasible, failed, not deployable); the rows are in the pick's order, so the first
  row is the pick;
* ``fit_time`` (the trial's cost in seconds), ``worker`` (host:pid that ran it),
  ``status`` (ok, failed, or lost: its process died mid-trial) and ``error``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import optuna
import pandas as pd

from fairautoml.measures.constraints import Constraint
from fairautoml.measures.metrics import Metric
from fairautoml.study import record
from fairautoml.study.pick import PickPolicy

BASE_COLUMNS = [
    "trial", "learner", "mitigator", "post", "decision_rule", "randomized", "confirmed",
    "train_rows", "params",
]  # fmt: skip
TAIL_COLUMNS = ["fit_time", "worker", "status", "error"]


def interval_columns(constraint: Constraint) -> tuple[str, str]:
    return f"{constraint.key}_low", f"{constraint.key}_high"


def rule_noise_column(constraint: Constraint) -> str:
    return f"{constraint.key}_rule_se"


def _row(
    t: optuna.trial.FrozenTrial,
    constraints: Sequence[Constraint],
    metric: Metric,
    diagnostics: Sequence[str],
) -> dict:
    r = record.decode(t, constraints)
    ok = r.status == "ok"
    cand = r.candidate
    error = (r.error or "").split("\n")[0] or None
    if r.status == "lost":
        error = f"its process ({record.worker(t)}) stopped mid-trial"
    row = {
        "trial": t.number,
        "learner": cand.learner,
        "mitigator": cand.mitigator,
        "post": cand.post,
        "decision_rule": cand.decision_rule,
        "randomized": cand.randomized,
        "confirmed": r.confirmed,
        "train_rows": cand.train_rows,
        "params": json.dumps(
            {k: v for k, v in t.params.items() if k not in ("learner", "mitigator", "post")}
            or cand.kind.board_params(cand.learner_params),
            default=str,
        ),
        metric.name: r.metric if ok else np.nan,
        "violation": r.violation if ok else np.nan,
        "robust_violation": r.robust_violation if ok else np.nan,
        "assurance": r.assurance if ok else np.nan,
        "feasible": r.feasible,
        "robust": bool(r.feasible and r.robust_violation <= 0),
        "fair_score": r.metric if r.feasible else (metric.worst - r.violation if ok else -np.inf),
        "fit_time": r.fit_time,
        "worker": record.worker(t),
        "status": r.status,
        "error": error,
    }
    for name in diagnostics:
        row[name] = r.diagnostics.get(name, np.nan) if ok else np.nan
    for c in constraints:
        low, high = interval_columns(c)
        row[c.key] = r.constraint_values.get(c.key, np.nan) if ok else np.nan
        interval = r.constraint_intervals.get(c.key) if ok else None
        row[low], row[high] = interval or (np.nan, np.nan)
        row[rule_noise_column(c)] = r.rule_noise.get(c.key, np.nan) if ok else np.nan
    return row


def leaderboard_columns(
    constraints: Sequence[Constraint], metric: Metric, diagnostics: Sequence[str]
) -> list[str]:
    columns = [*BASE_COLUMNS, metric.name]
    for c in constraints:
        columns += [c.key, *interval_columns(c), rule_noise_column(c)]
    columns += ["violation", "robust_violation", "assurance", "feasible", "robust", "fair_score"]
    columns += [d for d in diagnostics if d != metric.name]  # the metric's own column serves
    columns += ["tier", "pickable"]
    return columns + TAIL_COLUMNS


def leaderboard_frame(
    study: optuna.Study,
    constraints: Sequence[Constraint],
    metric: Metric,
    policy: PickPolicy | None = None,
) -> pd.DataFrame:
    """One row per finished trial in the pick's order (see the module docstring)."""
    policy = policy or PickPolicy()
    trials = study.get_trials(deepcopy=False)
    replaced = record.replaced_trials(trials)
    rows = [
        _row(t, constraints, metric, policy.diagnostics)
        for t in trials
        if t.state.is_finished()
        and (record.CANDIDATE in t.user_attrs or record.WORKER in t.user_attrs)
        and t.number not in replaced
    ]
    columns = leaderboard_columns(constraints, metric, policy.diagnostics)
    frame = pd.DataFrame(rows, columns=[c for c in columns if c not in ("tier", "pickable")])
    frame = frame.astype({"feasible": bool, "robust": bool, "confirmed": bool})
    return policy.rank(frame, metric.name)[columns]


def _costs(frame: pd.DataFrame, constraints: Sequence[Constraint], metric: Metric) -> np.ndarray:
    """Objectives to minimise: -metric and each constraint's signed violation."""
    objectives = [-frame[metric.name].to_numpy(dtype=float)]
    for c in constraints:
        values = frame[c.key].to_numpy(dtype=float)
        objectives.append(values - c.bound if not c.is_ratio else c.bound - values)
    return np.column_stack(objectives)


def pareto_front(
    board: pd.DataFrame, constraints: Sequence[Constraint], metric: Metric
) -> pd.DataFrame:
    """Trials not dominated on (metric up, each constraint's signed violation down).

    The signed violation (``value - bound`` for a difference, ``bound - value`` for a
    ratio) keeps the trade-off visible inside the feasible region too, where the floored
    violation would be 0 for every trial.
    """
    ok = board[board["status"] == "ok"]
    if ok.empty:
        return ok.copy()
    costs = _costs(ok, constraints, metric)
    dominated = np.zeros(len(costs), dtype=bool)
    for i in range(len(costs)):
        better_eq = np.all(costs <= costs[i], axis=1) & np.any(costs < costs[i], axis=1)
        dominated[i] = better_eq.any()
    front = ok[~dominated]
    return front.sort_values(metric.name, ascending=False).reset_index(drop=True)


def hypervolume(front: pd.DataFrame, constraints: Sequence[Constraint], metric: Metric) -> float:
    """Hypervolume dominated by the front in (metric, each signed violation) space.

    The reference point is the worst value of each objective: ``metric.worst`` and, per
    constraint, the violation of the worst possible value (a difference of 1, a ratio of
    0). Larger is better; it grows when the front moves up (more accurate) or left (fairer).
    """
    if front.empty:
        return 0.0
    from optuna._hypervolume import compute_hypervolume  # exact WFG; no public alias yet

    reference = [-metric.worst]
    for c in constraints:
        reference.append(c.bound if c.is_ratio else 1.0 - c.bound)
    costs = np.minimum(_costs(front, constraints, metric), np.asarray(reference))
    return float(compute_hypervolume(costs, np.asarray(reference, dtype=float)))
