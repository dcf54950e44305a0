"""The pick policy: which validated point becomes the model a user gets, written once.

Why one place: the search aims at what the pick takes (the sampler values a trained model
by its best point the pick could take, the allocator and the costly-post gate count only
such points as fair, the in-memory trimming keeps the models the pick could want, the
leaderboard is sorted in the pick's order). When those notions drift apart, the search
optimises one thing and the user gets another.

Every point (a :class:`~fairautoml.study.trial.TrialResult` or a leaderboard row: both have
``status``, ``violation``, ``robust_violation`` and the task's two diagnostics, its
*usefulness* and its *spread*) falls in one *tier*; the pick is the best metric of the
highest tier present. What "useful" and "constant" mean is the task's
(:meth:`fairautoml.tasks.Task.pick_policy`): for yes/no decisions usefulness is balanced
accuracy (0.5 for a constant rule) and a constant model selects everyone or no one; for
amounts it is R² (0 for predicting the mean) and a constant model predicts one amount.
Below, the binary words. From the top:

* ``ROBUST``: meets every constraint on validation, at the unfavourable end of its
  bootstrap interval too (``robust_violation <= 0``: the interval widens where groups
  are small and shrinks where they are large, so the margin follows the sampling noise),
  and is *useful*: its validation balanced accuracy reaches ``min_balanced_accuracy`` and
  it is not constant. Without ``robust`` (FairAutoML's ``confidence=None``) the interval
  is not asked for, and every useful feasible point is in this tier.
* ``FEASIBLE``: useful and meets the constraints on validation, but not at the end of its
  interval. Picked only when no point is robust, with a warning that says so (the
  intervals are in ``best_config_``). Then the margin is lowered step by step, in units of
  each point's own sampling noise (its ``assurance``: by how many standard errors every
  constraint holds), to one-sided confidence 80%, 70%, 60%, 50% (:data:`LADDER`): the
  pick is the most accurate point at the highest step any useful point reaches. Taking
  the most accurate feasible point outright would take the luckiest of many on small
  data; taking the safest would favour the models whose rates hardly move.
* ``WEAK``: meets the constraints, but is near-constant (balanced accuracy below
  ``min_balanced_accuracy``): picked, with a warning, only when nothing useful does.
  The floor rises with what is within reach (:meth:`PickPolicy.raised`): a model keeping
  less than half the discrimination (balanced accuracy above 0.5) of the best model that
  meets the constraints on validation is weak too. A confident pick is otherwise drawn
  to weak models, whose rates move least under resampling.
* ``CONSTANT``: one class for every validation row; meets parity constraints trivially.
* ``INFEASIBLE``: misses a constraint on validation (ranked by least violation).
* ``FAILED``: no result.

Within a tier a *confirmed* point (``confirmed``: measured again after the search, on every
row by cross-validation or trained on every training row, :mod:`fairautoml.search.confirm`) ranks
before the unconfirmed ones: it was measured on four times the rows, and what still ranks
above it on the validation rows mostly owes it to the noise of those rows (the confirmed
models are, first, the pick's most accurate challenger and the pick's own model:
:func:`fairautoml.search.confirm.leaders`).

A missing interval (``robust_violation`` NaN) is not robust; a missing balanced accuracy
(a record from an older version) counts as useful unless the model is constant.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any, TypeVar

import pandas as pd

from fairautoml.exceptions import InfeasibleWarning, UnconfirmedFairnessWarning, WeakModelWarning

INFEASIBLE_MESSAGE = (
    "No trial met {constraints} on validation; returning the least-violating model (violation "
    "{violation:.4f}), with best_config_['feasible'] == False. {advice}"
)
UNCONFIRMED = (
    "No model met {constraints} with confidence on validation (at the pessimistic end of "
    "its bootstrap interval): the validation groups are too small to tell. Returning the "
    "most accurate model among those that meet them with the most confidence there; its "
    "values with their intervals: {intervals} (also in best_config_['constraint_intervals']); "
    "by its sampling noise it holds on new data with one-sided confidence {confidence:.0%}. "
    "Check it on rows the search never saw (automl.audit(X_new, y_new, s_new)). {advice}"
)
WEAK_PICK = (
    "Only near-constant models met {constraints} on validation: the pick has balanced "
    "accuracy {balanced_accuracy:.3f} and selects {selection_rate:.1%} of rows, so it "
    "barely tells the classes apart. {advice}"
)
WEAK_PICK_REGRESSION = (
    "Only near-constant models met {constraints} on validation: the pick has R² {r2:.3f} "
    "and its predictions spread {spread:.2f} times as wide as the target's, so it barely "
    "tells rows apart. {advice}"
)

EXCLUDED, FAILED, INFEASIBLE, CONSTANT, WEAK, FEASIBLE, ROBUST = -2, -1, 0, 1, 2, 3, 4
TIER_NAMES = {
    EXCLUDED: "not deployable",
    ROBUST: "robust",
    FEASIBLE: "feasible",
    WEAK: "weak",
    CONSTANT: "constant",
    INFEASIBLE: "infeasible",
    FAILED: "failed",
}
# Balanced accuracy from which a model counts as useful: 0.5 is what a constant or random
# rule gets, so a pick below this barely tells the classes apart.
USEFUL_BALANCED_ACCURACY = 0.55
# ... and the share of the best feasible model's discrimination (balanced accuracy - 0.5)
# a useful model keeps.
USEFUL_SHARE = 0.5
CONSTANT_PENALTY = 1.0  # a constant model ranks after every other point in ``miss``
# One-sided confidence levels the pick steps down through when no point is robust.
LADDER = (0.8, 0.7, 0.6, 0.5)
_LADDER_Z = tuple(NormalDist().inv_cdf(level) for level in LADDER)

P = TypeVar("P")


def usefulness_floor(best: float, chance: float) -> float:
    """The usefulness a model must reach to keep :data:`USEFUL_SHARE` of ``best``'s
    discrimination above ``chance`` (what a constant rule scores): the floor the fit's pick
    is held to (:meth:`PickPolicy.raised`) and a re-decided cut-off is warned against."""
    return chance + USEFUL_SHARE * (best - chance)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _diagnostic(point: Any, name: str) -> float:
    """A diagnostic of a point: a TrialResult's ``diagnostics`` entry, or a leaderboard
    row's column (nan when it has none)."""
    table = getattr(point, "diagnostics", None)
    if isinstance(table, dict):
        return _number(table.get(name, math.nan))
    return _number(getattr(point, name, math.nan))


@dataclass(frozen=True)
class PickPolicy:
    """The rule for what the final pick takes (see the module docstring)."""

    robust: bool = True  # ask for the pessimistic end of the interval (confidence not None)
    min_usefulness: float = USEFUL_BALANCED_ACCURACY
    # the task's diagnostics: how well a model tells outcomes apart, and what a constant
    # model scores on it; the diagnostic whose values in ``constant_at`` mean "constant"
    usefulness: str = "balanced_accuracy"
    chance: float = 0.5
    spread: str = "selection_rate"
    constant_at: tuple[float, ...] = (0.0, 1.0)
    # the decision rules the user may deploy (mitigators.DEPLOYS of their decision_rule
    # policy; None: any), and whether randomized rules are left out: a point outside them
    # is measured, for the report's comparison of policies, but never picked
    deploys: frozenset[str] | None = None
    deterministic: bool = False
    # whether a confirmed point outranks the unconfirmed ones of its tier: it was measured
    # on every row where they were measured on the validation rows (a cross-validated
    # confirmation). Not where it is measured on the same validation rows as they are (a
    # big table's model trained again on more rows): there the metric compares them.
    confirmed_first: bool = True

    @classmethod
    def for_confidence(cls, confidence: float | None, **task: Any) -> PickPolicy:
        """The policy of FairAutoML's ``confidence`` (None: no interval asked for), with
        the task's diagnostics (``usefulness``, ``chance``, ``min_usefulness``, ``spread``,
        ``constant_at``; binary classification's by default)."""
        return cls(robust=confidence is not None, **task)

    @property
    def diagnostics(self) -> tuple[str, str]:
        """The diagnostics the policy reads (leaderboard columns): spread, usefulness."""
        return self.spread, self.usefulness

    def _useful(self, point: Any) -> float:
        return _diagnostic(point, self.usefulness)

    def _constant(self, point: Any) -> bool:
        return _diagnostic(point, self.spread) in self.constant_at

    def raised(self, points: Iterable[Any]) -> PickPolicy:
        """This policy with the usefulness floor raised to :data:`USEFUL_SHARE` of the
        discrimination of the best point among ``points`` that meets the constraints
        (feasible, not constant); never lowered."""
        best = max(
            (
                self._useful(p)
                for p in points
                if p.status == "ok"
                and _number(p.violation) <= 0
                and not self._constant(p)
                and math.isfinite(self._useful(p))
            ),
            default=math.nan,
        )
        floor = usefulness_floor(best, self.chance)
        if not floor > self.min_usefulness:
            return self
        return replace(self, min_usefulness=floor)

    def deployable(self, point: Any) -> bool:
        """Whether the user's policy lets this point's model decide (a point from an older
        record, without the columns, reads nothing of the group and draws nothing)."""
        rule = getattr(point, "decision_rule", "group_free")
        if self.deploys is not None and rule not in self.deploys:
            return False
        return not (self.deterministic and bool(getattr(point, "randomized", False)))

    def tier(self, point: Any) -> int:
        """The point's tier: :data:`ROBUST` (best) down to :data:`FAILED`, then
        :data:`EXCLUDED` (a model the policy does not deploy)."""
        if not self.deployable(point):
            return EXCLUDED
        if point.status != "ok":
            return FAILED
        if not _number(point.violation) <= 0:
            return INFEASIBLE
        if self._constant(point):
            return CONSTANT
        if self._useful(point) < self.min_usefulness:
            return WEAK
        if self.robust and not _number(point.robust_violation) <= 0:
            return FEASIBLE
        return ROBUST

    def pickable(self, point: Any) -> bool:
        """Whether the pick would take this point as it is: the top tier."""
        return self.tier(point) == ROBUST

    def miss(self, point: Any) -> float:
        """How far a point is from the top tier, for ranking points that are not in it:
        its (robust, with ``robust``) violation, plus :data:`CONSTANT_PENALTY` for a
        constant model and the balanced-accuracy shortfall for a weak one; 0 if pickable."""
        tier = self.tier(point)
        if tier == ROBUST:
            return 0.0
        if tier <= FAILED:
            return math.inf
        pessimistic = _number(point.robust_violation)
        v = pessimistic if self.robust and math.isfinite(pessimistic) else _number(point.violation)
        shortfall = self.min_usefulness - self._useful(point)
        weak = shortfall if tier == WEAK and shortfall > 0 else 0.0
        return max(v, 0.0) + weak + (CONSTANT_PENALTY if tier == CONSTANT else 0.0) + 1e-9

    def step(self, point: Any) -> int:
        """How many steps of :data:`LADDER` a point's ``assurance`` reaches (0 to 4)."""
        held = _number(getattr(point, "assurance", math.nan))
        return sum(held >= z for z in _LADDER_Z) if not math.isnan(held) else 0

    def key(self, point: Any, metric: float) -> tuple[int, bool, int, float, float]:
        """Sort key, larger is better: the tier, whether the point is confirmed (with
        ``confirmed_first``; and, among feasible points, the ladder step), then the metric
        for points that meet the constraints, or the smaller violation for those that do
        not, then the metric."""
        tier = self.tier(point)
        if tier <= FAILED:
            return (tier, False, 0, -math.inf, -math.inf)
        confirmed = self.confirmed_first and bool(getattr(point, "confirmed", False))
        step = self.step(point) if tier == FEASIBLE else 0
        score = metric if tier > INFEASIBLE else -_number(point.violation)
        return (tier, confirmed, step, score, metric if math.isfinite(metric) else -math.inf)

    def best(self, points: Iterable[P]) -> P | None:
        """The point the pick would take among ``points`` (TrialResults), None if empty."""
        return max(points, key=lambda p: self.key(p, p.metric), default=None)

    def best_pickable_metric(self, points: Iterable[Any]) -> float | None:
        """Best metric among the points the pick could take (None if none)."""
        return max((p.metric for p in points if self.pickable(p)), default=None)

    def rank(self, board: pd.DataFrame, metric: str) -> pd.DataFrame:
        """Leaderboard rows in the pick's order (the first row is the pick), with the
        ``tier`` column (its name) and ``pickable``, the usefulness floor raised by the
        board's best feasible model (:meth:`raised`)."""
        if board.empty:
            return board.assign(tier=pd.Series(dtype=object), pickable=pd.Series(dtype=bool))
        rows = list(board.itertuples(index=False))
        policy = self.raised(rows)
        metric_at = list(board.columns).index(metric)
        keys = [policy.key(row, _number(row[metric_at])) for row in rows]
        order = sorted(range(len(rows)), key=lambda i: (keys[i], -int(rows[i].trial)), reverse=True)
        ranked = board.iloc[order].reset_index(drop=True)
        tiers = [keys[i][0] for i in order]
        ranked["tier"] = [TIER_NAMES[t] for t in tiers]
        ranked["pickable"] = [t == ROBUST for t in tiers]
        return ranked


def select_trial(board: pd.DataFrame, metric: str, policy: PickPolicy) -> tuple[int, str]:
    """Trial number of the pick and its tier's name, from leaderboard rows (ranked by
    ``policy`` unless they already are: a :func:`~fairautoml.study.leaderboard.leaderboard_frame`
    carries its ``tier`` column)."""
    ranked = board if "tier" in board.columns else policy.rank(board, metric)
    row = ranked.iloc[0]
    return int(row["trial"]), str(row["tier"])


@dataclass(frozen=True)
class Advice:
    """What a user who got a weak, unconfirmed or infeasible pick has not tried yet: only
    those steps go into the warning (advising what was already done misleads)."""

    mitigators_restricted: bool = False  # the user named the mitigators
    holdout: bool = True  # validated on a holdout, not by cross-validation
    policy: str = "group_free"  # the decision_rule the pick deployed
    deterministic: bool = False
    # whether another policy's rules could be deployed (not where the groups were
    # membership probabilities: no group to decide with, none to train a proxy on)
    other_rules: bool = True

    def words(self, unconfirmed: bool = False) -> str:
        steps = ["loosen the bound", "raise time_budget (or n_trials)"]
        if self.mitigators_restricted:
            steps.append("search every mitigator (mitigators=None)")
        if self.deterministic:
            steps.append("allow randomized rules (deterministic=False), if they are acceptable")
        if self.policy != "group_aware" and self.other_rules:
            wider = "'proxy' or 'group_aware'" if self.policy == "group_free" else "'group_aware'"
            steps.append(
                f"deploy more kinds of rule (decision_rule={wider}), only where lawful: the "
                "report shows what each would have given"
            )
        if unconfirmed and self.holdout:
            steps.append("validate by cross-validation (cv_folds=5): four times the rows")
        if unconfirmed:
            steps.append("give the search more rows")
        return "Not tried yet: " + "; ".join(steps) + "."


def pick_caveat(
    row: pd.Series, constraints: Sequence[Any], advice: Advice | None = None
) -> tuple[type[Warning], str] | None:
    """Why a pick (its leaderboard row) is not one that meets the constraints with
    confidence, as (warning category, message); None for a robust pick. ``advice``: what
    the user has not tried yet (default: nothing known of the fit)."""
    advice = advice or Advice()
    tier = str(row["tier"])
    rule = ", ".join(map(str, constraints)) or "the constraints"
    if tier == TIER_NAMES[FEASIBLE]:
        intervals = "; ".join(
            f"{c.key} {_number(row.get(c.key)):.4f} "
            f"[{_number(row.get(f'{c.key}_low')):.4f}, "
            f"{_number(row.get(f'{c.key}_high')):.4f}]"
            for c in constraints
        )
        held = _number(row.get("assurance"))
        confidence = NormalDist().cdf(held) if math.isfinite(held) else math.nan
        message = UNCONFIRMED.format(
            constraints=rule, intervals=intervals or "n/a", confidence=confidence,
            advice=advice.words(unconfirmed=True),
        )  # fmt: skip
        return UnconfirmedFairnessWarning, message
    if tier in (TIER_NAMES[WEAK], TIER_NAMES[CONSTANT]):
        if "balanced_accuracy" in row.index:
            message = WEAK_PICK.format(
                constraints=rule,
                balanced_accuracy=_number(row.get("balanced_accuracy")),
                selection_rate=_number(row.get("selection_rate")),
                advice=advice.words(),
            )
        else:
            message = WEAK_PICK_REGRESSION.format(
                constraints=rule,
                r2=_number(row.get("r2")),
                spread=_number(row.get("prediction_spread")),
                advice=advice.words(),
            )
        return WeakModelWarning, message
    if tier == TIER_NAMES[INFEASIBLE]:
        message = INFEASIBLE_MESSAGE.format(
            constraints=rule, violation=_number(row.get("violation")), advice=advice.words()
        )
        return InfeasibleWarning, message
    return None


def warn_about_pick(
    row: pd.Series, constraints: Sequence[Any], stacklevel: int = 3, advice: Advice | None = None
) -> None:
    """Say, never silently, why a pick is not one that meets the constraints with
    confidence (:func:`pick_caveat`)."""
    caveat = pick_caveat(row, constraints, advice)
    if caveat is not None:
        category, message = caveat
        warnings.warn(message, category, stacklevel=stacklevel)


# --- the headline word ------------------------------------------------------------------------
# One small vocabulary for what the evidence says of the rule, the same in `fit`'s card, the
# report, `best_config_["verdict"]` and the JSON files (defined in docs/glossary.md):
FAIR = "FAIR"  # every constraint holds at the unfavourable end of its interval
LIKELY_FAIR = "LIKELY FAIR"  # every constraint holds as measured, not at the interval's end
CANNOT_TELL = "CANNOT TELL"  # a constraint is missed as measured, but within its interval
NOT_FAIR = "NOT FAIR"  # a constraint is missed even at the favourable end of its interval
NO_RULE = "NO RULE"  # no constraint was asked for
VERDICT_WORDS = (FAIR, LIKELY_FAIR, CANNOT_TELL, NOT_FAIR, NO_RULE)

# `fairautoml fit`'s exit status for each word (2 is bad input, as for every command); a
# pick that meets the rule only by being near-constant exits WEAK_PICK_EXIT whatever its word
EXIT_STATUS = {FAIR: 0, NO_RULE: 0, LIKELY_FAIR: 3, CANNOT_TELL: 1, NOT_FAIR: 1}
WEAK_PICK_EXIT = 4
# the exit statuses of a fit that ended with a verdict (2: bad input, no verdict)
VERDICT_EXITS = frozenset({*EXIT_STATUS.values(), WEAK_PICK_EXIT})


def verdict_word(constraints: Sequence[Any], cfg: dict[str, Any]) -> str:
    """The word for a pick's evidence (``best_config_``): its point values, and the ends of
    its intervals (the level of ``cfg["interval_level"]``)."""
    if not constraints:
        return NO_RULE
    if cfg["robust"]:
        return FAIR
    if cfg["feasible"]:
        return LIKELY_FAIR
    intervals = cfg.get("constraint_intervals") or {}
    for c in constraints:
        ends = [_number(x) for x in intervals.get(c.key, ())]
        whole = len(ends) == 2 and not any(math.isnan(x) for x in ends)
        if whole and min(c.violation(x) for x in ends) > 0:  # beyond the bound at both ends
            return NOT_FAIR
    return CANNOT_TELL


def exit_status(word: str, tier: str) -> int:
    """``fairautoml fit``'s exit status (documented in docs/cli.md)."""
    if tier in (TIER_NAMES[WEAK], TIER_NAMES[CONSTANT]) and word in (FAIR, LIKELY_FAIR):
        return WEAK_PICK_EXIT
    return EXIT_STATUS[word]


def policy_for(
    task: Any,
    confidence: float | str | None,
    deploys: frozenset[str] | None = None,
    deterministic: bool = False,
) -> PickPolicy:
    """The pick policy of ``task`` (a :class:`~fairautoml.tasks.Task`: its usefulness,
    chance level, spread and constant values) at FairAutoML's ``confidence``, taking only
    the decision rules the user deploys (``deploys``; None: any), deterministic ones only
    with ``deterministic``."""
    return PickPolicy.for_confidence(
        task.confidence(confidence),
        deploys=deploys,
        deterministic=deterministic,
        min_usefulness=task.min_usefulness,
        usefulness=task.usefulness,
        chance=task.chance,
        spread=task.spread,
        constant_at=task.constant_at,
    )
