"""Disparity attribution: how much of the gap in mean score between two groups each
feature accounts for, with bootstrap intervals.

For additive contributions (every method of :mod:`.contributions`) a row's margin is its
base plus its contributions, so the gap in mean margin between groups a and b is exactly

    gap = (mean base_a - mean base_b) + sum_j (mean c_j,a - mean c_j,b)

and each feature's term is its share of the gap. The base term is 0 when every row has
the same base; it is not when rows are scored by different fold models, or by a model
that reads the group. The residual (the gap minus the terms) is 0 up to rounding.

What is attributed is the gap in **score** (on the margin: log-odds or amounts). The gap
in selection rate, which a fairness constraint reads, comes from the scores through a
cut-off (and a decision rule): it is not a sum over features, and a feature's share of the
score gap is not its share of the selection-rate gap. :func:`disparity_attribution`
reports the selection rates beside the attribution when it is given the decisions.

The intervals resample rows within each group (the model is fixed): they say how much the
terms would move on another sample of applicants, not on another fit of the model.

With membership probabilities instead of groups (``group_probabilities``: BISG), each
group's mean base, contribution and margin is the regression estimate of
:mod:`fairautoml.measures.membership` (each column regressed on the probabilities, no
intercept): least squares is linear in the column, so the terms still add up to the gap
exactly. It is unbiased under that module's assumptions (a contribution is a function of
the features, so the second one reads: given the true group, the features do not depend
on what the probabilities are computed from). The intervals then resample the rows
(Poisson weights), the selection rates beside it are the regression's too, and
``n_rows`` holds each group's effective rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairautoml.data.features import as_frame
from fairautoml.data.groups import sensitive_frame
from fairautoml.data.memberships import Memberships, checked_memberships
from fairautoml.exceptions import InputError
from fairautoml.explain import messages as M
from fairautoml.explain.contributions import Contributions, contributions
from fairautoml.measures.membership import regression_means, resampled_regression_means
from fairautoml.measures.membership_checks import MIN_EFFECTIVE_ROWS, identified

COLUMNS = ["feature", "gap", "low", "high", "share"]


@dataclass
class DisparityAttribution:
    """The gap in mean margin between ``groups[0]`` and ``groups[1]`` (first minus second),
    split by feature.

    ``table``: one row per feature (``gap``: its term, ``low``/``high``: its interval at
    ``level``, ``share``: its term over the whole gap), largest term in size first.
    ``selection_rates`` (each group's share of favourable decisions) and ``selection_gap``
    are set when decisions were given: they are read beside the attribution, not from it.
    """

    groups: tuple[Any, Any]
    gap: float
    gap_interval: tuple[float, float]
    base_gap: float
    residual: float
    table: pd.DataFrame
    level: float
    scale: str
    n_rows: dict[Any, int]
    selection_rates: dict[Any, float] | None = None
    selection_gap: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for a report's JSON."""
        return {
            "groups": [str(g) for g in self.groups],
            "scale": self.scale,
            "gap": self.gap,
            "gap_interval": list(self.gap_interval),
            "base_gap": self.base_gap,
            "residual": self.residual,
            "level": self.level,
            "n_rows": {str(g): n for g, n in self.n_rows.items()},
            "features": self.table.to_dict(orient="records"),
            "selection_rates": None
            if self.selection_rates is None
            else {str(g): r for g, r in self.selection_rates.items()},
            "selection_gap": self.selection_gap,
        }


def _check_level(level: object) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise InputError(M.BAD_LEVEL.format(given=repr(level)))
    return float(level)


def _pick_groups(means: pd.Series, between: Any) -> tuple[Any, Any]:
    """The two groups compared: ``between``, else those of highest and lowest mean margin
    (``means``, by group)."""
    known = list(means.index)
    if len(known) < 2:
        raise InputError(M.FEW_GROUPS.format(n=len(known), known=known))
    if between is not None:
        missing = [g for g in between if g not in known]
        if missing or len(between) != 2:
            example = ", ".join(repr(g) for g in known[:2])
            raise InputError(M.UNKNOWN_GROUPS.format(missing=missing, known=known, example=example))
        return tuple(between)  # type: ignore[return-value]
    return means.idxmax(), means.idxmin()


class _KnownGroups:
    """Group means of columns over each group's rows; resamples within each group."""

    def __init__(self, groups: object, n: int) -> None:
        self.labels = pd.Series(np.asarray(groups, dtype=object).reshape(-1))
        if len(self.labels) != n:
            raise InputError(M.GROUPS_LENGTH.format(n_groups=len(self.labels), n_rows=n))

    def mean_margins(self, margin: np.ndarray) -> pd.Series:
        known = self.labels.dropna()
        means = pd.Series(margin[known.index], index=known.index).groupby(known).mean()
        return means.reindex(list(pd.unique(known)))

    def gaps(self, columns: np.ndarray, a: Any, b: Any, n_boot: int, rng: Any) -> tuple:
        """Each column's mean in ``a`` minus in ``b``, and the same on ``n_boot`` resamples."""
        rows = {g: np.flatnonzero((self.labels == g).to_numpy()) for g in (a, b)}
        observed = columns[rows[a]].mean(axis=0) - columns[rows[b]].mean(axis=0)
        boot = np.empty((n_boot, columns.shape[1]))
        for r in range(n_boot):
            ia = rng.choice(rows[a], size=len(rows[a]))
            ib = rng.choice(rows[b], size=len(rows[b]))
            boot[r] = columns[ia].mean(axis=0) - columns[ib].mean(axis=0)
        return observed, boot

    def rates(self, decided: np.ndarray, groups: tuple[Any, Any]) -> dict[Any, float]:
        return {g: float(decided[(self.labels == g).to_numpy()].mean()) for g in groups}

    def sizes(self, groups: tuple[Any, Any]) -> dict[Any, int]:
        return {g: int((self.labels == g).sum()) for g in groups}


class _Probabilities:
    """Group means of columns by the regression on membership probabilities; resamples
    the rows (Poisson weights)."""

    def __init__(self, memberships: Memberships) -> None:
        self.P = memberships.values
        self.groups = list(memberships.groups)
        self.effective, _ = identified(self.P, memberships.groups, None, MIN_EFFECTIVE_ROWS)

    def mean_margins(self, margin: np.ndarray) -> pd.Series:
        return pd.Series(regression_means(self.P, margin[:, None])[:, 0], index=self.groups)

    def gaps(self, columns: np.ndarray, a: Any, b: Any, n_boot: int, rng: Any) -> tuple:
        ia, ib = self.groups.index(a), self.groups.index(b)
        means = regression_means(self.P, columns)
        W = rng.poisson(1.0, size=(n_boot, len(self.P))).astype(np.float64)
        boot = resampled_regression_means(self.P, columns, W)
        return means[ia] - means[ib], boot[:, ia] - boot[:, ib]

    def rates(self, decided: np.ndarray, groups: tuple[Any, Any]) -> dict[Any, float]:
        means = np.clip(regression_means(self.P, decided[:, None])[:, 0], 0.0, 1.0)
        return {g: float(means[self.groups.index(g)]) for g in groups}

    def sizes(self, groups: tuple[Any, Any]) -> dict[Any, int]:
        return {g: round(float(self.effective[self.groups.index(g)])) for g in groups}


def disparity_attribution(
    contrib: Contributions,
    groups: object = None,
    *,
    between: tuple[Any, Any] | None = None,
    decisions: object = None,
    n_boot: int = 200,
    level: float = 0.95,
    random_state: int | None = 0,
    group_probabilities: object = None,
) -> DisparityAttribution:
    """Split the gap in mean margin between two groups into one term per feature.

    Parameters
    ----------
    contrib : Contributions
        Of the rows (from :func:`~fairautoml.explain.contributions.contributions`).
    groups : array-like
        The group of each explained row (rows without one are left out).
    between : (a, b) or None
        The gap is mean(a) - mean(b); None: the groups of highest and lowest mean margin.
    decisions : array-like of 0/1 or None
        Each row's decision (1: favourable), for the selection rates reported beside.
    n_boot, level, random_state
        Bootstrap replicates (rows resampled within each group), interval level, seed.
    group_probabilities : table of shape (n_rows, n_groups) or None
        Instead of ``groups``: each row's probability of each group, one named column per
        group (module docstring).
    """
    level = _check_level(level)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise InputError(M.BAD_BOOT.format(given=repr(n_boot)))
    n = len(contrib.base)
    if group_probabilities is not None and groups is not None:
        raise InputError(M.GROUPS_AND_PROBABILITIES)
    by = (
        _KnownGroups(groups, n)
        if group_probabilities is None
        else _Probabilities(checked_memberships(group_probabilities, n))
    )
    margin = contrib.margin
    a, b = _pick_groups(by.mean_margins(margin), between)
    V = contrib.values.to_numpy()
    k = V.shape[1]
    rng = np.random.default_rng(random_state)
    observed, boot = by.gaps(np.column_stack([V, contrib.base, margin]), a, b, n_boot, rng)
    features, base_gap, gap = observed[:k], float(observed[k]), float(observed[k + 1])
    boot_features, boot_gap = boot[:, :k], boot[:, k + 1]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(boot_features, [tail, 100 - tail], axis=0)
    table = pd.DataFrame({
        "feature": contrib.features,
        "gap": features,
        "low": low,
        "high": high,
        "share": features / gap if gap != 0 else np.nan,
    })  # fmt: skip
    table = table.reindex(table["gap"].abs().sort_values(ascending=False, kind="stable").index)
    gap_low, gap_high = np.percentile(boot_gap, [tail, 100 - tail])
    rates = selection_gap = None
    if decisions is not None:
        decided = np.asarray(decisions, dtype=np.float64).reshape(-1)
        if len(decided) != n:
            raise InputError(M.GROUPS_LENGTH.format(n_groups=len(decided), n_rows=n))
        rates = by.rates(decided, (a, b))
        selection_gap = rates[a] - rates[b]
    return DisparityAttribution(
        groups=(a, b),
        gap=float(gap),
        gap_interval=(float(gap_low), float(gap_high)),
        base_gap=float(base_gap),
        residual=float(gap - base_gap - features.sum()),
        table=table.reset_index(drop=True),
        level=level,
        scale=contrib.scale,
        n_rows=by.sizes((a, b)),
        selection_rates=rates,
        selection_gap=selection_gap,
    )


def _decisions(model: Any, X: object, sensitive_features: object, pos_label: object) -> Any:
    """Each row's decision, 1 when favourable: a fair model's (with its rule), or a user's
    classifier's ``predict``; None for amounts."""
    model = getattr(model, "best_estimator_", model)
    classes = getattr(model, "classes_", None)
    if classes is None or not hasattr(model, "predict_proba"):
        return None
    if callable(getattr(model, "contributions", None)):  # a fair model: its rule decides
        return np.asarray(model.predict(X, sensitive_features) == classes[1], dtype=float)
    frame = as_frame(X)
    needed = getattr(model, "feature_names_in_", None)
    if needed is not None:
        frame = frame[list(needed)]
    favourable = classes[1] if pos_label is None else pos_label
    return np.asarray(model.predict(frame) == favourable, dtype=float)


def attribute_disparity(
    model: Any,
    X: object,
    sensitive_features: object = None,
    *,
    between: tuple[Any, Any] | None = None,
    reference: object = None,
    pos_label: object = None,
    n_boot: int = 200,
    level: float = 0.95,
    random_state: int | None = 0,
    n_samples: int = 32,
    group_probabilities: object = None,
) -> DisparityAttribution:
    """:func:`disparity_attribution` of ``model`` (a fair model, a fitted search, or a
    user's scikit-learn model) on the rows ``X``, by the groups of ``sensitive_features``
    (column name(s) of X, or values per row; several attributes: their intersections) or,
    instead, by each row's ``group_probabilities`` (the regression estimate of each
    group's mean: module docstring), with the selection rates of the model's decisions
    beside it."""
    frame = as_frame(X)
    frame.columns = [str(c) for c in frame.columns]
    labels = None
    if group_probabilities is None or sensitive_features is not None:
        sens, _ = sensitive_frame(frame, sensitive_features, len(frame))
        labels = sens.astype(str).agg(" & ".join, axis=1) if sens.shape[1] > 1 else sens.iloc[:, 0]
        labels = labels.to_numpy()
    contrib = contributions(
        model, X, sensitive_features=sensitive_features, reference=reference,
        pos_label=pos_label, n_samples=n_samples, random_state=random_state,
    )  # fmt: skip
    return disparity_attribution(
        contrib,
        labels,
        group_probabilities=group_probabilities,
        between=between,
        decisions=_decisions(model, X, sensitive_features, pos_label),
        n_boot=n_boot,
        level=level,
        random_state=random_state,
    )
