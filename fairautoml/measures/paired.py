"""Paired evidence: is an alternative model less discriminatory than the incumbent?

Both models are measured on the same held-out rows, and every difference (alternative
minus incumbent) gets its interval from a paired bootstrap
(:mod:`fairautoml.measures.paired_bootstrap`): each resample draws the rows once, within
each group, and measures both models on that draw. Two models that agree on most rows
share most of their noise, and the pairing takes it out of the difference, so the interval
is narrower than the two models' own intervals would suggest.

:func:`paired_comparison` measures the user's performance metric and each constraint's
fairness measure (through the constraint's family, as everywhere in the package);
:func:`verdict` reads the intervals against a tolerance on the metric and says, in one of
:data:`VERDICT_WORDS`, whether the alternative is less discriminatory with confidence, and
when it cannot tell, how many rows would.

    comparison = paired_comparison(y, incumbent.predict(X), alternative.predict(X), groups,
                                   "demographic_parity_difference <= 0.05", level=0.95)
    comparison.verdict(tolerance=0.005).word   # "less discriminatory", ...

With membership probabilities instead of groups (``group_probabilities=P``: BISG), each
model's disparity is the regression estimate of :mod:`fairautoml.measures.membership`
(unbiased under its :data:`~fairautoml.measures.membership.ASSUMPTIONS`), and each resample
draws the rows once, with replacement over all rows (no group is known to draw within),
and regresses both models' decisions on the drawn rows' probabilities: the pairing holds.
The plain probability-weighted values are kept beside them (``plain_weighted``).

Limits: the intervals are percentile intervals of the bootstrap; where the two models
differ on only a handful of rows, every resample sees a share of those same few rows and
the interval is narrower than an exact test on them would be.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from fairautoml.exceptions import InputError
from fairautoml.measures import messages as M
from fairautoml.measures.constraints import Constraint, evaluate_constraints, parse_constraints
from fairautoml.measures.family import central_interval
from fairautoml.measures.membership import (
    outcome_columns,
    rates_of_means,
    regression_values,
    resampled_regression_means,
    weighted_values,
)
from fairautoml.measures.membership_checks import (
    MIN_EFFECTIVE_ROWS,
    identified,
    membership_constraints,
)
from fairautoml.measures.metrics import Metric, class_weights, get_metric
from fairautoml.measures.paired_bootstrap import (
    JointCells,
    RankedScores,
    joint_cells,
    resampled_cells,
    resampled_rows,
)
from fairautoml.measures.paired_rows import HeldOutRows, Predictions, checked_level

LESS_DISCRIMINATORY = "less discriminatory"
NOT_LESS_DISCRIMINATORY = "not less discriminatory"
NONE_FOUND = "none found with confidence"
VERDICT_WORDS = (LESS_DISCRIMINATORY, NOT_LESS_DISCRIMINATORY, NONE_FOUND)

# metrics that only rank the scores: every resample's value at once from the ranks
RANK_METRICS = frozenset({"roc_auc"})


@dataclass(frozen=True)
class PairedDifference:
    """One measure of both models on the same rows: each model's value, the difference
    (alternative minus incumbent), its central interval at the comparison's level and the
    bootstrap's standard error of it; ``higher_is_better`` says which side of 0 favours
    the alternative (a difference between groups: lower; a ratio, a performance metric:
    higher)."""

    name: str
    incumbent: float
    alternative: float
    difference: float
    interval: tuple[float, float]
    standard_error: float
    higher_is_better: bool

    @property
    def gain(self) -> float:
        """The difference signed so that above 0 favours the alternative."""
        return self.difference if self.higher_is_better else -self.difference

    @property
    def better_with_confidence(self) -> bool:
        """The whole interval lies on the alternative's better side of 0."""
        low, high = self.interval
        return low > 0 if self.higher_is_better else high < 0

    @property
    def worse_with_confidence(self) -> bool:
        """The whole interval lies on the alternative's worse side of 0."""
        low, high = self.interval
        return high < 0 if self.higher_is_better else low > 0

    def describe(self) -> str:
        """``name +0.0123 [+0.0050, +0.0200]``: the difference and its interval."""
        low, high = self.interval
        return f"{self.name} {self.difference:+.4f} [{low:+.4f}, {high:+.4f}]"


@dataclass(frozen=True)
class Verdict:
    """What the paired evidence says of an alternative: ``word`` (one of
    :data:`VERDICT_WORDS`), the ``reason`` in one sentence, the measure that decided it or
    that more rows would have to settle (``binding``), and, when it cannot tell, about how
    many held-out rows would (``rows_needed``; None when decided, or when no number of
    rows would show it less discriminatory)."""

    word: str
    reason: str
    binding: str | None = None
    rows_needed: int | None = None


@dataclass(frozen=True)
class PairedComparison:
    """The incumbent and an alternative measured on the same ``n_rows`` held-out rows:
    the performance ``metric`` and each constraint's fairness measure (``disparities``,
    in the constraints' order, named by their keys), with paired intervals at ``level``
    from ``n_boot`` resamples. ``estimator``: "groups" (each row's group known) or
    "regression" (membership probabilities); with probabilities, ``plain_weighted`` holds
    each measure's plain weighted value per model (``{key: {"incumbent": .., "alternative":
    ..}}``), shown beside the regression's, which decides."""

    metric: PairedDifference
    disparities: tuple[PairedDifference, ...]
    level: float
    n_rows: int
    n_boot: int
    estimator: str = "groups"
    plain_weighted: dict[str, dict[str, float]] = field(default_factory=dict)

    def disparity(self, key: str) -> PairedDifference:
        """The fairness measure named ``key`` (a constraint's key)."""
        found = [d for d in self.disparities if d.name == key]
        if not found:
            raise KeyError(f"{key!r}; measured: {[d.name for d in self.disparities]}")
        return found[0]

    def verdict(self, tolerance: float) -> Verdict:
        """:func:`verdict` of this comparison."""
        return verdict(self, tolerance)


def paired_comparison(
    y_true: Any,
    incumbent: Any,
    alternative: Any,
    groups: Any,
    constraints: str | Constraint | Iterable[str | Constraint],
    *,
    metric: str = "accuracy",
    level: float = 0.95,
    n_boot: int = 1000,
    random_state: int | None = None,
    sample_weight: Any = None,
    group_probabilities: Any = None,
) -> PairedComparison:
    """The incumbent's and the alternative's ``metric`` and fairness measures on the same
    held-out rows, and their differences with paired bootstrap intervals at ``level``.

    ``y_true``: 0/1 labels (1 the favourable outcome). ``incumbent``, ``alternative``:
    each model's 0/1 decisions on those rows, or :class:`Predictions` (decisions and
    scores, needed when ``metric`` reads scores). ``groups``: each row's group code as the
    families take them (the intersection cell codes; a constraint on some attributes,
    ``metric[race] <= 0.05``, must be bound to them first: :meth:`Constraint.bind`).
    ``constraints``: strings or Constraint objects; only their measures are read, not their
    bounds. ``sample_weight``: row weights, applied to every measure and resample.
    ``group_probabilities`` (with ``groups=None``): each row's probability of each group,
    one named column per group (:func:`~fairautoml.data.memberships.checked_memberships`);
    the disparities are then regression estimates (module docstring), on rows drawn with
    replacement over all rows.

    Each resample draws every group's rows with replacement as many times as it has rows
    (the group's size fixed, every group present), and measures both models on that draw.
    Without ``sample_weight`` and for a metric of decisions only the cell counts are drawn,
    so the rows' number does not slow it; row weights and a metric of scores draw rows. A
    metric neither counted with class weights nor in :data:`RANK_METRICS` (``f1``,
    ``log_loss``) is measured one resample at a time, through the metric's own function.
    """
    level = checked_level(level)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise InputError(M.PAIRED_N_BOOT.format(given=n_boot))
    scorer = get_metric(metric)
    parsed = parse_constraints(constraints)
    if not parsed:
        raise InputError(M.PAIRED_NO_CONSTRAINTS)
    rows = HeldOutRows.checked(
        y_true, incumbent, alternative, groups, sample_weight, scorer, group_probabilities
    )
    if rows.memberships is not None:
        parsed = membership_constraints(parsed, rows.memberships.attribute)
        identified(rows.memberships.values, rows.memberships.groups, rows.weight,
                   MIN_EFFECTIVE_ROWS)  # fmt: skip
    for c in parsed if rows.memberships is None else ():
        present = np.unique(c.groups_of(rows.groups))
        if len(present) < 2:
            shown = ", ".join(repr(v) for v in present.tolist()[:5])
            raise InputError(
                M.PAIRED_ONE_GROUP.format(constraint=c, count=len(present), groups=shown)
            )

    rng = np.random.default_rng(random_state)
    cells = joint_cells(rows.y_true, rows.incumbent, rows.alternative, rows.groups)
    if rows.weight is None and not scorer.uses_proba and rows.memberships is None:
        totals = resampled_cells(cells, n_boot, rng)
        metric_boot = _metric_from_cells(scorer, cells, totals)
        boot = _disparities_from_cells(parsed, cells, totals)
    else:
        metric_boot, boot = _resampled_rows(scorer, cells, rows, n_boot, rng, parsed)

    sides = (("incumbent", rows.incumbent), ("alternative", rows.alternative))
    observed = {model: _measured(parsed, rows, decisions) for model, decisions in sides}
    disparities = tuple(
        _difference(
            c.key, observed["incumbent"][c.key], observed["alternative"][c.key],
            boot[c.key], level, higher_is_better=c.is_ratio,
        )
        for c in parsed
    )  # fmt: skip
    performance = _difference(
        scorer.name, rows.score(scorer, "incumbent"), rows.score(scorer, "alternative"),
        metric_boot, level, higher_is_better=True,  # every package metric is maximised
    )  # fmt: skip
    if rows.memberships is None:
        return PairedComparison(performance, disparities, level, len(rows.y_true), int(n_boot))
    P = rows.memberships.values
    weighted = {
        model: weighted_values(parsed, rows.y_true, decisions, P, rows.weight)
        for model, decisions in sides
    }
    plain = {c.key: {model: weighted[model][c.key] for model, _ in sides} for c in parsed}
    return PairedComparison(
        performance, disparities, level, len(rows.y_true), int(n_boot), "regression", plain
    )


def _measured(constraints: list[Constraint], rows: HeldOutRows, decisions: np.ndarray) -> dict:
    """Each constraint's value for one model's decisions on the rows: by the rows' groups,
    or the regression estimate from their membership probabilities."""
    if rows.memberships is None:
        return evaluate_constraints(constraints, rows.y_true, decisions, rows.groups, rows.weight)
    P = rows.memberships.values
    return regression_values(constraints, rows.y_true, decisions, P, rows.weight)


def _membership_disparities(
    constraints: list[Constraint], rows: HeldOutRows, weights: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Both models' regression estimates under each resample's row weights (k, n): both
    models' outcome columns regressed on the same drawn rows' probabilities at once."""
    inc = outcome_columns(rows.incumbent, rows.y_true)
    alt = outcome_columns(rows.alternative, rows.y_true)
    means = resampled_regression_means(rows.memberships.values, np.hstack([inc, alt]), weights)
    k = inc.shape[1]
    both = [rates_of_means(means[..., :k], True), rates_of_means(means[..., k:], True)]
    return {c.key: (c.from_rates(both[0]), c.from_rates(both[1])) for c in constraints}


def level_words(level: float) -> str:
    """A confidence level as a percentage with the digits it needs: a level corrected for
    several comparisons (0.9967) reads 99.67%, not 100%."""
    for digits in range(3):
        text = f"{level:.{digits}%}"
        if abs(float(text[:-1]) / 100 - level) < 5e-7:
            return text
    return f"{level:.2%}"


def verdict(comparison: PairedComparison, tolerance: float) -> Verdict:
    """Whether the alternative is less discriminatory than the incumbent, with confidence.

    *less discriminatory*: every fairness measure's difference interval lies wholly on the
    better side of 0, and the metric's difference interval starts at ``-tolerance`` or
    above (it loses at most ``tolerance`` with confidence). *not less discriminatory*: a
    fairness measure's interval lies wholly on the worse side, or the metric's ends below
    ``-tolerance``. Otherwise *none found with confidence*, with the rows that would tell:
    for each measure not yet settled, ``n * (z * se / margin) ** 2``, where ``margin`` is
    the observed distance to what must be shown (0 for a fairness measure, ``-tolerance``
    for the metric), ``se`` the bootstrap's standard error and ``z`` the level's normal
    quantile. That assumes the observed differences hold on new rows of the same group mix
    and the standard error shrinks as ``1 / sqrt(rows)``; the largest over the measures
    binds (at least the rows measured). A margin of 0 or on the wrong side gives None: more
    rows alone would not show the alternative less discriminatory.
    """
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, (int, float, np.number))
        or not (0.0 <= float(tolerance) <= 1.0)
    ):
        raise InputError(M.PAIRED_TOLERANCE.format(metric=comparison.metric.name, given=tolerance))
    tolerance, level, metric = float(tolerance), comparison.level, comparison.metric
    confidence = f"{level_words(level)} confidence"
    for d in comparison.disparities:
        if d.worse_with_confidence:
            reason = f"The alternative is worse on {d.describe()} with {confidence}."
            return Verdict(NOT_LESS_DISCRIMINATORY, reason, d.name)
    if metric.interval[1] < -tolerance:
        reason = (
            f"The alternative loses more than {tolerance:g} with {confidence}: {metric.describe()}."
        )
        return Verdict(NOT_LESS_DISCRIMINATORY, reason, metric.name)
    if all(d.better_with_confidence for d in comparison.disparities) and (
        metric.interval[0] >= -tolerance
    ):
        shown = "; ".join(d.describe() for d in comparison.disparities)
        reason = (
            f"Every fairness measure improves with {confidence} ({shown}) and the alternative "
            f"loses at most {tolerance:g} ({metric.describe()})."
        )
        return Verdict(LESS_DISCRIMINATORY, reason, None)
    return _undecided(comparison, tolerance)


def _undecided(comparison: PairedComparison, tolerance: float) -> Verdict:
    """*none found with confidence*, with the measure that binds and the rows it needs."""
    z = NormalDist().inv_cdf((1 + comparison.level) / 2)
    needs: list[tuple[float, PairedDifference, float]] = []
    for d in comparison.disparities:
        if not d.better_with_confidence:
            needs.append((_rows_to_tell(comparison.n_rows, z, d.standard_error, d.gain), d, d.gain))
    metric = comparison.metric
    if metric.interval[0] < -tolerance:
        margin = metric.difference + tolerance
        needs.append(
            (_rows_to_tell(comparison.n_rows, z, metric.standard_error, margin), metric, margin)
        )
    rows, binding, margin = max(needs, key=lambda need: need[0])
    intervals = f"the {level_words(comparison.level)} intervals cannot tell yet "
    intervals += f"({binding.describe()})"
    if math.isinf(rows):
        reason = (
            f"None found: {intervals}, and the observed margin ({margin:+.4f}) is zero or on "
            "the worse side, so more rows alone would not show the alternative less discriminatory."
        )
        return Verdict(NONE_FOUND, reason, binding.name, None)
    needed = max(math.ceil(rows), comparison.n_rows)
    reason = (
        f"None found: {intervals}; about {needed} held-out rows would tell if the observed "
        "differences hold and the standard error shrinks as 1/sqrt(rows)."
    )
    return Verdict(NONE_FOUND, reason, binding.name, needed)


def _rows_to_tell(n_rows: int, z: float, standard_error: float, margin: float) -> float:
    """Rows at which ``z`` standard errors fit inside ``margin`` (infinite when it is not
    above 0): ``n * (z * se / margin) ** 2``."""
    if not margin > 0 or not np.isfinite(standard_error):
        return math.inf
    return n_rows * (z * standard_error / margin) ** 2


def _difference(
    name: str,
    incumbent: float,
    alternative: float,
    boot: tuple[np.ndarray, np.ndarray],
    level: float,
    *,
    higher_is_better: bool,
) -> PairedDifference:
    """A :class:`PairedDifference` from both models' values and their resampled values."""
    differences = boot[1] - boot[0]
    return PairedDifference(
        name=name,
        incumbent=float(incumbent),
        alternative=float(alternative),
        difference=float(alternative - incumbent),
        interval=central_interval(differences, level),
        standard_error=float(np.nanstd(differences, ddof=1)),
        higher_is_better=higher_is_better,
    )


def _disparities_from_cells(
    constraints: list[Constraint], cells: JointCells, totals: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each constraint's value for both models under each resample's rows per cell,
    through the constraint's family: the cells stand for their rows, weighted by count."""
    keys = [c.key for c in constraints]
    out = {key: (np.empty(len(totals)), np.empty(len(totals))) for key in keys}
    for b, weight in enumerate(totals):
        for side, decisions in enumerate((cells.incumbent, cells.alternative)):
            values = evaluate_constraints(
                constraints, cells.y_true, decisions, cells.groups, weight
            )
            for key in keys:
                out[key][side][b] = values[key]
    return out


def _metric_from_cells(
    scorer: Metric, cells: JointCells, totals: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Both models' ``scorer`` of decisions under each resample's rows per cell: a metric
    that counts correct rows with class weights from the counts at once, any other one
    resample at a time on the cells weighted by count."""
    y = cells.y_true
    sides = (cells.incumbent, cells.alternative)
    if scorer.class_weighted:
        labels = np.array([0, 1])
        negatives, positives = totals[:, y == 0].sum(axis=1), totals[:, y == 1].sum(axis=1)
        unit = np.array(
            [
                class_weights(scorer, labels, np.array(pair))
                for pair in zip(negatives, positives, strict=True)
            ]
        )  # (resamples, 2): the weight of a correct negative, of a correct positive

        def score(d: np.ndarray) -> np.ndarray:
            correct_neg = totals[:, (y == 0) & (d == 0)].sum(axis=1)
            correct_pos = totals[:, (y == 1) & (d == 1)].sum(axis=1)
            return unit[:, 0] * correct_neg + unit[:, 1] * correct_pos

        return score(sides[0]), score(sides[1])
    inc, alt = (
        np.array([scorer.measure(y, d, d.astype(np.float64), w) for w in totals]) for d in sides
    )
    return inc, alt


def _resampled_rows(
    scorer: Metric, cells: JointCells, rows: HeldOutRows, n_boot: int,
    rng: np.random.Generator, constraints: list[Constraint],
) -> tuple[tuple[np.ndarray, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:  # fmt: skip
    """Both models' ``scorer`` and each constraint's value under resamples drawn row by
    row: row weights, a metric that reads scores, or membership probabilities (the
    disparities regressed on each draw's rows)."""
    ranked = {
        side: RankedScores(rows.y_true, rows.scores[side])
        for side in ("incumbent", "alternative")
        if scorer.uses_proba and scorer.name in RANK_METRICS
    }
    totals, scores, drawn = [], [], []
    for times in resampled_rows(cells.group_index[cells.cell_of_row], n_boot, rng):
        weights = times if rows.weight is None else times * rows.weight
        chunk = cells.summed(weights)
        totals.append(chunk)
        if rows.memberships is not None:
            drawn.append(_membership_disparities(constraints, rows, weights))
        if not scorer.uses_proba:
            scores.append(_metric_from_cells(scorer, cells, chunk))
        elif ranked:
            scores.append((ranked["incumbent"].auc(weights), ranked["alternative"].auc(weights)))
        else:
            scores.append(
                tuple(
                    np.array([rows.score(scorer, side, w) for w in weights])
                    for side in ("incumbent", "alternative")
                )
            )
    inc = np.concatenate([s[0] for s in scores])
    alt = np.concatenate([s[1] for s in scores])
    if rows.memberships is None:
        return (inc, alt), _disparities_from_cells(constraints, cells, np.concatenate(totals))
    boot = {
        c.key: tuple(np.concatenate([d[c.key][side] for d in drawn]) for side in (0, 1))
        for c in constraints
    }
    return (inc, alt), boot


__all__ = [
    "LESS_DISCRIMINATORY",
    "NONE_FOUND",
    "NOT_LESS_DISCRIMINATORY",
    "RANK_METRICS",
    "VERDICT_WORDS",
    "PairedComparison",
    "PairedDifference",
    "Predictions",
    "Verdict",
    "paired_comparison",
    "verdict",
]
