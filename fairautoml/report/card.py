"""The verdict card: is the chosen model fair, on which rows, how sure, and what it cost.

One :class:`Verdict` is computed from a fitted estimator (and, when given, the data it was
fitted on); ``fairautoml fit`` prints it (:func:`verdict_lines`) and the report page shows
it first (:func:`verdict_html`), so the two cannot disagree. Each section is one small
function. Wording, the same everywhere: a bootstrap or Wilson interval is an "N%
interval" (central); how sure the pick meets its constraints is a "one-sided confidence
N%", read off its ``assurance`` (how many standard errors of room every constraint has)
through the normal distribution.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from statistics import NormalDist
from typing import Any

from fairautoml.estimators.params import decision_rule_policy
from fairautoml.estimators.summary import FitSummary
from fairautoml.measures.constraints import parse_constraint
from fairautoml.measures.group_tables import wilson_interval
from fairautoml.report.baselines import ImpactRatio, impact_ratios, trivial_baselines
from fairautoml.report.evidence import context, evidence_rows, report_predictions
from fairautoml.report.messages import (
    VERDICT_GROUP_PROBABILITIES,
    VERDICT_GROUPS_EXCLUDED,
    VERDICT_GROUPS_INFERRED,
    VERDICT_GROUPS_POORLY_INFERRED,
    VERDICT_RANDOMIZED,
    VERDICT_READS_GROUP,
    VERDICT_SIDE_EFFECT,
)
from fairautoml.report.policy_costs import POLICY_WORDS, best_by_policy, costlier_policies
from fairautoml.search.confirm import CROSS_VALIDATED
from fairautoml.study.pick import CANNOT_TELL, FAIR, LIKELY_FAIR, NOT_FAIR, verdict_word
from fairautoml.study.storage import data_fingerprint
from fairautoml.tasks import get_task

PROPORTION_METRICS = ("accuracy",)  # a share of rows: a Wilson interval fits it
CARD_CLASS = {FAIR: "fair", NOT_FAIR: "unfair"}  # the card's border: green, red, else amber


@dataclass(frozen=True)
class Verdict:
    """What the card says; every field is plain data, rendered as text or HTML."""

    model: str
    word: str  # FAIR, LIKELY FAIR, CANNOT TELL, NOT FAIR (selection.verdict_word)
    claims: tuple[str, ...]  # one per constraint: value, bound, interval
    rows: str  # which rows the claims and the score are measured on
    confidence: float | None  # one-sided, that every constraint holds on new rows
    metric: str
    score: float
    score_interval: tuple[float, float] | None
    level: float  # of every interval on the card
    cost: float | None  # best unconstrained score found minus the pick's
    best_unconstrained: str | None  # that model's description
    other_gaps: dict[str, float] | None  # unconstrained common metrics (None: not checked)
    other_rows: str  # the rows they are measured on
    other_rules: tuple[str, ...]  # what they are checked against (the task's side effects)
    baselines: tuple[tuple[str, float], ...]  # trivial models' metric on the same rows
    impact: tuple[ImpactRatio, ...]  # each attribute's impact ratio on the same rows
    decision_rule: str  # the pick's rule: what it reads of the group, and whether it draws
    policy_notes: tuple[str, ...]  # other policies' best models, where they differ
    warnings: tuple[str, ...]
    footer: str


def compute_verdict(
    automl: Any, data: tuple[Any, Any, Any] | None = None, *, ctx: Any = None
) -> Verdict:
    """The card of a fitted ``FairAutoML``; ``data`` is ``(X, y, sensitive_features)`` as
    given to ``fit`` (without it: no score interval, no side-effect check, no fingerprint).
    ``ctx``: the search's data and split already rebuilt from ``data``
    (:func:`~fairautoml.report.evidence.context`), so the page does not rebuild them twice.
    """
    pick, metric = automl.fit_summary_, automl.metric_
    if ctx is None:
        ctx, _ = context(automl, data)
    cost, best = _cost(automl)
    gaps = None if ctx is None else side_effect_gaps(automl, ctx, data)
    return Verdict(
        model=pick.model,
        word=pick.verdict or verdict_word(automl.constraints_, automl.best_config_),
        claims=_claims(automl),
        rows=_rows(automl, ctx) + weighted_words(pick.sample_weight) + shift_words(pick.shift),
        confidence=_confidence(pick.assurance),
        metric=metric,
        score=float(pick.score),
        score_interval=_score_interval(
            float(pick.score), metric, _measured_rows(automl, ctx), pick.interval_level
        ),
        level=float(pick.interval_level),
        cost=cost,
        best_unconstrained=best,
        other_gaps=gaps,
        other_rows="" if ctx is None else _report_rows(automl, ctx),
        other_rules=tuple(
            rule
            for rule in _side_effect_rules(automl)
            if gaps is None or parse_constraint(rule).metric in gaps
        ),
        baselines=() if ctx is None else tuple(trivial_baselines(automl, ctx, data)),
        impact=() if ctx is None else tuple(impact_ratios(automl, ctx, data)),
        decision_rule=_decision_rule(automl),
        policy_notes=tuple(costlier_policies(best_by_policy(automl), _measured_rows(automl, ctx))),
        warnings=tuple(_warnings(automl, ctx, gaps or {})),
        footer=_footer(ctx),
    )


def _decision_rule(automl: Any) -> str:
    """The pick's decision rule and the policy it was chosen under, in words."""
    pick, board = automl.fit_summary_, automl.leaderboard_
    row = board[board["trial"] == pick.trial]
    rule = str(row["decision_rule"].iloc[0]) if "decision_rule" in board and len(row) else "?"
    policy = decision_rule_policy(automl.get_params())
    drawn = "randomized near its cut-off" if pick.randomized else "deterministic"
    only = ", randomized rules left out" if automl.get_params().get("deterministic") else ""
    return (
        f"{rule} ({POLICY_WORDS.get(rule, rule)}), {drawn}; chosen under "
        f"decision_rule={policy!r}{only}"
    )


def _claims(automl: Any) -> tuple[str, ...]:
    """Each constraint with its value and its interval, as measured by the search."""
    pick, claims = automl.fit_summary_, []
    for c in automl.constraints_:
        value = pick.constraint_values[c.key]
        low, high = pick.constraint_intervals.get(c.key, (math.nan, math.nan))
        word = "meets" if c.violation(value) <= 0 else "misses"
        claims.append(
            f"{word} {c.label} {c.op} {c.bound:g}: {value:.3f} "
            f"({pick.interval_level:.0%} interval [{low:.3f}, {high:.3f}])"
        )
    return tuple(claims)


def _rows(automl: Any, ctx: Any) -> str:
    """Which rows the pick's numbers were measured on, in words."""
    if ctx is not None and ctx.cv_folds:
        k = len(ctx.cv_folds)
        return f"all {len(ctx.data.y):,} rows ({k}-fold cross-validation)"
    if automl.fit_summary_.confirmation == CROSS_VALIDATED:
        n = "" if ctx is None else f"{len(ctx.data.y):,} "
        return f"all {n}rows (cross-validated after the search)"
    if ctx is None:
        return "the validation rows"
    return f"the {len(ctx.val_idx):,} validation rows (held out from training)"


def weighted_words(weight: dict[str, Any] | None) -> str:
    """ ", weighted by ..." for a fit's ``sample_weight`` record (empty: unweighted)."""
    if not weight:
        return ""
    column = f"column {weight['column']!r}" if weight.get("column") else "sample_weight"
    return f", each row weighted by {column} (total weight {weight['total']:,.6g})"


def shift_words(shift: dict[str, Any] | None) -> str:
    """ ", reweighted to ..." for a fit aimed at ``target_X`` (empty: the fit's own rows)."""
    if not shift:
        return ""
    return (
        f", reweighted to stand for the {shift['target_rows']:,} target rows (target_X; "
        f"worth {shift['effective_rows']:,.0f} rows, the effective sample size)"
        f"{robust_shift_words(shift)}"
    )


def robust_shift_words(shift: dict[str, Any] | None) -> str:
    """ "; each fairness value the worst case over ..." for a fit with ``shift_robust``
    (empty otherwise): the set of reweightings the claim holds for, listed."""
    robust = (shift or {}).get("robust")
    if not robust:
        return ""
    powers = ", ".join(f"{t:g}" for t in robust["powers"])
    worth = ", ".join(f"{e:,.0f}" for e in robust["effective_rows"])
    return (
        f"; each fairness value and interval is the worst case over {len(robust['powers'])} "
        f"reweightings, the importance weights' density ratio raised to {powers} (0: the "
        "fit's own rows; 1: the target as estimated; above 1: a shift beyond it), worth "
        f"{worth} rows; the metric is for the target as estimated"
    )


def _measured_rows(automl: Any, ctx: Any) -> int | None:
    """How many rows the pick's numbers were measured on (None: unknown without data)."""
    if ctx is None:
        return None
    if ctx.cv_folds or automl.fit_summary_.confirmation == CROSS_VALIDATED:
        return len(ctx.data.y)
    return len(ctx.val_idx)


def _report_rows(automl: Any, ctx: Any) -> str:
    """The rows the page's per-group rates and gaps are on: the pick's evidence, or for a
    model saved before it kept it, the saved model on the validation rows."""
    if getattr(automl, "evidence_", None) is not None:
        return evidence_rows(automl, ctx)
    n = len(ctx.val_idx)
    if ctx.cv_folds:
        return f"all {n:,} rows (the saved model was trained on them)"
    pick = automl.fit_summary_
    if pick.confirmation == CROSS_VALIDATED:
        return f"the {n:,} validation rows (the saved fold models trained on most of them)"
    if pick.refitted:
        return f"the {n:,} validation rows (the saved model was retrained on them)"
    return f"the {n:,} validation rows"


def _confidence(assurance: Any) -> float | None:
    """One-sided confidence that every constraint holds on new rows: the normal
    distribution at the pick's assurance (None when it has no interval or no constraint)."""
    if assurance is None or not math.isfinite(float(assurance)):
        return None
    return NormalDist().cdf(float(assurance))


def _score_interval(
    score: float, metric: str, n_rows: int | None, level: float
) -> tuple[float, float] | None:
    """A Wilson interval of the pick's score over the rows it was measured on (a metric
    that is a share of rows only)."""
    if metric not in PROPORTION_METRICS or not n_rows:
        return None
    low, high = wilson_interval(round(score * n_rows), n_rows, level)
    return float(low), float(high)


def _cost(automl: Any) -> tuple[float | None, str | None]:
    """The best score an unmitigated model of the search reached (no fairness mitigation,
    no post-processing: the unconstrained model), minus the pick's: what the constraints
    cost, as the search measured both, on the same rows."""
    board = automl.leaderboard_
    plain = (board["mitigator"] == "none") & (board["post"] == "none")
    ok = board[(board["status"] == "ok") & plain].dropna(subset=[automl.metric_])
    if ok.empty:
        return None, None
    best = ok.loc[ok[automl.metric_].idxmax()]
    parts = [best["learner"], *(best[k] for k in ("mitigator", "post") if best[k] != "none")]
    description = f"{' + '.join(map(str, parts))}, {automl.metric_} {best[automl.metric_]:.4f}"
    cost = float(best[automl.metric_]) - float(automl.fit_summary_.score)
    return max(cost, 0.0), description


def _side_effect_rules(automl: Any) -> tuple[str, ...]:
    """The common fairness constraints of the fit's task a pick is checked against."""
    return get_task(automl.fit_summary_.task).side_effects


def side_effect_gaps(automl: Any, ctx: Any, data: Any) -> dict[str, float]:
    """The pick's value of each of its task's common fairness metrics it was not
    constrained on, on the report's rows (one a constraint asks for, or whose group rates
    a constraint already compares, is left out)."""
    if ctx is None:
        return {}
    asked = {c.metric for c in automl.constraints_}
    covered = {rate for c in automl.constraints_ for rate in c.rates}
    y_true, y_pred, groups = report_predictions(automl, ctx, data)
    gaps = {}
    for rule in ctx.task.side_effects:  # measured as the fit's task measures them
        (c,) = ctx.task.bind_target(
            ctx.task.check_constraints([parse_constraint(rule)]), ctx.data.classes,
            getattr(automl, "pos_label", None),
        )  # fmt: skip
        if c.metric in asked or (c.rates and set(c.rates) <= covered):
            continue
        value = float(c.value(y_true, y_pred, groups))
        if math.isfinite(value):
            gaps[c.metric] = value
    return gaps


def _warnings(automl: Any, ctx: Any, gaps: dict[str, float]) -> list[str]:
    """What a reviewer must know before deploying the pick."""
    pick, found = automl.fit_summary_, []
    if pick.needs_group_at_predict:
        found.append(VERDICT_READS_GROUP)
    rules = {c.metric: c for c in map(parse_constraint, _side_effect_rules(automl))}
    for name, value in gaps.items():
        if rules[name].violation(value) > 0:
            asked = ", ".join(c.label for c in automl.constraints_)
            found.append(
                VERDICT_SIDE_EFFECT.format(
                    asked=asked or "no constraint",
                    metric=name.replace("_", " "),
                    value=value,
                    rule=str(rules[name]),
                    rows=_report_rows(automl, ctx),
                )
            )
    board = automl.leaderboard_
    chosen = board[board["trial"] == pick.trial]
    if "randomized" in board and not chosen.empty and bool(chosen["randomized"].iloc[0]):
        found.append(VERDICT_RANDOMIZED)
    found += _missing_group_warnings(pick)
    return found


def _missing_group_warnings(pick: FitSummary) -> list[str]:
    """What the fairness claim rests on when some rows had no group, or every row only
    probabilities of each group."""
    if pick.group_probabilities:
        groups = ", ".join(map(str, pick.group_probabilities.get("groups", [])))
        return [VERDICT_GROUP_PROBABILITIES.format(groups=groups)]
    n_unknown = pick.n_unknown_group or 0
    if not n_unknown:
        return []
    if pick.missing_groups == "exclude":
        return [VERDICT_GROUPS_EXCLUDED.format(n=n_unknown)]
    quality = pick.group_inference or {}
    if quality.get("measured_on") == "known rows":
        return [
            VERDICT_GROUPS_POORLY_INFERRED.format(
                n=n_unknown, balanced=quality["balanced_accuracy"]
            )
        ]
    return [
        VERDICT_GROUPS_INFERRED.format(
            n=n_unknown,
            balanced=quality.get("balanced_accuracy", float("nan")),
            shares=", ".join(
                f"{group} {share:.0%}" for group, share in quality.get("unknown_shares", {}).items()
            )
            or "unknown",
        )
    ]


def _footer(ctx: Any) -> str:
    """Version, date and data fingerprint: what a model-risk file records."""
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    text = f"fairautoml {version('fairautoml')}, {today}"
    if ctx is None:
        return text + ", data fingerprint unknown (the data were not given)"
    fingerprint = data_fingerprint(ctx.data.X, ctx.data.y, ctx.data.groups)
    return text + f", data fingerprint {fingerprint} ({len(ctx.data.y):,} rows)"


# --- rendering -----------------------------------------------------------------------------


def _fairness(v: Verdict) -> str:
    claims = "; ".join(v.claims) or "no constraint was asked for"
    return f"{v.word}{_word_note(v)} on {v.rows}: {claims}"


def _word_note(v: Verdict) -> str:
    """What the word rests on, where it is not a confident yes."""
    level = f"{v.level:.0%} interval"
    if v.word == LIKELY_FAIR:
        return f" (met as measured, not at the unfavourable end of its {level}: not confirmed)"
    if v.word == CANNOT_TELL:
        return f" (missed as measured, but within its {level})"
    if v.word == NOT_FAIR:
        return f" (missed at both ends of its {level})"
    return ""


def _sureness(v: Verdict) -> str:
    if v.confidence is None:
        return "unknown (no interval for a constraint, or no constraint)"
    return f"one-sided confidence {v.confidence:.0%} that every constraint holds on new rows"


def _score(v: Verdict) -> str:
    interval = (
        f" ({v.level:.0%} interval [{v.score_interval[0]:.3f}, {v.score_interval[1]:.3f}])"
        if v.score_interval is not None
        else ""
    )
    return f"{v.score:.4f}{interval}, on the same rows"


def _cost_text(v: Verdict) -> str:
    if v.cost is None:
        return "unknown (no model of the search was scored)"
    if v.cost == 0:
        return "none: no unmitigated model the search found scored higher"
    points = (
        f"about {100 * v.cost:.1f} points" if v.metric in PROPORTION_METRICS else f"{v.cost:.4f}"
    )
    return (
        f"{points} of {v.metric} against the most accurate unconstrained model the search "
        f"found ({v.best_unconstrained}: no mitigation, no post-processing), on the same "
        "rows (no interval: that model is not kept)"
    )


def _baselines(v: Verdict) -> str:
    if not v.baselines:
        return "not computed (the data were not given)"
    values = "; ".join(f"{what}: {value:.4f}" for what, value in v.baselines)
    return f"{values} ({v.metric.replace('_', ' ')}, on the same rows)"


def _impact(v: Verdict) -> str:
    if not v.impact:
        return (
            "not computed (amounts, several classes with no favourable class given: "
            "pos_label, or the data were not given)"
        )
    parts = []
    for r in v.impact:
        (low, lr), (high, hr) = r.lowest, r.highest
        flag = ": BELOW FOUR-FIFTHS (0.8)" if r.below_four_fifths else ""
        parts.append(
            f"{r.attribute} {r.ratio:.2f} ({low} selected at {lr:.3f}, {high} at {hr:.3f}){flag}"
        )
    return "; ".join(parts) + " (lowest over highest selection rate, on the same rows)"


def _policies(v: Verdict) -> str:
    if not v.policy_notes:
        return "no other policy's model meets the rule within the noise of the pick or above it"
    return "; ".join(v.policy_notes)


def _other_metrics(v: Verdict) -> str:
    if v.other_gaps is None:
        return "not checked (the data were not given)"
    if not v.other_gaps:
        return "none left unconstrained"
    values = ", ".join(f"{k.replace('_', ' ')} {x:.3f}" for k, x in v.other_gaps.items())
    return f"{values} on {v.other_rows}; a warning when one misses {', '.join(v.other_rules)}"


def card_rows(v: Verdict) -> list[tuple[str, str]]:
    """The card's questions and answers, in order: what both renderings show."""
    return [
        ("Fairness", _fairness(v)),
        ("How sure", _sureness(v)),
        (v.metric.replace("_", " ").capitalize(), _score(v)),
        ("Cost of fairness", _cost_text(v)),
        ("Baseline", _baselines(v)),
        ("Impact ratio", _impact(v)),
        ("Decision rule", v.decision_rule),
        ("Other policies", _policies(v)),
        ("Other fairness gaps", _other_metrics(v)),
    ]


def verdict_lines(v: Verdict) -> list[str]:
    """The card as plain lines (``fairautoml fit``'s summary starts with them)."""
    lines = [f"{label}: {text}" for label, text in card_rows(v)]
    lines += [f"WARNING: {w}" for w in v.warnings]
    return [*lines, v.footer]


def verdict_html(v: Verdict) -> str:
    """The card as an HTML block (the report page's first section)."""
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(text)}</td></tr>"
        for label, text in card_rows(v)
    )
    box = (
        '<div class="warnings"><b>Warnings</b><ul>'
        + "".join(f"<li>{html.escape(w)}</li>" for w in v.warnings)
        + "</ul></div>"
        if v.warnings
        else ""
    )
    return (
        f'<div class="card {CARD_CLASS.get(v.word, "unsure")}"><table class="verdict">{rows}'
        f'</table>{box}<p class="footer">{html.escape(v.footer)}</p></div>'
    )


__all__ = [
    "Verdict",
    "card_rows",
    "compute_verdict",
    "side_effect_gaps",
    "verdict_html",
    "verdict_lines",
]
