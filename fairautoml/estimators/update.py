"""Adapt after drift: refit a fitted model's pick with new labeled rows, and audit the old
and the new model on the same kept-back part of those rows (``fairautoml.update``).

Why not a new search: the pick was chosen on the old rows; what the new rows change is
the population it serves. The pick's configuration (learner, hyperparameters, training
mitigation, post-processing) is trained again through the search's own machinery (a
search built on the old rows plus the new ones, the one candidate evaluated, recorded as
its trial and adopted as ``fit`` adopts its pick), so the post-processing is fitted
afresh on the new search's validation rows and the claim is remade there. The audits
compare the two models on new rows neither trained on; the new model's audit reference
is the updated fit's, so a later audit compares with the rows it was updated on.

A pick that met its bound without mitigation on the old rows (an ensemble of plain
models, say) may miss it on the new ones, and refitting it cannot help: then (by
default) the fit's search runs on the same rows and its pick replaces the refit.

The update carries what the fit was given: the rows' ``sample_weight`` weigh the refit as
they weighed the fit, and a fit aimed at a target population (``target_X``) is aimed there
again when the update is given those rows; without them the updated claim is for the
update's own rows, and the result and a warning say so (what a claim is about never
changes silently).
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from fairautoml import exceptions as E
from fairautoml.data.features import as_frame
from fairautoml.data.weights import check_sample_weight
from fairautoml.estimators.build import build_search
from fairautoml.search import add_finished_trial
from fairautoml.search.ensemble import NO_MODEL
from fairautoml.search.evaluate import evaluate_candidate
from fairautoml.study import record
from fairautoml.study.pick import FAIR, LIKELY_FAIR, NO_RULE
from fairautoml.values import json_safe

UPDATE_NO_LABELS = (
    "update needs the new rows' labels (y_new): {why}. The after-audit and the refit are "
    "measured against them; to aim a model at unlabeled rows, fit again with them as "
    "target_X (fit(X, y, s, target_X=rows))."
)
UPDATE_MISSING_COLUMNS = (
    "The new rows lack columns the model reads: {names}. Give them with the fit's columns "
    "(the model reads {n} columns: {expected})."
)
UPDATE_TOO_FEW = (
    "Too few new rows to keep evidence back: {n} rows, of which {kept} would be kept back "
    "for the audits and {left} trained on. Give at least {needed} new rows (or change "
    "evidence_share, now {share})."
)
UPDATE_BAD_SHARE = "evidence_share must lie strictly between 0 and 1, got {share!r}."
UPDATE_BAD_SEARCH = "search_again must be True, False or 'auto', got {given!r}."
UPDATE_PROBABILITIES = (
    "update does not support a model fitted with group_probabilities: its audits need "
    "known groups. Fit again on the old and new rows with their group probabilities."
)
UPDATE_OLD_ROWS = (
    "X and y (the old rows) go together: give both, or neither to refit on the new rows alone."
)
UPDATE_NO_GROUPS = (
    "update needs the new rows' groups: give sensitive_features (column names of X_new, "
    "or one value per row)."
)
UPDATE_PICK_FAILED = (
    "The pick ({pick}) could not be trained on the updated rows: {error}. Fit again on the "
    "old and new rows instead."
)
UPDATE_NOT_FITTED = "update needs a fitted FairAutoML or FairAutoMLRegressor: call fit first."
UPDATE_OLD_WEIGHTS = (
    "sample_weight_before weighs the old rows: give them too (X= and y=), or leave it out."
)
UPDATE_TARGET_DROPPED = (
    "The fit's claim was made for a target population (target_X, {rows} rows), and the "
    "update was given none: the updated claim is for the update's rows' own population, "
    "not the fit's target. To aim it there again, give the rows where the model will be "
    "used (target_X=rows)."
)
UPDATE_WEIGHTS_DROPPED = (
    "The fit counted its rows by sample_weight, and the update's new rows have none: each "
    "new row counts once in the refit and its claim. Give their weights "
    "(sample_weight=weights) if they stand for several people each."
)

KEPT = (FAIR, LIKELY_FAIR, NO_RULE)  # a refitted pick's claims that "auto" keeps
MIN_EVIDENCE_ROWS = 40  # kept-back rows below which an audit's intervals say little
MIN_TRAIN_ROWS = 40


@dataclass
class UpdateResult:
    """What :func:`update` did: ``model`` the updated estimator, ``before`` and ``after``
    the audits (:class:`~fairautoml.audit.verdicts.Audit`) of the old and the updated
    model on the same kept-back new rows (``n_evidence`` of them, never trained on),
    ``n_trained`` the rows the refit trained on (``n_old`` of them old rows);
    ``refit_verdict`` the refitted pick's claim, ``searched`` whether a search on the
    same rows replaced it; ``claim_for`` the population the updated claim is made for
    (``"target_X"``: the target rows given; ``"update rows"``: the rows it trained on),
    ``notes`` what differs from the fit's claim (each also warned)."""

    model: Any
    before: Any
    after: Any
    n_evidence: int
    n_trained: int
    n_old: int
    seconds: float
    refit_verdict: str = ""
    searched: bool = False
    claim_for: str = "update rows"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``update.json``."""
        return json_safe(
            {
                "pick": self.model.best_config_.get("model", ""),
                "before": {"verdict": self.before.verdict, **self.before.to_dict()},
                "after": {"verdict": self.after.verdict, **self.after.to_dict()},
                "n_evidence": self.n_evidence,
                "n_trained": self.n_trained,
                "n_old": self.n_old,
                "seconds": self.seconds,
                "refit_verdict": self.refit_verdict,
                "searched": self.searched,
                "claim_for": self.claim_for,
                "notes": self.notes,
                "claim_after": {
                    "constraint_values": self.model.best_config_.get("constraint_values"),
                    "constraint_intervals": self.model.best_config_.get("constraint_intervals"),
                    "verdict": self.model.best_config_.get("verdict"),
                    "sample_weight": self.model.best_config_.get("sample_weight"),
                    "shift": self.model.best_config_.get("shift"),
                },
            }
        )

    def save(self, out_dir: Any, model_name: str = "model.skops") -> Path:
        """Write the updated model (``model_name``) and ``update.json`` to ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save(out / model_name)
        (out / "update.json").write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return out


def update(
    automl: Any,
    X_new: Any,
    y_new: Any,
    sensitive_features: Any = None,
    *,
    sample_weight: Any = None,
    target_X: Any = None,
    X: Any = None,
    y: Any = None,
    sensitive_before: Any = None,
    sample_weight_before: Any = None,
    evidence_share: float = 0.3,
    search_again: bool | str = "auto",
    time_budget: float | None = None,
    random_state: int | None = None,
) -> UpdateResult:
    """Refit ``automl``'s pick with the new labeled rows and audit it before and after.

    ``evidence_share`` of the new rows (stratified on target x group) are kept back: both
    audits are measured on them, and neither model trains on them. The pick's
    configuration is trained on the other new rows, plus the old rows ``X``, ``y``
    (``sensitive_before``: their groups, when ``sensitive_features`` are not column names)
    when given. ``sensitive_features``: the new rows' groups (None: the columns named in
    the fit). ``search_again``: "auto" (default) runs the fit's search on the same rows
    when the refitted pick's claim is not FAIR or LIKELY FAIR there (a pick that met the
    bound without mitigation on the old rows may not on the new ones), and keeps its pick;
    True always, False never. ``time_budget``: seconds for the refit and the search (None:
    the fit's). ``automl`` is not changed. Returns an :class:`UpdateResult`.

    ``sample_weight``: the new rows' weights, as ``fit`` takes them (None: each counts
    once; a fit that had weights then warns); ``sample_weight_before``: the old rows'.
    They weigh the refit, its claim and the search as the fit's weighed the fit; the two
    audits count each kept-back row once. ``target_X``: rows from where the model will be
    used, as ``fit`` takes them: the refit's claim is made for that population (for the
    worst case over the same set of reweightings when the fit had ``shift_robust``). A fit
    aimed at a target population and updated without ``target_X`` gets a claim for the
    update's rows' own population, and the result (``claim_for``, ``notes``) and an
    :class:`~fairautoml.exceptions.UpdateWarning` say so.
    """
    if search_again not in (True, False, "auto"):
        raise E.ConfigurationError(UPDATE_BAD_SEARCH.format(given=search_again))
    started = time.monotonic()
    if not hasattr(automl, "best_estimator_"):
        raise E.NotFittedError(UPDATE_NOT_FITTED)
    summary = automl.fit_summary_
    if summary.group_probabilities is not None:
        raise E.ConfigurationError(UPDATE_PROBABILITIES)
    if not 0 < float(evidence_share) < 1:
        raise E.ConfigurationError(UPDATE_BAD_SHARE.format(share=evidence_share))
    model = automl.best_estimator_
    frame = as_frame(X_new).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    labels = _labels(y_new, len(frame))
    weight_new = check_sample_weight(sample_weight, len(frame))
    named = sensitive_features is None or _names_columns(sensitive_features, frame)
    if sensitive_features is None:
        sensitive_features = list(model.sensitive_columns) or None
    if sensitive_features is None:
        raise E.InputError(UPDATE_NO_GROUPS)
    needed = list(model.schema.columns) + (
        [str(c) for c in np.atleast_1d(sensitive_features)] if named else []
    )
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise E.InputError(
            UPDATE_MISSING_COLUMNS.format(names=missing, n=len(needed), expected=needed)
        )
    groups = (
        frame[[str(c) for c in np.atleast_1d(sensitive_features)]]
        if named
        else as_frame(sensitive_features).reset_index(drop=True)
    )
    keep, train = _kept_back(frame, labels, groups, evidence_share, random_state)
    evidence = frame.iloc[keep].reset_index(drop=True)
    s_evidence = sensitive_features if named else groups.iloc[keep].reset_index(drop=True)
    before = automl.audit(evidence, labels[keep], s_evidence)

    X_fit, y_fit = frame.iloc[train].reset_index(drop=True), labels[train]
    s_fit = sensitive_features if named else groups.iloc[train].reset_index(drop=True)
    w_fit = None if weight_new is None else weight_new[train]
    n_old = 0
    if (X is None) != (y is None):
        raise E.InputError(UPDATE_OLD_ROWS)
    if X is None and sample_weight_before is not None:
        raise E.InputError(UPDATE_OLD_WEIGHTS)
    if X is not None:
        old = as_frame(X).reset_index(drop=True)
        old.columns = [str(c) for c in old.columns]
        n_old = len(old)
        X_fit = pd.concat([old[list(frame.columns)], X_fit], ignore_index=True)
        y_fit = np.concatenate([np.asarray(y).ravel(), y_fit])
        if not named:
            before_groups = as_frame(sensitive_before).reset_index(drop=True)
            before_groups.columns = s_fit.columns
            s_fit = pd.concat([before_groups, s_fit], ignore_index=True)
        old_weight = check_sample_weight(sample_weight_before, n_old)
        w_fit = _joined_weights(old_weight, w_fit, n_old, len(train))
    notes = _what_differs(summary, weight_new is not None, target_X is not None)
    for note in notes:
        warnings.warn(note, E.UpdateWarning, stacklevel=2)
    given = {"sample_weight": w_fit, "target_X": target_X}
    if target_X is not None and (summary.shift or {}).get("robust"):
        given["shift_robust"] = True  # the fit's claim held over a set of reweightings

    updated = clone(automl)
    changes: dict[str, Any] = {"storage": None, "study_name": None}
    if time_budget is not None:
        changes["time_budget"] = time_budget
    if random_state is not None:
        changes["random_state"] = random_state
    updated.set_params(**changes)
    search = build_search(
        updated.search_params(), X_fit, y_fit, s_fit, started=time.monotonic(), **given
    )
    candidate = replace(summary.candidate, train_rows=None)
    search.ctx.deadline = None  # the one candidate trains whatever the budget, as a pick does
    evaluation = evaluate_candidate(candidate, search.ctx)
    if evaluation.model is None:
        raise E.SearchError(
            UPDATE_PICK_FAILED.format(pick=candidate.describe(), error=evaluation.result.error)
        )
    # recorded as the search records its ensembles: the candidate is in the trial's attrs
    number = add_finished_trial(
        search.study, {}, {}, search.ctx, evaluation, {record.DERIVED_FROM: NO_MODEL}
    )
    updated.adopt(search, number, evaluation=evaluation)
    refit_verdict = updated.fit_summary_.verdict
    searched = search_again is True or (search_again == "auto" and refit_verdict not in KEPT)
    if searched:  # the fit's search, on the update's rows: its pick replaces the refit
        updated = clone(updated).fit(X_fit, y_fit, s_fit, **given)
    after = updated.audit(evidence, labels[keep], s_evidence)
    return UpdateResult(
        updated, before, after, len(keep), len(y_fit), n_old, time.monotonic() - started,
        refit_verdict=refit_verdict, searched=searched,
        claim_for="update rows" if target_X is None else "target_X", notes=notes,
    )  # fmt: skip


def _labels(y_new: Any, n_rows: int) -> np.ndarray:
    """The new rows' labels, checked: given, one per row, none missing."""
    if y_new is None:
        raise E.InputError(UPDATE_NO_LABELS.format(why="none were given"))
    labels = pd.Series(np.asarray(y_new).ravel())
    if len(labels) != n_rows:
        raise E.InputError(E.LENGTH_MISMATCH.format(n_x=n_rows, name="y_new", n_other=len(labels)))
    if labels.isna().all():
        raise E.InputError(UPDATE_NO_LABELS.format(why="every label is missing"))
    if labels.isna().any():
        raise E.InputError(
            UPDATE_NO_LABELS.format(why=f"{int(labels.isna().sum())} labels are missing")
            + " Drop the rows without one."
        )
    return labels.to_numpy()


def _joined_weights(
    old: np.ndarray | None, new: np.ndarray | None, n_old: int, n_new: int
) -> np.ndarray | None:
    """The old rows' weights then the new training rows', a side without any counting
    each row once (None when neither has weights)."""
    if old is None and new is None:
        return None
    old = np.ones(n_old) if old is None else old
    return np.concatenate([old, np.ones(n_new) if new is None else new])


def _what_differs(summary: Any, weighted: bool, aimed: bool) -> list[str]:
    """What the updated claim is about that the fit's was not: its own rows instead of
    the fit's target population, each new row once where the fit's rows had weights."""
    notes = []
    if summary.shift is not None and not aimed:
        notes.append(UPDATE_TARGET_DROPPED.format(rows=summary.shift.get("target_rows", "?")))
    if summary.sample_weight is not None and not weighted:
        notes.append(UPDATE_WEIGHTS_DROPPED)
    return notes


def _names_columns(sensitive_features: Any, frame: pd.DataFrame) -> bool:
    names = np.atleast_1d(np.asarray(sensitive_features, dtype=object))
    return names.ndim == 1 and all(isinstance(n, str) and n in frame.columns for n in names)


def _kept_back(
    frame: pd.DataFrame, labels: np.ndarray, groups: pd.DataFrame, share: float, seed: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(kept-back rows, training rows) of the new rows, stratified on target x group where
    every stratum has two rows at least (else on the target, else none)."""
    n = len(frame)
    kept = round(n * share)
    needed = int(np.ceil(max(MIN_EVIDENCE_ROWS / share, MIN_TRAIN_ROWS / (1 - share))))
    if kept < MIN_EVIDENCE_ROWS or n - kept < MIN_TRAIN_ROWS:
        raise E.InputError(
            UPDATE_TOO_FEW.format(n=n, kept=kept, left=n - kept, needed=needed, share=share)
        )
    rows = np.arange(n)
    group_key = groups.astype(str).agg("|".join, axis=1).to_numpy()
    strata = None
    for key in (pd.Series(labels).astype(str).to_numpy() + "#" + group_key, labels):
        _, counts = np.unique(np.asarray(key).astype(str), return_counts=True)
        if counts.min() >= 2 and len(counts) <= min(kept, n - kept):
            strata = key
            break
    train, keep = train_test_split(
        rows, test_size=kept, random_state=0 if seed is None else seed, stratify=strata
    )
    return np.sort(keep), np.sort(train)
