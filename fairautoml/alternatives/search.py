"""The search for less discriminatory alternatives (:func:`find_alternatives`).

A share of the rows (``evidence_share``, stratified on target x group, seeded) is kept
back: the search never sees it. One :class:`~fairautoml.FairAutoML` search runs on the
rest with the user's fairness measure as a constraint bounded by the incumbent's value
on those rows, so it looks for models at least as fair; its points whose validation
metric reaches the incumbent's less ``tolerance`` are ordered by validation disparity, the
first ``n_compare`` are rebuilt as the search had them (trained on its training rows,
their rules fitted on its validation rows, not refitted: the model compared is the model
returned) and each is compared with the incumbent on the kept-back rows
(:func:`~fairautoml.measures.paired.paired_comparison`), at a level corrected for the
number compared (Bonferroni). The best alternative is the first, in validation order,
that the evidence calls less discriminatory.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from fairautoml.alternatives import messages as M
from fairautoml.alternatives.incumbent import Incumbent, read_incumbent
from fairautoml.alternatives.result import AlternativesResult, Compared, explain_both
from fairautoml.alternatives.stopping import stopping_statement
from fairautoml.audit.verdicts import reference_of_fit
from fairautoml.data.features import as_frame
from fairautoml.data.groups import GroupEncoder, sensitive_frame
from fairautoml.estimators.automl import FairAutoML
from fairautoml.estimators.build import build_search
from fairautoml.estimators.summary import evidence_of, keep_results
from fairautoml.exceptions import ConstraintError, InputError
from fairautoml.measures.constraints import Constraint, evaluate_constraints, parse_constraint
from fairautoml.measures.metrics import get_metric
from fairautoml.measures.paired import LESS_DISCRIMINATORY, NONE_FOUND, paired_comparison
from fairautoml.measures.paired_rows import Predictions
from fairautoml.study import record

logger = logging.getLogger("fairautoml")

MIN_DIFFERING_ROWS = 30  # fewer rows decided differently: the percentile interval overstates
N_BOOT = 1000
# set here, from find_alternatives' own arguments or its method
OWN_OPTIONS = {
    "constraints": "from constraints= and the incumbent's values",
    "metric": "metric=",
    "time_budget": "time_budget=",
    "n_trials": "n_trials=",
    "decision_rule": "decision_rule=",
    "deterministic": "deterministic=",
    "random_state": "random_state=",
    "n_jobs": "n_jobs=",
    "refit": "the model compared on the evidence rows is the model returned",
}


def find_alternatives(
    incumbent: Any,
    X: Any,
    y: Any,
    *,
    sensitive_features: Any,
    constraints: Any = "demographic_parity_difference",
    metric: str = "accuracy",
    tolerance: float = 0.005,
    time_budget: float | None = 60,
    n_trials: int | None = None,
    level: float = 0.95,
    evidence_share: float = 0.3,
    decision_rule: str = "group_free",
    deterministic: bool = True,
    random_state: int | None = None,
    n_jobs: int = 1,
    incumbent_scores: Any = None,
    cutoff: float | None = None,
    approval_rate: float | None = None,
    same_approval_rate: bool = False,
    n_compare: int = 5,
    **search_options: Any,
) -> AlternativesResult:
    """Search for a model less discriminatory than ``incumbent`` that serves the same
    need, and show it on rows the search never saw: see docs/alternatives.md.

    ``incumbent``: a fitted model with ``predict_proba`` (None with ``incumbent_scores``:
    a score per row, or the name of X's column holding it, with ``cutoff`` or
    ``approval_rate``). ``constraints``: the fairness measure(s) to reduce, bare
    (``"demographic_parity_difference"``) or with a bound; when every one has a bound the
    incumbent meets, there is nothing to reduce and no search runs. ``tolerance``: the
    metric an alternative may lose. ``same_approval_rate``: keep only alternatives that
    approve the incumbent's share of the evidence rows, within ``tolerance``.
    ``search_options``: other FairAutoML parameters (learners, mitigators, ...).
    """
    started = time.monotonic()
    _check_numbers(tolerance, evidence_share, n_compare, metric, search_options)
    frame = as_frame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    target = np.asarray(y, dtype=object).ravel()
    if len(target) != len(frame):
        raise InputError(M.ROWS.format(rows=len(frame), y_rows=len(target)))
    positive = _positive(target, search_options.get("pos_label"))
    y01 = np.array([v == positive for v in target], dtype=np.int64)
    sens, names = sensitive_frame(frame, sensitive_features, len(frame))
    encoder = GroupEncoder.fit(sens, search_options.get("sensitive_bins"))
    groups = encoder.encode(sens)
    held = read_incumbent(
        incumbent, frame, positive, incumbent_scores=incumbent_scores, cutoff=cutoff,
        approval_rate=approval_rate,
    )  # fmt: skip
    features = (
        frame.drop(columns=[incumbent_scores]) if isinstance(incumbent_scores, str) else frame
    )
    given = _measures(constraints)
    bound = [c.bind(encoder) for c, _ in given]
    whole = evaluate_constraints(bound, y01, held.decisions, groups)
    search_rows, evidence_rows = _split(y01, groups, evidence_share, random_state)
    on_search = evaluate_constraints(
        bound, y01[search_rows], held.decisions[search_rows], groups[search_rows]
    )
    scorer = get_metric(metric)
    inc_metric = scorer.measure(
        y01[search_rows], held.decisions[search_rows], held.scores[search_rows]
    )
    base = {
        "level": level, "tolerance": float(tolerance), "metric": scorer.name,
        "positive": positive, "evidence_rows": evidence_rows, "search_rows": search_rows,
        "incumbent_held": held, "constraints": [str(c) for c in bound],
    }  # fmt: skip
    nothing = _nothing_to_reduce(given, bound, whole, on_search)
    if nothing is not None:
        return AlternativesResult.nothing(
            base, nothing, _incumbent_measures(held, y01, groups, evidence_rows, bound, scorer)
        )
    search_constraints = [
        str(replace(c, bound=_search_bound(c, on_search[b.key])))
        for (c, _), b in zip(given, bound, strict=True)
    ]
    automl = FairAutoML(
        constraints=search_constraints, metric=scorer.name, time_budget=time_budget,
        n_trials=n_trials, decision_rule=decision_rule, deterministic=deterministic,
        random_state=random_state, n_jobs=n_jobs, refit=False,
        **{"pos_label": positive, **search_options},
    )  # fmt: skip
    automl._fit_task = "binary"  # what fit reads off the target; the search is built here
    s_search = names if names else sens.iloc[search_rows].reset_index(drop=True)
    search = build_search(
        automl.search_params(), features.iloc[search_rows].reset_index(drop=True),
        target[search_rows], s_search, started=started,
    )  # fmt: skip
    search.run()
    search.confirm()
    board = search.leaderboard()
    primary = bound[0]
    floor = inc_metric - float(tolerance)
    eligible = _eligible(board, scorer.name, floor)
    history = _history(board, search, eligible)
    seconds = time.monotonic() - started
    stopping = stopping_statement(
        history, primary.key, lower_is_better=not primary.is_ratio, seconds=seconds
    )
    ranked = board[eligible].sort_values(primary.key, ascending=not primary.is_ratio)
    chosen = ranked.head(int(n_compare))
    per_level = 1 - (1 - float(level)) / max(len(chosen), 1)
    s_evidence = names if names else sens.iloc[evidence_rows].reset_index(drop=True)
    X_evidence = features.iloc[evidence_rows].reset_index(drop=True)
    compared: list[Compared] = []
    for _, row in chosen.iterrows():
        number = int(row["trial"])
        evaluation = search.evaluation(number)
        alt = _decide(evaluation.model, X_evidence, s_evidence, positive)
        comparison = paired_comparison(
            y01[evidence_rows],
            Predictions(held.decisions[evidence_rows], held.scores[evidence_rows]),
            Predictions(*alt), groups[evidence_rows], bound, metric=scorer.name,
            level=per_level, n_boot=N_BOOT, random_state=random_state,
        )  # fmt: skip
        verdict = _guarded(comparison.verdict(float(tolerance)), held, alt[0], evidence_rows)
        approval = float(np.mean(alt[0]))
        if same_approval_rate and abs(approval - held.decisions[evidence_rows].mean()) > tolerance:
            verdict = replace(
                verdict,
                word=NONE_FOUND,
                reason=(
                    f"Left out: it approves {approval:.1%} of the evidence rows, the incumbent "
                    f"{held.decisions[evidence_rows].mean():.1%} (same_approval_rate=True)."
                ),
            )
        compared.append(Compared(row, evaluation, comparison, verdict, approval))
    best = next((c for c in compared if c.verdict.word == LESS_DISCRIMINATORY), None)
    fitted = None
    if best is not None:
        tier = str(best.row.get("tier", ""))
        keep_results(automl, search, board, best.number, tier, best.evaluation,
                     best.evaluation.model, False)  # fmt: skip
        automl.evidence_ = evidence_of(search, best.number, best.evaluation)
        automl.audit_reference_ = reference_of_fit(search.ctx, best.evaluation.model)
        automl.fit_time_ = time.monotonic() - started
        fitted = automl
    attribution = explain_both(held, fitted, frame, X_evidence, evidence_rows, sens, names,
                               random_state)  # fmt: skip
    searched = _searched(board, search, automl, seconds, floor, inc_metric, search_constraints)
    searched["incumbent_search_values"] = {k: float(v) for k, v in on_search.items()}
    return AlternativesResult.searched(
        base, fitted, compared, _incumbent_measures(
            held, y01, groups, evidence_rows, bound, scorer),
        attribution, searched, stopping, board, eligible,
    )  # fmt: skip


def _check_numbers(
    tolerance: Any, evidence_share: Any, n_compare: Any, metric: str, options: dict[str, Any]
) -> None:
    real = isinstance(tolerance, (int, float, np.number)) and not isinstance(tolerance, bool)
    if not real or not (0.0 <= float(tolerance) <= 1.0):
        raise InputError(M.TOLERANCE.format(metric=metric, given=tolerance))
    share = isinstance(evidence_share, (int, float, np.number)) and not isinstance(
        evidence_share, bool
    )
    if not share or not (0.0 < float(evidence_share) <= 0.8):
        raise InputError(M.EVIDENCE_SHARE.format(given=evidence_share))
    if isinstance(n_compare, bool) or not isinstance(n_compare, (int, np.integer)) or n_compare < 1:
        raise InputError(M.TOO_FEW_COMPARED.format(given=n_compare))
    for name in options:
        if name in OWN_OPTIONS:
            raise InputError(M.SEARCH_OPTION.format(name=name, why=OWN_OPTIONS[name]))


def _positive(target: np.ndarray, given: Any) -> Any:
    labels = sorted(set(target.tolist()), key=lambda v: (str(type(v)), v))
    if len(labels) != 2:
        raise InputError(M.TWO_CLASSES.format(count=len(labels), labels=labels[:5]))
    return labels[-1] if given is None else given


def _measures(constraints: Any) -> list[tuple[Constraint, bool]]:
    """Each measure to reduce, and whether the user gave it a bound."""
    items = [constraints] if isinstance(constraints, (str, Constraint)) else list(constraints)
    out = []
    for item in items:
        if isinstance(item, Constraint) or any(op in item for op in ("<", ">", "=")):
            out.append((parse_constraint(item), True))
            continue
        try:
            out.append((parse_constraint(f"{item} <= 1"), False))
        except ConstraintError:
            out.append((parse_constraint(f"{item} >= 1"), False))
    return out


def _no_disparity(c: Constraint, value: float) -> bool:
    return value >= 1.0 if c.is_ratio else value <= 0.0


def _nothing_to_reduce(
    given: list[tuple[Constraint, bool]], bound: list[Constraint],
    whole: dict[str, float], on_search: dict[str, float],
) -> str | None:  # fmt: skip
    """Why there is nothing to reduce (None: there is)."""
    for c in bound:
        if _no_disparity(c, on_search[c.key]):
            return M.ZERO_DISPARITY.format(key=c.key, value=on_search[c.key])
    if all(has_bound for _, has_bound in given) and all(
        c.violation(whole[c.key]) <= 0 for c in bound
    ):
        values = ", ".join(f"{c.key} {whole[c.key]:.4f} against {c.op} {c.bound:g}" for c in bound)
        return M.NOTHING_TO_REDUCE.format(values=values)
    return None


def _search_bound(c: Constraint, value: float) -> float:
    """The search's bound: the incumbent's value on the search rows (a ratio's kept above
    0, as a bound must be)."""
    return max(float(value), 1e-6) if c.is_ratio else min(float(value), 1.0)


def _split(
    y01: np.ndarray, groups: np.ndarray, share: float, random_state: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Search rows and evidence rows (sorted), stratified on target x group (on the target
    where a stratum has fewer than 2 rows)."""
    strata = groups * 2 + y01
    stratify = strata if np.unique(strata, return_counts=True)[1].min() >= 2 else y01
    search, evidence = train_test_split(
        np.arange(len(y01)), test_size=float(share), random_state=random_state, stratify=stratify
    )
    return np.sort(search), np.sort(evidence)


def _eligible(board: pd.DataFrame, metric: str, floor: float) -> pd.Series:
    """Points a lender could deploy whose validation metric reaches the floor."""
    tier = board["tier"].astype(str) if "tier" in board else pd.Series("", index=board.index)
    return (
        (board["status"] == "ok")
        & ~tier.isin(["not deployable", "constant", "failed"])
        & (board[metric].astype(float) >= floor)
    )


def _history(board: pd.DataFrame, search: Any, eligible: pd.Series) -> pd.DataFrame:
    trials = search.study.get_trials(deepcopy=False)
    done = [trials[int(n)].datetime_complete for n in board["trial"]]
    order = [d.timestamp() if d is not None else math.inf for d in done]
    return board.assign(order=order, eligible=eligible.to_numpy())


def _decide(model: Any, X: pd.DataFrame, s: Any, positive: Any) -> tuple[np.ndarray, np.ndarray]:
    """A rebuilt alternative's 0/1 decisions and scores on the evidence rows."""
    proba = model.predict_proba(X, s)
    predicted = model.predict(X, s)
    decisions = np.array([p == positive or str(p) == str(positive) for p in predicted], np.int64)
    return decisions, np.asarray(proba, dtype=np.float64)[:, -1]


def _guarded(verdict: Any, held: Incumbent, alternative: np.ndarray, rows: np.ndarray) -> Any:
    """No *less discriminatory* verdict on fewer than :data:`MIN_DIFFERING_ROWS` rows
    decided differently: there the percentile interval is too confident."""
    differing = int(np.sum(held.decisions[rows] != alternative))
    if verdict.word != LESS_DISCRIMINATORY or differing >= MIN_DIFFERING_ROWS:
        return verdict
    reason = verdict.reason + M.FEW_DIFFERING_ROWS.format(
        rows=differing, minimum=MIN_DIFFERING_ROWS
    )
    return replace(verdict, word=NONE_FOUND, reason=reason)


def _incumbent_measures(
    held: Incumbent, y01: np.ndarray, groups: np.ndarray, rows: np.ndarray,
    bound: list[Constraint], scorer: Any,
) -> dict[str, Any]:  # fmt: skip
    """The incumbent on the evidence rows: its metric, disparities and approval rate."""
    values = evaluate_constraints(bound, y01[rows], held.decisions[rows], groups[rows])
    return {
        "given_as": held.kind, "description": held.description, "rule": held.rule,
        scorer.name: float(scorer.measure(y01[rows], held.decisions[rows], held.scores[rows])),
        **{k: float(v) for k, v in values.items()},
        "approval_rate": float(held.decisions[rows].mean()), "rows": len(rows),
    }  # fmt: skip


def _searched(
    board: pd.DataFrame, search: Any, automl: Any, seconds: float, floor: float,
    inc_metric: float, constraints: list[str],
) -> dict[str, Any]:  # fmt: skip
    ok = board[board["status"] == "ok"]
    return {
        "learners": sorted(ok["learner"].dropna().astype(str).unique().tolist()),
        "mitigators": sorted(ok["mitigator"].dropna().astype(str).unique().tolist()),
        "post_processors": sorted(ok["post"].dropna().astype(str).unique().tolist()),
        "points": len(board), "trials_ok": len(ok),
        "trained_models": len(record.trained_models(search.study.trials)),
        "seconds": float(seconds), "search_rows": len(search.ctx.data.y),
        "constraints": constraints, "decision_rule": automl.decision_rule,
        "deterministic": bool(automl.deterministic),
        "incumbent_validation_metric": float(inc_metric), "metric_floor": float(floor),
    }  # fmt: skip
