"""Read a persistent study back: leaderboard, front, pick so far, as a terminal table.

Works while the search is still running or after its process was killed: everything
comes from the trials recorded in the storage and the settings stored in the study.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from fairautoml.estimators.params import pick_policy_of
from fairautoml.exceptions import ConfigurationError
from fairautoml.measures.constraints import Constraint, parse_constraints
from fairautoml.measures.metrics import Metric, get_metric
from fairautoml.study.leaderboard import (
    hypervolume,
    interval_columns,
    leaderboard_frame,
    pareto_front,
)
from fairautoml.study.pick import select_trial
from fairautoml.study.storage import CHOSEN_ATTR, CONFIG_ATTR, CONFIRMED_FIRST_ATTR, open_study


@dataclass
class StudyView:
    board: pd.DataFrame  # with a "chosen" column
    front: pd.DataFrame
    constraints: list[Constraint]
    metric: Metric
    chosen: int | None
    final: bool  # the pick of a finished fit (False: the best so far)
    hypervolume: float
    n_running: int
    title: str
    config: dict[str, Any]


def read_study(storage: str, study_name: str) -> StudyView:
    """The leaderboard of a study in ``storage`` and the model picked (or best so far)."""
    study = open_study(storage, study_name, create=False)
    config = study.user_attrs.get(CONFIG_ATTR)
    if config is None:
        raise ConfigurationError(
            f"Study {study_name!r} has no fairautoml settings: was it started by fairautoml?"
        )
    return view_of(study, config)


def view_of(study: optuna.Study, config: dict[str, Any]) -> StudyView:
    constraints = parse_constraints(config["constraints"])
    metric = get_metric(config["metric"])
    policy = pick_policy_of(config)  # ranked as the search ranked (its table's size decides)
    policy = replace(policy, confirmed_first=study.user_attrs.get(CONFIRMED_FIRST_ATTR, True))
    board = leaderboard_frame(study, constraints, metric, policy)
    chosen = study.user_attrs.get(CHOSEN_ATTR)
    final = chosen is not None and bool((board["trial"] == chosen).any())
    if not final:
        chosen = None
        if (board["status"] == "ok").any():
            chosen, _ = select_trial(board, metric.name, policy)
    board["chosen"] = board["trial"] == chosen
    front = pareto_front(board, constraints, metric)
    n_running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
    title = f"{study.study_name}: {metric.name} vs " + ", ".join(map(str, constraints))
    return StudyView(
        board, front, constraints, metric, chosen, final,
        hypervolume(front, constraints, metric), n_running, title, config,
    )  # fmt: skip


def _number(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if np.isfinite(value) else "-"


def _compact(board: pd.DataFrame, view: StudyView) -> pd.DataFrame:
    board = board.fillna({"learner": "?", "mitigator": "none", "post": "none"})
    cols: dict[str, pd.Series] = {
        "trial": board["trial"],
        "": np.where(board["chosen"], "*", ""),
        "model": board["learner"]
        + np.where(board["mitigator"] != "none", " + " + board["mitigator"], "")
        + np.where(board["post"] != "none", " + " + board["post"], ""),
        view.metric.name: board[view.metric.name].map(_number),
    }
    for c in view.constraints:
        low, high = interval_columns(c)
        cols[c.key] = [
            f"{v:.4f} [{lo:.3f}, {hi:.3f}]" if np.isfinite(v) else "-"
            for v, lo, hi in zip(board[c.key], board[low], board[high], strict=True)
        ]
    cols["feasible"] = np.where(board["robust"], "robust", np.where(board["feasible"], "yes", "no"))
    cols["fit_s"] = board["fit_time"].map(lambda v: _number(v, 1))
    cols["status"] = board["status"]
    return pd.DataFrame(cols)


def format_table(view: StudyView, top: int = 10) -> str:
    """Top trials and the Pareto front as plain-text tables."""
    board = view.board
    n_ok = int((board["status"] == "ok").sum())
    n_feasible = int(board["feasible"].sum())
    lines = [
        view.title,
        f"{len(board)} trials finished ({n_ok} ok, {n_feasible} feasible on validation, "
        f"{len(board) - n_ok} failed or lost), {view.n_running} running",
    ]
    if view.chosen is not None:
        row = board.loc[board["chosen"]].iloc[0]
        label = "chosen model" if view.final else "best so far"
        lines.append(
            f"{label} (*): trial {view.chosen}, {view.metric.name} "
            f"{row[view.metric.name]:.4f}, feasible {bool(row['feasible'])}, "
            f"robust {bool(row['robust'])}"
        )
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        lines += ["", f"Top {min(top, len(board))} trials (fair score order; value [interval]):"]
        lines.append(_compact(board.head(top), view).to_string(index=False))
        lines += [
            "",
            f"Pareto front ({len(view.front)} trials), hypervolume {view.hypervolume:.4f}:",
        ]
        lines.append(_compact(view.front, view).to_string(index=False))
    return "\n".join(lines)
