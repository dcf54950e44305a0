"""The population the model will serve (``fit(..., target_X=...)``): importance weights that
make the fit's rows stand for unlabeled rows from where the model will be used.

A domain classifier learns to tell the target rows from the fit's rows on the same
columns; its out-of-fold probability ``p`` of "target" gives each fit row the density
ratio ``p / (1 - p) * n_fit / n_target`` (Shimodaira 2000; Sugiyama et al. 2007), clipped
at :data:`WEIGHT_CAP` and normalised to mean 1. This assumes covariate shift: the
features' mix differs, the outcome given the features does not. The effective sample size
(Kish: ``(sum w)^2 / sum w^2``) says how many rows the reweighted evidence is worth; where
the populations barely overlap it is small and the fit warns (:class:`~fairautoml.
exceptions.ShiftOverlapWarning`); where they do not overlap at all no reweighting can
speak for the target, and the fit refuses.

The estimated ratio is itself uncertain (the domain classifier errs, the target rows are a
sample, the deployment mix may move on). ``fit(..., shift_robust=True)`` makes the claim
for the worst case over a small set of reweightings (:data:`ROBUST_POWERS`, as
AgnosticFair (Du, Xu, Wu and Tong, SDM 2021) makes it for the worst of a set of
reweighings): the ratio raised to each power ``t``, capped and normalised as the central
weights are (:meth:`ShiftWeights.tempered`). ``t`` walks the geometric path between the
populations, ``p_fit^(1-t) p_target^t``: 0 is the fit's own population, 1 the target as
estimated, 1.5 a shift half again as far.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from fairautoml.data.features import FeatureSchema, as_frame
from fairautoml.exceptions import InputError, ShiftOverlapWarning

# the density ratio is clipped here (in units of its mean) before normalising: one row
# may stand for at most this many average rows, so a few rows the domain classifier finds
# far into the target cannot carry the claim alone
WEIGHT_CAP = 20.0
# below this share of the fit's rows, the effective sample size draws a warning
MIN_ESS_SHARE = 0.1
# rows at the cap holding more than this share of the weight draw a warning: much of the
# target lies where the fit's rows are too few to say how many they stand for
CAPPED_WEIGHT_SHARE = 0.1
# an out-of-fold AUC of the domain classifier this high: the two populations do not overlap
NO_OVERLAP_AUC = 0.99
# folds of the domain classifier's cross-fitting: each fit row's weight comes from a
# classifier that did not see it
DOMAIN_FOLDS = 5
# categorical columns with more levels than this enter the domain classifier as codes
MAX_CATEGORIES = 250
# fit(..., shift_robust=True): the powers of the density ratio whose reweightings the claim
# is the worst case over, from the fit's own population (0) through the target as estimated
# (1) to a shift half again as far (1.5); chosen before any measurement
# (docs/decisions.md, "The set a robust shift claim holds over")
ROBUST_POWERS = (0.0, 0.5, 1.0, 1.5)

TARGET_EMPTY = (
    "target_X has no rows: it must hold rows from where the model will be used (their "
    "features, without labels). Pass those rows, or leave target_X out to make the claim "
    "for the fit's own rows."
)
TARGET_COLUMNS = (
    "target_X must have the feature columns of X; missing: {missing}; not in X: {extra}. "
    "Pass the target rows with X's columns (the sensitive columns of X may be left out), "
    "e.g. target_X = new_rows[X.columns]."
)
TARGET_TOO_FEW = (
    "target_X has {n} row(s); at least {need} are needed to learn where the model will be "
    "used. Pass more rows from that population, or leave target_X out."
)
NO_OVERLAP = (
    "The target rows (target_X) and the fit's rows barely overlap: a classifier tells them "
    "apart with AUC {auc:.3f}, so no reweighting of the fit's rows can stand for the target "
    "(the effective sample size would be {ess:.0f} of {n:,} rows). Fit on labeled rows that "
    "cover the target population, or pass only the part of target_X that the fit's rows "
    "cover, or leave target_X out to claim fairness for the fit's own population."
)
LOW_OVERLAP = (
    "The target rows (target_X) overlap the fit's rows poorly: the reweighted rows are worth "
    "{ess:.0f} of {n:,} rows (effective sample size {share:.0%}; domain classifier AUC "
    "{auc:.3f}; {capped:,} rows at the weight cap of {cap:g}, holding {capped_share:.0%} "
    "of the weight). The fairness claim for the target population rests on few rows and "
    "its intervals are wide. Add labeled rows like the target's, or read the claim as weak."
)


@dataclass(frozen=True)
class ShiftWeights:
    """The importance weights of the fit's rows for the target population, and what they
    are worth: ``weights`` (mean 1 under the user's weights), the effective sample size
    ``ess`` of the fit's ``rows``, how many rows hit the cap and the domain classifier's
    out-of-fold ``auc`` (0.5: the populations look alike)."""

    weights: np.ndarray
    rows: int
    target_rows: int
    ess: float
    capped_rows: int
    capped_weight_share: float
    auc: float
    cap: float = WEIGHT_CAP
    # the density ratio in units of its mean, before the cap, and the user's weights: what
    # the tempered reweightings are made from (None: not kept)
    ratio: np.ndarray | None = None
    base: np.ndarray | None = None

    @property
    def ess_share(self) -> float:
        return self.ess / self.rows if self.rows else float("nan")

    @property
    def poor_overlap(self) -> bool:
        """Whether the reweighted evidence is thin enough to warn about."""
        return self.ess_share < MIN_ESS_SHARE or self.capped_weight_share > CAPPED_WEIGHT_SHARE

    def record(self) -> dict[str, Any]:
        """What ``best_config_["shift"]`` keeps of them."""
        return {
            "target_rows": int(self.target_rows),
            "rows": int(self.rows),
            "effective_rows": float(self.ess),
            "effective_share": float(self.ess_share),
            "weight_cap": float(self.cap),
            "capped_rows": int(self.capped_rows),
            "max_weight": float(self.weights.max()),
            "domain_auc": float(self.auc),
            "poor_overlap": bool(self.poor_overlap),
        }

    def tempered(self, power: float) -> np.ndarray:
        """The weights for the population ``power`` of the way from the fit's (0) to the
        target (1), or beyond: the density ratio raised to ``power``, capped and
        normalised as :attr:`weights` are (``power`` 1 gives them; 0 the user's weights)."""
        if self.ratio is None or self.base is None:
            raise ValueError("these weights keep no density ratio to temper")
        return self.base * capped_ratio(self.ratio**power, self.base)[0]

    def reweightings(self, powers: Sequence[float] = ROBUST_POWERS) -> np.ndarray:
        """One row of weights per power (:meth:`tempered`), shape (len(powers), rows)."""
        return np.stack([self.tempered(t) for t in powers])

    def robust_record(self, powers: Sequence[float] = ROBUST_POWERS) -> dict[str, Any]:
        """What ``best_config_["shift"]["robust"]`` keeps: the set the claim is the worst
        case over, and what each of its reweightings is worth."""
        weights = self.reweightings(powers)
        return {
            "powers": [float(t) for t in powers],
            "effective_rows": [effective_sample_size(w) for w in weights],
            "max_weight": [float(w.max()) for w in weights],
        }


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``: as many unweighted rows as the
    weighted rows are worth for a mean's variance."""
    w = np.asarray(weights, dtype=np.float64)
    squares = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / squares) if squares > 0 else 0.0


def domain_columns(
    X: pd.DataFrame, target: pd.DataFrame, features: Sequence[str], sensitive: Sequence[str]
) -> list[str]:
    """The columns the domain classifier reads: the features, and the sensitive columns of
    X that ``target`` also holds (a shift in the groups' mix is a shift too). ``target``
    missing a feature, or holding a column X lacks, is an error."""
    own = [c for c in sensitive if c not in features]
    missing = [c for c in features if c not in target.columns]
    extra = [c for c in target.columns if c not in features and c not in own]
    if missing or extra:
        raise InputError(TARGET_COLUMNS.format(missing=missing, extra=extra))
    return [*features, *(c for c in own if c in target.columns and c in X.columns)]


def target_frame(target_X: object) -> pd.DataFrame:
    """``target_X`` as a frame with text column names, not empty."""
    frame = as_frame(target_X)
    frame.columns = [str(c) for c in frame.columns]
    if frame.shape[0] == 0:
        raise InputError(TARGET_EMPTY)
    return frame.reset_index(drop=True)


def importance_weights(
    X: pd.DataFrame,
    target: pd.DataFrame,
    *,
    base_weight: np.ndarray | None = None,
    random_state: int | None = None,
    warn: bool = True,
) -> ShiftWeights:
    """The fit rows' importance weights for the population of ``target`` (same columns as
    ``X``): a gradient-boosting domain classifier, cross-fitted over
    :data:`DOMAIN_FOLDS` folds, gives each row of ``X`` the odds that it came from the
    target, scaled by the rows' counts, clipped at :data:`WEIGHT_CAP` and normalised to
    mean 1 (under ``base_weight``, the user's weights, which the classifier also counts
    the fit's rows by). No overlap is an error; poor overlap a warning (``warn``)."""
    n, m = len(X), len(target)
    if m < DOMAIN_FOLDS * 2:
        raise InputError(TARGET_TOO_FEW.format(n=m, need=DOMAIN_FOLDS * 2))
    schema = FeatureSchema.infer(X.reset_index(drop=True))
    both = pd.concat(
        [schema.transform(X.reset_index(drop=True)), schema.transform(target[list(X.columns)])],
        ignore_index=True,
    )
    both = _for_classifier(both)
    is_target = np.r_[np.zeros(n, dtype=np.int64), np.ones(m, dtype=np.int64)]
    base = np.ones(n) if base_weight is None else np.asarray(base_weight, dtype=np.float64)
    # the fit's rows count by the user's weights, scaled to count n rows in all
    fit_weight = np.r_[base * n / base.sum(), np.ones(m)]
    # one thread: the same weights whatever the machine (a worker's data must match the
    # fit's), and OpenMP threads on a busy machine spin instead of helping
    with threadpool_limits(limits=1):
        proba = _out_of_fold(both, is_target, fit_weight, random_state)
    auc = float(roc_auc_score(is_target, proba, sample_weight=fit_weight))
    p = np.clip(proba[:n], 1e-6, 1 - 1e-6)
    raw = p / (1 - p) * n / m
    raw = raw / np.average(raw, weights=base)  # in units of its mean, before the cap
    ratio, capped = capped_ratio(raw, base)
    combined = base * ratio
    ess = effective_sample_size(combined)
    capped_share = float(combined[capped].sum() / combined.sum())
    result = ShiftWeights(
        combined, n, m, ess, int(capped.sum()), capped_share, auc, ratio=raw, base=base
    )
    if auc >= NO_OVERLAP_AUC:
        raise InputError(NO_OVERLAP.format(auc=auc, ess=ess, n=n))
    if warn and result.poor_overlap:
        message = LOW_OVERLAP.format(
            ess=ess, n=n, share=result.ess_share, auc=auc, capped=result.capped_rows,
            cap=WEIGHT_CAP, capped_share=capped_share,
        )  # fmt: skip
        warnings.warn(message, ShiftOverlapWarning, stacklevel=6)
    return result


def capped_ratio(ratio: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ratio`` in units of its mean (under ``base``), clipped at :data:`WEIGHT_CAP` and
    normalised to mean 1 again; and which rows hit the cap."""
    ratio = ratio / np.average(ratio, weights=base)
    capped = ratio >= WEIGHT_CAP
    ratio = np.minimum(ratio, WEIGHT_CAP)
    return ratio / np.average(ratio, weights=base), capped


def _for_classifier(frame: pd.DataFrame) -> pd.DataFrame:
    """Categories with more levels than the classifier bins as their codes (numbers)."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype) and len(col.cat.categories) > MAX_CATEGORIES:
            codes = col.cat.codes.to_numpy(dtype=np.float64)
            out[name] = np.where(codes < 0, np.nan, codes)
        else:
            out[name] = col
    return pd.DataFrame(out)


def _out_of_fold(
    X: pd.DataFrame, is_target: np.ndarray, weight: np.ndarray, random_state: int | None
) -> np.ndarray:
    """P(target | x) of every row from the fold model that did not train on it."""
    proba = np.empty(len(is_target), dtype=np.float64)
    folds = StratifiedKFold(DOMAIN_FOLDS, shuffle=True, random_state=random_state)
    for train, held in folds.split(X, is_target):
        model = HistGradientBoostingClassifier(
            max_iter=300, learning_rate=0.2, max_leaf_nodes=8, min_samples_leaf=40,
            categorical_features="from_dtype", early_stopping=True, n_iter_no_change=15,
            random_state=random_state,
        )  # fmt: skip
        model.fit(X.iloc[train], is_target[train], sample_weight=weight[train])
        proba[held] = model.predict_proba(X.iloc[held])[:, 1]
    return proba


__all__ = [
    "ROBUST_POWERS",
    "ShiftWeights",
    "capped_ratio",
    "domain_columns",
    "effective_sample_size",
    "importance_weights",
    "target_frame",
]
