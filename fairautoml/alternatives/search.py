"""The search for less discriminatory alternatives (:func:`find_alternatives`).

A share of the rows (``evidence_share``, stratified on target x group, seeded) is kept
back: the search never sees it. :class:`~fairautoml.FairAutoML` searches run on the rest
with the user's fairness measure as a constraint bounded by the incumbent's value on
those rows, so they look for models at least as fair: one on every allowed feature (none
of ``forbidden_features``), and one per feature set without the features driving the
incumbent's disparity (:mod:`fairautoml.alternatives.feature_sets`), each with its share
of the budget. Of each search, the points whose validation metric reaches the incumbent's
less ``tolerance`` are ordered by validation disparity, the first ``n_compare`` are
rebuilt as the search had them (trained on its training rows, their rules fitted on its
validation rows, not refitted: the model compared is the model returned) and each is
compared with the incumbent on the kept-back rows
(:func:`~fairautoml.measures.paired.paired_comparison`), at a level corrected for the
number compared over every search (Bonferroni). The best alternative is the first, in
validation order over every search, that the evidence calls less discriminatory; its
search's estimator adopts it (:meth:`~fairautoml.estimators.base.FairSearchEstimator.adopt`,
the step ``fit`` ends with).

Given membership probabilities instead of groups (``group_probabilities=P``), every
disparity is the regression estimate of :mod:`fairautoml.measures.membership` (the searches
run with the probabilities, as ``fit`` does; the paired comparison regresses both models'
decisions on the same resampled evidence rows), the plain weighted values shown beside
them; the split stratifies on each row's most probable group, and the disparity
attribution that chooses the feature sets and explains both models is the regression's
(:func:`fairautoml.explain.attribute_disparity` with ``group_probabilities``).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from fairautoml.alternatives import messages as M
from fairautoml.alternatives.approval import RateCut, at_incumbent_rate
from fairautoml.alternatives.feature_sets import (
    FeatureSet,
    check_levers,
    drivers,
    feature_sets,
    named,
    next_budget,
    shares,
)
from fairautoml.alternatives.incumbent import Incumbent, read_incumbent
from fairautoml.alternatives.result import (
    AlternativesResult,
    Compared,
    explain_both,
    plain_weighted_key,
)
from fairautoml.alternatives.stopping import stopping_statement
from fairautoml.data.features import as_frame
from fairautoml.data.groups import GroupEncoder, sensitive_frame
from fairautoml.data.memberships import checked_memberships
from fairautoml.data.prepare import BOTH_GROUPS_AND_PROBABILITIES, most_probable_groups
from fairautoml.estimators.automl import FairAutoML
from fairautoml.estimators.build import build_search
from fairautoml.estimators.context import check_probabilities_options
from fairautoml.exceptions import ConstraintError, InputError, SearchError
from fairautoml.measures.constraints import Constraint, evaluate_constraints, parse_constraint
from fairautoml.measures.membership import (
    ASSUMPTIONS,
    WEIGHTED_NOTE,
    regression_values,
    weighted_values,
)
from fairautoml.measures.membership_checks import (
    MIN_EFFECTIVE_ROWS,
    identified,
    membership_constraints,
)
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
    sensitive_features: Any = None,
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
    required_features: Any = None,
    forbidden_features: Any = None,
    drop_drivers: int = 2,
    n_compare: int = 5,
    group_probabilities: Any = None,
    **search_options: Any,
) -> AlternativesResult:
    """Search for a model less discriminatory than ``incumbent`` that serves the same
    need, and show it on rows the search never saw: see docs/alternatives.md.

    ``incumbent``: a fitted model with ``predict_proba`` (None with ``incumbent_scores``:
    a score per row, or the name of X's column holding it, with ``cutoff`` or
    ``approval_rate``). ``constraints``: the fairness measure(s) to reduce, bare
    (``"demographic_parity_difference"``) or with a bound; when every one has a bound the
    incumbent meets, there is nothing to reduce and no search runs. ``tolerance``: the
    metric an alternative may lose. ``same_approval_rate``: each alternative gets one
    cut-off on its probabilities, chosen on the search's own rows so that it approves
    the incumbent's share there (:mod:`fairautoml.alternatives.approval`); one that takes
    none (randomized, several classes) is kept only if it approves the incumbent's share
    of the evidence rows within ``tolerance``.
    ``required_features``: columns every alternative keeps; ``forbidden_features``:
    columns no alternative may read (no search is given them). ``drop_drivers``: besides
    the search on every allowed feature, one search for each K = 1 .. ``drop_drivers``
    without the K features that drive the incumbent's disparity (never a required one;
    0: none); the time budget and ``n_trials`` are split, half to the search on every
    allowed feature (:mod:`fairautoml.alternatives.feature_sets`). ``n_compare``: points
    of each search compared on the evidence rows. ``group_probabilities`` (instead of
    ``sensitive_features``): each row's probability of each group, one named column per
    group, rows summing to 1, as ``fit`` takes them: every disparity is then estimated by
    regression (module docstring) and only group-free rules are searched.
    ``search_options``: other FairAutoML parameters (learners, mitigators, ...).
    """
    started = time.monotonic()
    _check_numbers(tolerance, evidence_share, n_compare, metric, search_options, drop_drivers)
    frame = as_frame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    target = np.asarray(y, dtype=object).ravel()
    if len(target) != len(frame):
        raise InputError(M.ROWS.format(rows=len(frame), y_rows=len(target)))
    positive = _positive(target, search_options.get("pos_label"))
    y01 = np.array([v == positive for v in target], dtype=np.int64)
    probabilities = _probabilities(group_probabilities, sensitive_features, frame, constraints,
                                   decision_rule, search_options)  # fmt: skip
    sens, names = (None, []) if probabilities is not None else _sensitive(frame, sensitive_features)
    features = (
        frame.drop(columns=[incumbent_scores]) if isinstance(incumbent_scores, str) else frame
    )
    required = named(required_features, "required_features")
    forbidden = named(forbidden_features, "forbidden_features")
    allowed = check_levers(
        required, forbidden, list(features.columns), names,
        bool(search_options.get("keep_sensitive_as_feature", False)),
    )  # fmt: skip
    if probabilities is None:
        encoder = GroupEncoder.fit(sens, search_options.get("sensitive_bins"))
        groups = encoder.encode(sens)
    else:
        encoder, groups = most_probable_groups(checked_memberships(probabilities))
    P = None if probabilities is None else probabilities.to_numpy(dtype=np.float64)
    held = read_incumbent(
        incumbent, frame, positive, incumbent_scores=incumbent_scores, cutoff=cutoff,
        approval_rate=approval_rate,
    )  # fmt: skip
    given = _measures(constraints)
    bound = [c.bind(encoder) for c, _ in given]
    whole = _values(bound, y01, held.decisions, groups, P, np.arange(len(y01)))
    search_rows, evidence_rows = _split(y01, groups, evidence_share, random_state)
    if P is not None:  # before the search: the evidence must tell the groups apart
        identified(P[evidence_rows], encoder.labels, None, MIN_EFFECTIVE_ROWS)
    on_search = _values(bound, y01, held.decisions, groups, P, search_rows)
    scorer = get_metric(metric)
    inc_metric = scorer.measure(
        y01[search_rows], held.decisions[search_rows], held.scores[search_rows]
    )
    base = {
        "level": level, "tolerance": float(tolerance), "metric": scorer.name,
        "positive": positive, "evidence_rows": evidence_rows, "search_rows": search_rows,
        "incumbent_held": held, "constraints": [str(c) for c in bound],
    }  # fmt: skip
    if P is not None:
        base["group_probabilities"] = _probabilities_record(encoder)
    nothing = _nothing_to_reduce(given, bound, whole, on_search)
    if nothing is not None:
        return AlternativesResult.nothing(
            base, nothing, _incumbent_measures(held, y01, groups, evidence_rows, bound, scorer, P)
        )
    search_constraints = [
        str(replace(c, bound=_search_bound(c, on_search[b.key])))
        for (c, _), b in zip(given, bound, strict=True)
    ]
    driving, note = None, ""
    if drop_drivers > 0:
        driving, note = drivers(held, frame, search_rows, sens, random_state, probabilities)
        if driving is not None and driving.empty:
            note = M.NO_DRIVERS_FOUND
    sets = feature_sets(list(features.columns), allowed, names, required, driving, drop_drivers)
    if drop_drivers > 0 and len(sets) == 1 and not note:
        note = M.NO_DRIVERS_FOUND
    options = {
        "constraints": search_constraints, "metric": scorer.name,
        "decision_rule": decision_rule, "deterministic": deterministic,
        "random_state": random_state, "n_jobs": n_jobs, "refit": False,
        "pos_label": positive, **search_options,
    }  # fmt: skip
    s_search = _groups_at(names, sens, search_rows)
    X_search = features.iloc[search_rows].reset_index(drop=True)
    P_search = None if P is None else probabilities.iloc[search_rows].reset_index(drop=True)
    runs, failed = _run_searches(
        sets, options, X_search, target[search_rows], s_search, started, time_budget, n_trials,
        P_search,
    )  # fmt: skip
    board = pd.concat([r.board.assign(feature_set=r.name) for r in runs], ignore_index=True)
    primary = bound[0]
    floor = inc_metric - float(tolerance)
    for run in runs:
        run.eligible = _eligible(run.board, scorer.name, floor)
    eligible = pd.concat([r.eligible for r in runs], ignore_index=True)
    history = pd.concat([_history(r.board, r.search, r.eligible) for r in runs], ignore_index=True)
    seconds = time.monotonic() - started
    stopping = stopping_statement(
        history, primary.key, lower_is_better=not primary.is_ratio, seconds=seconds
    )
    chosen = [
        (run, row)
        for run in runs
        for _, row in run.board[run.eligible]
        .sort_values(primary.key, ascending=not primary.is_ratio)
        .head(int(n_compare))
        .iterrows()
    ]
    sign = -1.0 if primary.is_ratio else 1.0  # least disparate first, over every search
    chosen.sort(key=lambda pair: sign * float(pair[1][primary.key]))
    per_level = 1 - (1 - float(level)) / max(len(chosen), 1)
    s_evidence = _groups_at(names, sens, evidence_rows)
    evidence = {"groups": groups[evidence_rows]} if P is None else {
        "groups": None,
        "group_probabilities": probabilities.iloc[evidence_rows].reset_index(drop=True),
    }  # fmt: skip
    X_evidence = features.iloc[evidence_rows].reset_index(drop=True)
    compared: list[Compared] = []
    for run, row in chosen:
        evaluation = run.search.evaluation(int(row["trial"]))
        cut = None
        if same_approval_rate:
            cut = _cut_to_incumbent(
                run, int(row["trial"]), evaluation, X_search, s_search, held, search_rows,
                float(tolerance),
            )  # fmt: skip
            if cut.model is not None:
                evaluation = replace(evaluation, model=cut.model)
        alt = _decide(evaluation.model, X_evidence[run.columns], s_evidence, positive)
        comparison = paired_comparison(
            y01[evidence_rows],
            Predictions(held.decisions[evidence_rows], held.scores[evidence_rows]),
            Predictions(*alt), constraints=bound, metric=scorer.name, level=per_level,
            n_boot=N_BOOT, random_state=random_state, **evidence,
        )  # fmt: skip
        verdict = _guarded(comparison.verdict(float(tolerance)), held, alt[0], evidence_rows)
        approval = float(np.mean(alt[0]))
        held_approval = float(held.decisions[evidence_rows].mean())
        if cut is not None and cut.model is None and abs(approval - held_approval) > tolerance:
            reason = M.APPROVAL_LEFT_OUT.format(
                approval=approval, incumbent=held_approval, why=cut.why
            )
            verdict = replace(verdict, word=NONE_FOUND, reason=reason)
        compared.append(Compared(
            row, evaluation, comparison, verdict, approval, run.name,
            None if cut is None else cut.cutoff,
        ))  # fmt: skip
    best = next((c for c in compared if c.verdict.word == LESS_DISCRIMINATORY), None)
    fitted, X_best = None, X_evidence
    if best is not None:
        run = next(r for r in runs if r.name == best.feature_set)
        fitted = run.automl.adopt(
            run.search, best.number, board=run.board, evaluation=best.evaluation
        )
        X_best = X_evidence[run.columns]
    attribution = explain_both(
        held, fitted, frame, X_best, evidence_rows, sens, random_state, probabilities
    )
    searched = _searched(board, runs, options, seconds, floor, inc_metric, failed)
    searched["incumbent_search_values"] = {k: float(v) for k, v in on_search.items()}
    searched["required_features"] = required
    searched["forbidden_features"] = forbidden
    searched["drivers"] = [] if driving is None else driving.head(5).to_dict(orient="records")
    searched["feature_set_note"] = note
    return AlternativesResult.searched(
        base, fitted, compared, _incumbent_measures(
            held, y01, groups, evidence_rows, bound, scorer, P),
        attribution, searched, stopping, board, eligible,
    )  # fmt: skip


@dataclass
class _Run:
    """One search: its feature set, the estimator whose parameters built it (it adopts the
    search's alternative), the search, its leaderboard and budget, and which points reach
    the metric floor (set once the floor is known)."""

    feature_set: FeatureSet
    automl: FairAutoML
    search: Any
    board: pd.DataFrame
    seconds: float
    eligible: pd.Series = field(default_factory=lambda: pd.Series(dtype=bool))

    @property
    def name(self) -> str:
        return self.feature_set.name

    @property
    def columns(self) -> list[str]:
        return self.feature_set.columns


def _run_searches(
    sets: list[FeatureSet], options: dict[str, Any], X_search: pd.DataFrame,
    y_search: np.ndarray, s_search: Any, started: float, time_budget: float | None,
    n_trials: int | None, P_search: pd.DataFrame | None = None,
) -> tuple[list[_Run], list[dict[str, Any]]]:  # fmt: skip
    """One search per feature set, one after the other, each with its share of the time
    left and of ``n_trials`` (:func:`~fairautoml.alternatives.feature_sets.shares`); a
    search with no trial done in its share is left out, its record saying so (the others'
    alternatives stand), unless every one is."""
    plan = shares(len(sets), n_trials)
    runs: list[_Run] = []
    failed: list[dict[str, Any]] = []
    first_error: SearchError | None = None
    for i, feature_set in enumerate(sets):
        left = None if time_budget is None else float(time_budget) - (time.monotonic() - started)
        automl = FairAutoML(
            time_budget=next_budget(left, [p["weight"] for p in plan[i:]]),
            n_trials=plan[i]["n_trials"], **options,
        )  # fmt: skip
        began = time.monotonic()
        search = build_search(
            {**automl.search_params(), "task": "binary"},  # yes/no decisions, checked above
            X_search[feature_set.columns], y_search, s_search, started=began,
            group_probabilities=P_search,
        )  # fmt: skip
        search.run()
        search.confirm()
        try:
            board = search.leaderboard()
        except SearchError as exc:  # no trial done: nothing of this feature set to compare
            first_error = first_error or exc
            failed.append({
                **feature_set.record(), "points": 0, "trials_ok": 0,
                "time_budget": automl.time_budget, "n_trials": automl.n_trials,
                "seconds": float(time.monotonic() - began),
                "note": M.SEARCH_LEFT_OUT.format(error=exc),
            })  # fmt: skip
            continue
        runs.append(_Run(feature_set, automl, search, board, time.monotonic() - began))
    if not runs and first_error is not None:
        raise first_error
    return runs, failed


def _check_numbers(
    tolerance: Any, evidence_share: Any, n_compare: Any, metric: str, options: dict[str, Any],
    drop_drivers: Any = 0,
) -> None:  # fmt: skip
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
    if (
        isinstance(drop_drivers, bool)
        or not isinstance(drop_drivers, (int, np.integer))
        or drop_drivers < 0
    ):
        raise InputError(M.DROP_DRIVERS.format(given=drop_drivers))
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
    """Points a lender could deploy whose validation metric reaches the floor: not a
    near-constant one (the ``weak`` tier: approving nearly everyone has almost no
    disparity and, where most are approved, nearly the accuracy; it serves no lender)."""
    tier = board["tier"].astype(str) if "tier" in board else pd.Series("", index=board.index)
    return (
        (board["status"] == "ok")
        & ~tier.isin(["not deployable", "weak", "constant", "failed"])
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


def _cut_to_incumbent(
    run: _Run, trial: int, evaluation: Any, X_search: pd.DataFrame, s_search: Any,
    held: Incumbent, search_rows: np.ndarray, tolerance: float,
) -> RateCut:  # fmt: skip
    """The alternative cut to approve the incumbent's share of the search rows it was
    measured on and not trained on: its validation rows (every row, out of fold, under
    cross-validation), never the evidence rows. Its probabilities there are those the
    search kept, else (a holdout) its scores on them. Ties that keep the share more than
    ``tolerance`` away leave it uncut."""
    validation = np.asarray(run.search.trial_context(trial).val_idx)
    proba = evaluation.probabilities
    if len(run.search.ctx.data.y) != len(search_rows):  # rows dropped: positions unknown
        proba, validation = None, np.arange(len(search_rows))
    elif proba is None or len(proba) != len(validation):
        proba = None
        if len(validation) < len(search_rows):  # a holdout: rows its scores never saw
            rows = X_search.iloc[validation][run.columns]
            s_rows = s_search
            if isinstance(s_search, pd.DataFrame):
                s_rows = s_search.iloc[validation]
            proba = np.asarray(evaluation.model.predict_proba(rows, s_rows))[:, -1]
    incumbent = held.decisions[search_rows][validation]
    return at_incumbent_rate(evaluation.model, proba, incumbent, tolerance)


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
    bound: list[Constraint], scorer: Any, P: np.ndarray | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The incumbent on the evidence rows: its metric, disparities (with membership
    probabilities, the regression's, each plain weighted value beside it) and approval
    rate."""
    values = _values(bound, y01, held.decisions, groups, P, rows)
    plain = {} if P is None else weighted_values(bound, y01[rows], held.decisions[rows], P[rows])
    shown: dict[str, float] = {}
    for k, v in values.items():
        shown[k] = float(v)
        if k in plain:
            shown[plain_weighted_key(k)] = plain[k]
    return {
        "given_as": held.kind, "description": held.description, "rule": held.rule,
        scorer.name: float(scorer.measure(y01[rows], held.decisions[rows], held.scores[rows])),
        **shown,
        "approval_rate": float(held.decisions[rows].mean()), "rows": len(rows),
    }  # fmt: skip


def _values(
    bound: list[Constraint], y01: np.ndarray, decisions: np.ndarray, groups: np.ndarray,
    P: np.ndarray | None, rows: np.ndarray,
) -> dict[str, float]:  # fmt: skip
    """Each constraint's value on ``rows``: by the groups, or (membership probabilities
    ``P``) the regression estimate."""
    if P is None:
        return evaluate_constraints(bound, y01[rows], decisions[rows], groups[rows])
    return regression_values(bound, y01[rows], decisions[rows], P[rows])


def _sensitive(frame: pd.DataFrame, sensitive_features: Any) -> tuple[pd.DataFrame, list[str]]:
    if sensitive_features is None:
        raise InputError(M.NO_GROUPS)
    return sensitive_frame(frame, sensitive_features, len(frame))


def _groups_at(names: list[str], sens: pd.DataFrame | None, rows: np.ndarray) -> Any:
    """What a search or a model is given as the groups of ``rows``: the sensitive columns'
    names, the groups themselves, or None (membership probabilities: no group at all)."""
    if names or sens is None:
        return names or None
    return sens.iloc[rows].reset_index(drop=True)


def _probabilities(
    given: Any, sensitive_features: Any, frame: pd.DataFrame, constraints: Any,
    decision_rule: str, options: dict[str, Any],
) -> pd.DataFrame | None:  # fmt: skip
    """The membership probabilities checked as ``fit`` checks them (one row per row, each
    summing to 1; the options that need a group per row refused, with the fit's
    messages), as a table with one column per group; None without them."""
    if given is None:
        return None
    if sensitive_features is not None:
        raise InputError(BOTH_GROUPS_AND_PROBABILITIES)
    memberships = checked_memberships(given, len(frame))
    check_probabilities_options({**options, "decision_rule": decision_rule})
    membership_constraints([c for c, _ in _measures(constraints)], memberships.attribute)
    table = pd.DataFrame(memberships.values, columns=list(memberships.groups))
    table.columns.name = memberships.attribute
    return table


def _probabilities_record(encoder: GroupEncoder) -> dict[str, Any]:
    """What the result says of membership probabilities: the groups, the estimator and
    its assumptions."""
    return {
        "groups": [str(g) for g in encoder.labels], "estimator": "regression",
        "assumptions": list(ASSUMPTIONS), "weighted_note": WEIGHTED_NOTE,
    }  # fmt: skip


def _searched(
    board: pd.DataFrame, runs: list[_Run], options: dict[str, Any], seconds: float,
    floor: float, inc_metric: float, failed: list[dict[str, Any]] = (),
) -> dict[str, Any]:  # fmt: skip
    """What was searched, over every search: its learners, mitigations, points, models,
    seconds and rules, and each feature set with its share of the budget (those whose
    search had no trial done last, with their note)."""
    ok = board[board["status"] == "ok"]
    sets = []
    for run in runs:
        done = run.board["status"] == "ok"
        sets.append({
            **run.feature_set.record(), "points": len(run.board), "trials_ok": int(done.sum()),
            "time_budget": run.automl.time_budget, "n_trials": run.automl.n_trials,
            "seconds": float(run.seconds),
        })  # fmt: skip
    return {
        "learners": sorted(ok["learner"].dropna().astype(str).unique().tolist()),
        "mitigators": sorted(ok["mitigator"].dropna().astype(str).unique().tolist()),
        "post_processors": sorted(ok["post"].dropna().astype(str).unique().tolist()),
        "points": len(board), "trials_ok": len(ok),
        "trained_models": sum(len(record.trained_models(r.search.study.trials)) for r in runs),
        "seconds": float(seconds), "search_rows": len(runs[0].search.ctx.data.y),
        "constraints": options["constraints"], "decision_rule": runs[0].automl.decision_rule,
        "deterministic": bool(options["deterministic"]),
        "incumbent_validation_metric": float(inc_metric), "metric_floor": float(floor),
        "feature_sets": [*sets, *failed],
    }  # fmt: skip
