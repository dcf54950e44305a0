"""What each decision-rule policy costs, read off one search's leaderboard.

The search measures the post-processing of every policy on the same trained models
(:func:`fairautoml.estimators.params.search_domain`), so for each policy (``group_free``, ``proxy``,
``group_aware``), randomized rules allowed or not, the leaderboard holds the model that
policy's pick would take: the pick's own ranking (:class:`~fairautoml.study.pick.PickPolicy`)
with that policy's ``deploys``. The report shows them side by side, and the card says
when a policy the user did not choose would be more accurate beyond the noise.

The other policies' models were measured on the same rows as the pick, but only the
pick's policy steered the search (its in-processing, its confirmation), so their numbers
are what this search happened to find for them: a floor, not their best.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fairautoml.estimators.params import decision_rule_policy
from fairautoml.mitigators import DECISION_RULES, DEPLOYS
from fairautoml.study.kinds import kind_of
from fairautoml.study.pick import EXCLUDED, FAILED, TIER_NAMES, policy_for, verdict_word
from fairautoml.tasks import get_task

POLICY_WORDS = {
    "group_free": "no group and no estimate of it enters a decision",
    "proxy": "a cut-off per group estimated from the features",
    "group_aware": "rules on the true group, read at predict time",
}
NOISE_SE = 2.0  # standard errors of a difference of two accuracies: within them, a tie


@dataclass(frozen=True)
class PolicyBest:
    """The model one policy's pick would take from the search's leaderboard."""

    policy: str
    deterministic: bool
    trial: int | None  # None: the search measured no model of this policy
    model: str
    score: float
    word: str
    confirmed: bool
    chosen: bool  # the user's policy: the pick itself


def _describe(row: pd.Series) -> str:
    learner = str(row["learner"])  # a composite names its members, from the params column
    parts = [kind_of(learner).describe(learner, json.loads(row["params"]))]
    parts += [str(row[k]) for k in ("mitigator", "post") if row[k] != "none"]
    return " + ".join(parts)


def best_by_policy(automl: Any) -> list[PolicyBest]:
    """For each policy, randomized rules allowed then not, the model its pick would take
    among the search's leaderboard rows."""
    metric, params = automl.metric_, automl.get_params()
    task = get_task(automl.fit_summary_.task)
    mine = (decision_rule_policy(params), bool(params.get("deterministic", False)))
    board = automl.leaderboard_.drop(columns=["tier", "pickable"], errors="ignore")
    out = []
    for policy in DECISION_RULES:
        for deterministic in (False, True):
            ranking = policy_for(task, automl.confidence, DEPLOYS[policy], deterministic)
            ranked = ranking.rank(board, metric)
            top = ranked.iloc[0] if len(ranked) else None
            usable = top is not None and top["tier"] not in (
                TIER_NAMES[EXCLUDED],
                TIER_NAMES[FAILED],
            )
            out.append(_entry(automl, policy, deterministic, top if usable else None, mine))
    return out


def _entry(automl: Any, policy: str, deterministic: bool, row: Any, mine: tuple) -> PolicyBest:
    chosen = (policy, deterministic) == mine
    if row is None:
        return PolicyBest(policy, deterministic, None, "none measured", math.nan, "", False, chosen)
    intervals = {}
    for c in automl.constraints_:
        intervals[c.key] = [row[f"{c.key}_low"], row[f"{c.key}_high"]]
    evidence = {"robust": bool(row["robust"]), "feasible": bool(row["feasible"]),
                "constraint_intervals": intervals}  # fmt: skip
    return PolicyBest(
        policy, deterministic, int(row["trial"]), _describe(row), float(row[automl.metric_]),
        verdict_word(automl.constraints_, evidence), bool(row["confirmed"]), chosen,
    )  # fmt: skip


MEETS = ("FAIR", "LIKELY FAIR")


def costlier_policies(bests: list[PolicyBest], rows: int | None) -> list[str]:
    """Lines for the card, for each other policy whose best meets the rule (FAIR or LIKELY
    FAIR): that it does where the pick does not; else whether it is more accurate than the
    pick beyond the noise of ``rows`` rows, or within it (then the pick's policy costs
    nothing measurable)."""
    pick = next((b for b in bests if b.chosen), None)
    if pick is None or pick.trial is None or not rows:
        return []
    se = math.sqrt(2 * max(pick.score * (1 - pick.score), 1e-4) / rows)
    lines = []
    for b in bests:
        if b.chosen or b.trial is None or b.deterministic != pick.deterministic:
            continue
        if b.word not in MEETS or b.policy == pick.policy or b.trial == pick.trial:
            continue  # a wider policy whose best is the pick itself says nothing new
        if pick.word not in MEETS:
            lines.append(
                f"the {b.policy} policy ({POLICY_WORDS[b.policy]}) found {b.model} at "
                f"{b.score:.4f}, {b.word}, where the pick's policy found no model that meets "
                "the rule"
            )
            continue
        gain = b.score - pick.score
        if gain > NOISE_SE * se:
            lines.append(
                f"the {b.policy} policy ({POLICY_WORDS[b.policy]}) found {b.model} at "
                f"{b.score:.4f} ({b.word}), {100 * gain:.1f} points above the pick, beyond "
                "the noise of these rows"
            )
        elif gain > -NOISE_SE * se:
            lines.append(
                f"the {b.policy} policy's best ({b.model}, {b.score:.4f}, {b.word}) is within "
                "the noise of the pick: the pick's policy costs nothing measurable here"
            )
    return lines
