"""Replay pick rules on every point of real searches, each point scored on the test rows.

    python -m benchmarks.scripts.pick_replay run [--cells adult/eo05 ...] [--seeds 1 2] [--out DIR]
                                          [--blind]
    python -m benchmarks.scripts.pick_replay report [--out DIR]

``run``: for each cell (the bench's frontier split: 60/20/20 per seed, the default
``FairAutoML`` fitted on train + validation for 30 s or ``--budget`` seconds, one thread)
every trained point the search measured is kept with its model (the in-memory trimming is
switched off), and its validation record (tier inputs: violation, assurance, balanced
accuracy, selection rate, accuracy; whether it was confirmed on every row after the search
and which trial trained its model) is written beside its test accuracy, test violation and
noise floor to ``results/pick_replay/points-CELL.jsonl.gz`` (one line per point; a
finished search is skipped on the next run). The diagnostics recorded are those the task's
pick policy reads (:func:`columns`; binary: balanced accuracy and selection rate;
multiclass, the cells of :data:`MULTICLASS_CELLS`: balanced accuracy adjusted for chance
and the most predicted class's share), with the task and whether the point is an ensemble.
``--blind``: the search fits with ``sensitive_at_predict=False`` and every point is scored
on test without the group, as the bench's blind cells are.

``report``: applies pick rules to the same leaderboards and writes
``results/pick_replay/report.md``: per rule and cell, how many picks are within bound on
test (+ 0.01, as the bench counts) and their mean test accuracy. The rules differ only in
how the pick treats the sampling noise of the validation rows; each is a function of the
recorded validation columns, so the comparison is paired (same searches, same points).
The ``policy, ...`` rules run the shipped pick policy itself and differ in how they treat
confirmed points; they need searches recorded with confirmation (``--out
results/pick_replay/confirmed``; the searches in ``results/pick_replay`` predate it).
Multiclass and regression points (``--out results/pick_replay/multiclass``, or
``regression``: test R² in place of accuracy) get issue 42's report
(:func:`multiclass_report`): target (a) per rule in the cells whose noise floor allows it,
with the paired accuracy difference against the shipped policy.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import time
from pathlib import Path
from statistics import NormalDist
from unittest.mock import patch

import numpy as np
import pandas as pd

from fairautoml.study.pick import INFEASIBLE, policy_for

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "results" / "pick_replay"
NOPROXY = {"name": "adult_noproxy", "bundled": "adult", "drop": ["relationship", "marital-status"]}
CELLS = {
    "adult/dp05": ("adult", "demographic_parity_difference <= 0.05"),
    "adult/eo05": ("adult", "equalized_odds_difference <= 0.05"),
    "adult/eo02": ("adult", "equalized_odds_difference <= 0.02"),
    "compas/dp05": ("compas", "demographic_parity_difference <= 0.05"),
    "compas/eo05": ("compas", "equalized_odds_difference <= 0.05"),
    "german/dp05": ("german", "demographic_parity_difference <= 0.05"),
    "german/eo05": ("german", "equalized_odds_difference <= 0.05"),
    "dutch/eo02": ("dutch", "equalized_odds_difference <= 0.02"),
    "dutch/eo05": ("dutch", "equalized_odds_difference <= 0.05"),
    "dutch/dp05": ("dutch", "demographic_parity_difference <= 0.05"),
    "adult_noproxy/dp05": (NOPROXY, "demographic_parity_difference <= 0.05"),
    "adult_noproxy/eo05": (NOPROXY, "equalized_odds_difference <= 0.05"),
}
# issue 42's multiclass cells whose noise floor allows target (a) (experiments/multiclass.yaml)
TIERS_SEX = {"name": "compas_tiers_sex", "bundled": "compas_tiers", "sensitive": ["sex"]}
MULTICLASS_CELLS = {
    "compas_tiers_sex/dp10": (TIERS_SEX, "demographic_parity_difference <= 0.1"),
    "cps1988_bands/dp10": ("cps1988_bands", "demographic_parity_difference <= 0.1"),
    "cps1988_bands/eo10": ("cps1988_bands", "equalized_odds_difference <= 0.1"),
    "cps1988_bands/dp05": ("cps1988_bands", "demographic_parity_difference <= 0.05"),
    "slid_bands/dp10": ("slid_bands", "demographic_parity_difference <= 0.1"),
}
# issue 38's regression cells (experiments/regression.yaml)
REGRESSION_CELLS = {
    f"{table}/{name}": (table, constraint)
    for table in ("cps1988", "slid")
    for name, constraint in (
        ("ks05", "demographic_parity_ks <= 0.05"),
        ("ks10", "demographic_parity_ks <= 0.1"),
        ("maer90", "mean_absolute_error_ratio >= 0.9"),
    )
}


def _hidden_table(table: str, how: str, share: int, women: str) -> dict:
    """A sweep dataset entry with the groups of ``share`` % of the rows hidden."""
    hide: dict = {"share": share / 100}
    if how == "mnar":
        hide.update(more_in=women, factor=3)
    return {"name": f"{table}_{how}{share}", "bundled": table, "hide_groups": hide}


# issue 60 (item 3): groups hidden for 30/70/90% of the training and validation rows, at
# random or three times as often among women, searched with missing_groups="infer" and
# group-blind rules, judged on test by the true groups (as experiments/missing_groups.yaml)
HIDDEN_CELLS = {
    f"{table}_{how}{share}/{name}": (_hidden_table(table, how, share, women), constraint)
    for table, women in (("adult", "Female"), ("dutch", "female"))
    for how in ("mar", "mnar")
    for share in (30, 70, 90)
    for name, constraint in (
        ("eo05", "equalized_odds_difference <= 0.05"),
        ("dp05", "demographic_parity_difference <= 0.05"),
    )
}
ALL_CELLS = {**CELLS, **MULTICLASS_CELLS, **REGRESSION_CELLS, **HIDDEN_CELLS}
SEEDS = (1, 2, 3, 4)
BUDGET = 30.0
TIER_INPUTS = ("status", "violation", "robust_violation", "assurance")


def columns(policy, metric: str) -> tuple[str, ...]:
    """The validation columns a point's record keeps: the tier inputs, the diagnostics the
    task's pick ``policy`` reads (binary: selection rate, balanced accuracy; multiclass:
    the most predicted class's share, balanced accuracy adjusted for chance) and the
    ``metric`` it ranks by."""
    return (*TIER_INPUTS, *policy.diagnostics, metric)


def constraint_columns(constraints) -> tuple[str, ...]:
    """Each constraint's validation value, interval and rule noise (leaderboard columns):
    what a rule needs to rebuild a point's interval with the rule's fitting noise."""
    from fairautoml.measures.constraints import parse_constraint
    from fairautoml.study.leaderboard import interval_columns, rule_noise_column

    out: list[str] = []
    for text in constraints:
        c = parse_constraint(text)
        out += [c.key, *interval_columns(c), rule_noise_column(c)]
    return tuple(out)


def task_policy(task: str = "binary"):
    """The shipped pick policy of ``task`` (FairAutoML's default ``confidence``)."""
    from fairautoml.estimators.automl import FairAutoML
    from fairautoml.tasks import get_task

    return policy_for(get_task(task), FairAutoML().confidence)


def _task_of(points: pd.DataFrame) -> str:
    """The task of recorded points (searches recorded before the column: binary)."""
    if "task" not in points:
        return "binary"
    (task,) = points["task"].fillna("binary").unique()
    return str(task)


def _cell(name: str, seed: int, budget: float = BUDGET):
    from fairautoml.bench.runner import cell_task

    dataset, constraint = ALL_CELLS[name]
    return cell_task(dataset, constraint, seed, budget, base=ROOT / "experiments")


def search(name: str, seed: int, blind: bool = False, budget: float = BUDGET) -> list[dict]:
    import fairautoml.estimators.automl as automl_module
    import fairautoml.estimators.running as running
    from fairautoml.bench.measure import noise_floor, score_on_test
    from fairautoml.study import record

    task, (X_te, y_te, s_te) = _cell(name, seed, budget)
    hidden = name in HIDDEN_CELLS  # inferred groups: searched as the sweep's fa_infer cells
    blind = blind or hidden
    kept: dict = {}

    def keep_all(evaluations, keep, policy):  # the replay needs every point's model
        kept["evaluations"] = evaluations

    X, y, s = task.trainval
    automl = automl_module.estimator_for(task.kind.name)(
        constraints=list(task.constraints),
        time_budget=task.budget,
        random_state=seed,
        n_jobs=1,
        sensitive_at_predict=not blind,
        **({"missing_groups": "infer"} if hidden else {}),
    )
    # patch.object refuses a name the module lacks: a move of the hook fails here, loudly,
    # instead of leaving the trimming on and the replay without its points
    with patch.object(running, "forget_weak_models", keep_all):
        automl.fit(X, y, sensitive_features=s)
    board = automl.leaderboard_.set_index("trial")
    kind = task.kind
    recorded = columns(policy_for(kind, automl.confidence), kind.default_metric)
    recorded += constraint_columns(task.constraints)
    rows = []
    for number, evaluation in kept["evaluations"].items():
        if evaluation.model is None or number not in board.index:
            continue
        r = board.loc[number]
        if r["status"] != "ok":
            continue
        pred = evaluation.model.predict(X_te, None if blind else s_te)
        scores = score_on_test(task.constraints, y_te, pred, s_te, kind)
        rows.append({
            "cell": name, "seed": seed, "task": kind.name, "trial": int(number),
            "tier": r["tier"], "model": evaluation.result.candidate.describe(),
            "ensemble": r["learner"] == "ensemble",
            "chosen": bool(r["chosen"]), "confirmed": bool(r["confirmed"]),
            "trained": record.derived_from(automl.study_.trials[int(number)]),
            **{c: (r[c] if c == "status" else float(r[c])) for c in recorded},
            "test_score": scores["test_score"],
            "test_accuracy": scores.get("test_accuracy", math.nan),
            "test_balanced_accuracy": scores.get("test_balanced_accuracy", math.nan),
            "test_violation": scores["test_violation"], "satisfied": scores["satisfied"],
            "test_noise_floor": (
                noise_floor(task.constraints, y_te, pred, s_te)
                if r["violation"] <= 0 or r["chosen"]
                else math.nan  # a pick is feasible on validation (a regression floor is slow)
            ),
        })  # fmt: skip
    return rows


def run(
    cells: list[str],
    seeds: list[int],
    out: Path = OUT,
    blind: bool = False,
    budget: float = BUDGET,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in cells:
        path = out / f"points-{name.replace('/', '-')}.jsonl.gz"
        done = set()
        if path.exists():
            with gzip.open(path, "rt") as fh:
                done = {json.loads(line)["seed"] for line in fh}
        for seed in seeds:
            if seed in done or (name.endswith("02") and seed == 4):
                continue
            started = time.monotonic()
            rows = search(name, seed, blind, budget)
            with gzip.open(path, "at") as fh:  # one gzip member per search
                fh.writelines(json.dumps(row) + "\n" for row in rows)
            print(f"{name} seed {seed}: {len(rows)} points, {time.monotonic() - started:.0f} s",
                  flush=True)  # fmt: skip


# --- rules ----------------------------------------------------------------------------------


def _cell_summary(picks: pd.DataFrame, cell: str) -> str:
    """A cell's picks within bound / runs and their mean test accuracy ("–": none)."""
    c = picks[picks["cell"] == cell]
    return f"{int(c['satisfied'].sum())}/{len(c)} {c['acc'].mean():.3f}" if len(c) else "–"


def _z(level: float) -> float:
    return NormalDist().inv_cdf(level)


def _useful(points: pd.DataFrame) -> pd.DataFrame:
    """Feasible on validation, not constant, above the raised usefulness floor, in the
    words of the points' task's pick policy (binary: balanced accuracy and selection rate;
    multiclass: balanced accuracy adjusted for chance and the most predicted class's share)."""
    policy = task_policy(_task_of(points)).raised(points.itertuples())
    spread, usefulness = policy.diagnostics
    feasible = points[(points["violation"] <= 0) & ~points[spread].isin(policy.constant_at)]
    return feasible[feasible[usefulness] >= policy.min_usefulness]


def _metric(task: str) -> str:
    """The validation column a task's points rank by (its default metric)."""
    from fairautoml.tasks import get_task

    return get_task(task).default_metric


def _best(points: pd.DataFrame) -> pd.Series:
    """The point of the best validation metric (the first trial among equals)."""
    metric = _metric(_task_of(points))
    return points.sort_values([metric, "trial"], ascending=[False, True]).iloc[0]


def _test_score(row: pd.Series) -> float:
    """A pick's test score: accuracy for decisions, the task's metric (R²) for amounts."""
    if _task_of_row(row) == "regression":
        return float(row["test_score"])
    return float(row["test_accuracy"])


def _task_of_row(row: pd.Series) -> str:
    task = row.get("task", "binary")
    return "binary" if not isinstance(task, str) else task


def ladder_rule(required: float, ladder: tuple[float, ...]):
    """Most accurate useful point holding by ``required`` standard errors; else the most
    accurate at the highest ``ladder`` step (in standard errors) any useful point reaches."""

    def pick(points: pd.DataFrame) -> pd.Series | None:
        useful = _useful(points)
        if useful.empty:
            return None
        for z in (required, *ladder):
            ok = useful[useful["assurance"] >= z]
            if not ok.empty:
                return _best(ok)
        return _best(useful)

    return pick


def safest_rule(required: float, band: float):
    """Most accurate useful point holding by ``required`` standard errors; else the most
    accurate among those within ``band`` standard errors of the best assurance reached."""

    def pick(points: pd.DataFrame) -> pd.Series | None:
        useful = _useful(points)
        if useful.empty:
            return None
        ok = useful[useful["assurance"] >= required]
        if ok.empty:
            ok = useful[useful["assurance"] >= useful["assurance"].max() - band]
        return _best(ok)

    return pick


def widened(
    intervals: dict[str, tuple[float, float]],
    values: dict[str, float],
    noise: dict[str, float],
    level: float,
) -> dict[str, tuple[float, float]]:
    """``intervals`` (central at ``level``) with an independent standard error ``noise``
    added in quadrature on each side of the value."""
    z = NormalDist().inv_cdf((1 + level) / 2)
    out = dict(intervals)
    for key, se in noise.items():
        if key not in out or key not in values or not se > 0:
            continue
        value, (low, high) = float(values[key]), out[key]
        extra = (z * se) ** 2
        out[key] = (value - math.sqrt((value - low) ** 2 + extra),
                    value + math.sqrt((high - value) ** 2 + extra))  # fmt: skip
    return out


def _cell_constraints(cell: str) -> tuple:
    """A replay cell's constraints (their keys name the recorded columns)."""
    from fairautoml.measures.constraints import parse_constraint

    return (parse_constraint(ALL_CELLS[cell][1]),)


def with_rule_noise(points: pd.DataFrame, level: float = 0.8) -> pd.DataFrame:
    """``points`` with ``robust_violation`` and ``assurance`` rebuilt from intervals widened
    by each point's rule noise (:func:`widened`): the pick had it counted the rule's
    fitting noise."""
    from fairautoml.measures.claims import assurance, robust_violation

    constraints = _cell_constraints(points["cell"].iloc[0])
    out = points.copy()
    robust, sure = [], []
    for row in points.itertuples(index=False):
        r = row._asdict()
        values = {c.key: r[c.key] for c in constraints}
        intervals = {c.key: (r[f"{c.key}_low"], r[f"{c.key}_high"]) for c in constraints}
        noise = {c.key: r[f"{c.key}_rule_se"] for c in constraints}
        noise = {k: v for k, v in noise.items() if np.isfinite(v)}
        intervals = widened(intervals, values, noise, level)
        robust.append(robust_violation(constraints, intervals))
        sure.append(assurance(constraints, values, intervals, level))
    out["robust_violation"], out["assurance"] = robust, sure
    return out


def policy_rule(
    confirmation: str = "first",
    levels: tuple[float, float] = (0.9, 0.9),
    ensembles: bool = True,
    rule_noise: bool = False,
):
    """The shipped :class:`~fairautoml.study.pick.PickPolicy` on the points, with the
    confirmed points (measured again on every row after a holdout search) treated as
    ``confirmation`` says: "first" (as shipped: a confirmed point ranks first in its
    tier), "supersedes" (a confirmed model's unconfirmed points are dropped, every other
    point competes on accuracy within its tier) or "ignored" (confirmed or not alike).
    ``levels``: the one-sided confidence with which an unconfirmed and a confirmed point
    must meet the constraints to be robust (as shipped: 0.9 both, the upper end of the
    central 80% interval; 0.8 for confirmed ones was measured and not adopted:
    ``docs/decisions.md``, "A confirmed point with a smaller margin"):
    a higher level is a larger margin, in each point's standard errors (its ``assurance``).
    ``ensembles=False``: the ensemble points are left out (what the pick would take from
    the same search without them; a search without ensembles spends their time otherwise).
    ``rule_noise``: each point's interval also counts its rule's fitting noise
    (:func:`with_rule_noise`; searches recorded with the noise only).
    The policy is the shipped one of the points' task (:func:`task_policy`)."""

    def pick(points: pd.DataFrame) -> pd.Series | None:
        if "confirmed" not in points:
            return None  # searches recorded before confirmation
        if rule_noise:
            if not any(c.endswith("_rule_se") for c in points):
                return None
            points = with_rule_noise(points)
        if "task" not in points and not points["confirmed"].any():
            return None  # as the binary reports were made (a search confirming nothing too)
        pts = points if ensembles else points[~points["ensemble"].astype(bool)]
        if pts.empty:
            return None
        pts = pts.copy()
        if levels != (0.9, 0.9):  # the recorded robust_violation is at 0.9
            z = np.where(pts["confirmed"], _z(levels[1]), _z(levels[0]))
            pts["robust_violation"] = np.where(pts["assurance"] >= z, -1.0, 1.0)
        if confirmation == "supersedes":
            confirmed_models = set(pts.loc[pts["confirmed"], "trained"])
            pts = pts[pts["confirmed"] | ~pts["trained"].isin(confirmed_models)]
        if confirmation != "first":
            pts["confirmed"] = False
        task = _task_of(points)
        ranked = task_policy(task).rank(pts.reset_index(drop=True), _metric(task))
        return points[points["trial"] == int(ranked.iloc[0]["trial"])].iloc[0]

    return pick


LADDER = tuple(_z(x) for x in (0.8, 0.7, 0.6, 0.5))
FINE = tuple(_z(x) for x in np.arange(0.85, 0.49, -0.05))
RULES = {
    "shipped (chosen)": None,
    "ladder 90% (replayed)": ladder_rule(_z(0.9), LADDER),
    # the same ladder asked from a lower level: what each step of confidence costs
    "ladder 80%": ladder_rule(_z(0.8), LADDER[1:]),
    "ladder 70%": ladder_rule(_z(0.7), LADDER[2:]),
    "ladder 60%": ladder_rule(_z(0.6), LADDER[3:]),
    "ladder 90%, fine steps": ladder_rule(_z(0.9), FINE),
    "90%, else safest ± 0.25 se": safest_rule(_z(0.9), 0.25),
    "90%, else safest ± 0.5 se": safest_rule(_z(0.9), 0.5),
    "95%, else safest ± 0.25 se": safest_rule(_z(0.95), 0.25),
    "prediction 90% (√2 se), else safest ± 0.25": safest_rule(_z(0.9) * math.sqrt(2), 0.25),
    "point (most accurate feasible)": ladder_rule(-math.inf, ()),
    "policy, confirmed first in its tier": policy_rule("first"),
    "policy, confirmed at 80% (e14875f)": policy_rule("first", (0.9, 0.8)),
    "policy, confirmed at 70%": policy_rule("first", (0.9, 0.7)),
    "policy, confirmed at 60%": policy_rule("first", (0.9, 0.6)),
    "policy, every point at 80%": policy_rule("first", (0.8, 0.8)),
    "policy, every point at 70%": policy_rule("first", (0.7, 0.7)),
    "policy, confirmation supersedes its model's points": policy_rule("supersedes"),
    "policy, confirmation ignored": policy_rule("ignored"),
    "policy, with the rule's fitting noise": policy_rule(rule_noise=True),
}
# issue 42 (a): would a larger margin, or no ensembles, keep the multiclass claim?
REFERENCE = "policy"  # the shipped policy, replayed: what the paired differences are against
MULTICLASS_RULES = {
    "shipped (chosen)": None,
    REFERENCE: policy_rule(),
    "policy, 95%": policy_rule(levels=(0.95, 0.95)),
    "policy, 97.5%": policy_rule(levels=(0.975, 0.975)),
    "policy, 99%": policy_rule(levels=(0.99, 0.99)),
    # the most any margin can keep: every search's point of the largest assurance
    "safest useful point": safest_rule(math.inf, 0.0),
    "policy, no ensembles": policy_rule(ensembles=False),
    "policy, 95%, no ensembles": policy_rule(levels=(0.95, 0.95), ensembles=False),
    "policy, with the rule's fitting noise": policy_rule(rule_noise=True),
    "most accurate feasible": RULES["point (most accurate feasible)"],
    # the binary replay's other rules (its first, policy and most accurate rows are above)
    **{
        rule: pick
        for rule, pick in RULES.items()
        if rule
        not in (
            "shipped (chosen)",
            "point (most accurate feasible)",
            "policy, confirmed first in its tier",
        )
    },
}


def _picks(points: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """Each rule's pick per search: within bound on test, test accuracy, balanced
    accuracy, noise floor (and, where recorded, whether an ensemble)."""
    picks = []
    for (cell, seed), g in points.groupby(["cell", "seed"], sort=False):
        for rule, pick in rules.items():
            row = g[g["chosen"]].iloc[0] if pick is None and g["chosen"].any() else (
                pick(g) if pick is not None else None)  # fmt: skip
            if row is None:
                continue
            picks.append({"rule": rule, "cell": cell, "seed": seed, "trial": int(row["trial"]),
                          "satisfied": bool(row["satisfied"]), "acc": _test_score(row),
                          "bal": row["test_balanced_accuracy"],
                          "floor": row["test_noise_floor"],
                          "ensemble": bool(row.get("ensemble", False))})  # fmt: skip
    return pd.DataFrame(picks)


def report(out: Path = OUT) -> None:
    points = pd.concat(pd.read_json(p, lines=True) for p in sorted(out.glob("points-*.jsonl.gz")))
    if _task_of(points) != "binary" or set(points["cell"]) <= set(HIDDEN_CELLS):
        lines = multiclass_report(points)
        (out / "report.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    frame = _picks(points, RULES)
    searches = points.groupby(["cell", "seed"]).ngroups
    lines = [
        "# Pick rules replayed on the same searches",
        "",
        f"Produced by `benchmarks/scripts/pick_replay.py` (protocol in its docstring): {searches} "
        f"searches, {len(points)} points scored on test. Per rule: picks within bound on "
        "test (+ 0.01) / picks and mean test accuracy of all picks, pooled and per cell. The "
        "last line: each cell's noise floor (the chance a perfectly fair model as useful as "
        "the shipped pick reads within bound on those test rows; `bench/measure.py`).",
        "",
        "| rule | within bound | mean test acc | mean bal. acc | " + " | ".join(CELLS) + " |",
        "|---|---|---|---|" + "---|" * len(CELLS),
    ]
    for rule in RULES:
        f = frame[frame["rule"] == rule]
        cells = [_cell_summary(f, cell) for cell in CELLS]
        lines.append(
            f"| {rule} | {int(f['satisfied'].sum())}/{len(f)} | {f['acc'].mean():.4f} | "
            f"{f['bal'].mean():.3f} | " + " | ".join(cells) + " |"
        )
    floors = frame[frame["rule"] == "shipped (chosen)"].groupby("cell")["floor"].mean()
    lines += ["", "Noise floor of the shipped picks per cell: "
              + ", ".join(f"{c} {v:.2f}" for c, v in floors.items()) + ".",
              "", *anytime_report(points)]  # fmt: skip
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


# --- anytime: the pick had the search stopped earlier ----------------------------------------

ANYTIME_SHARES = (0.25, 0.5)  # shares of a search's trials the early picks see
CAP_BANDS = (1.0, 2.0)  # ladder caps replayed, in standard errors of the validation metric


def _scored_rows(cell: str) -> int:
    """Rows a search of ``cell`` scores its points on: the fit's 80% of the table, all of
    them under cross-validation (``cv_folds="auto"``: up to 10,000 rows), else the 25%
    holdout."""
    from fairautoml.bench.runner import cell_task

    task, _ = cell_task(*ALL_CELLS[cell], 1, BUDGET, base=ROOT / "experiments")
    n = len(task.trainval[1])
    return n if n <= 10_000 else round(0.25 * n)


def capped_rule(band: float | None):
    """The shipped policy with confirmation ignored (the early picks have none) and, with
    ``band``, the ladder capped: when no point is robust, a step counts only if a useful
    feasible point within ``band`` standard errors (``0.5 / sqrt(rows scored)``, the
    largest of a share) of the most accurate one reaches it; points above the cap rank
    at it, by accuracy."""
    from fairautoml.study.pick import FEASIBLE, ROBUST

    sizes: dict[str, int] = {}

    def pick(points: pd.DataFrame) -> pd.Series | None:
        if points.empty:
            return None
        task = _task_of(points)
        metric = _metric(task)
        rows = list(points.itertuples(index=False))
        policy = task_policy(task).raised(rows)
        tiers = np.array([policy.tier(r) for r in rows])
        feasible = tiers == FEASIBLE
        steps = np.array([policy.step(r) for r in rows]) * feasible
        values = points[metric].to_numpy(float)
        score = np.where(tiers > INFEASIBLE, values, -points["violation"].to_numpy(float))
        if band is not None and not (tiers == ROBUST).any() and feasible.any():
            cell = str(points["cell"].iloc[0])
            n = sizes.setdefault(cell, _scored_rows(cell))
            best = values[feasible].max()
            near = feasible & (values >= best - band * 0.5 / math.sqrt(n))
            steps = np.minimum(steps, steps[near].max())
        order = sorted(
            range(len(rows)),
            key=lambda i: (tiers[i], steps[i], score[i], values[i], -int(rows[i].trial)),
            reverse=True,
        )
        return points.iloc[order[0]]

    return pick


ANYTIME_RULES = {
    "policy (confirmation ignored)": capped_rule(None),
    **{f"ladder capped at {b:g} se": capped_rule(b) for b in CAP_BANDS},
}


def anytime_report(points: pd.DataFrame) -> list[str]:
    """Per rule, the pick had each search stopped after a share of its trials (ensembles and
    confirmation, which come at a search's end, left out) against the pick from all of
    them: paired test accuracy (all searches), picks within bound, and the worst drop."""
    points = points[~points["ensemble"].astype(bool)] if "ensemble" in points else points
    frames = []
    for (cell, seed), g in points.groupby(["cell", "seed"], sort=False):
        last = g["trial"].max()
        for share in (*ANYTIME_SHARES, 1.0):
            seen = g[g["trial"] <= share * last]
            for rule, pick in ANYTIME_RULES.items():
                row = pick(seen)
                if row is not None:
                    frames.append({"rule": rule, "cell": cell, "seed": seed, "share": share,
                                   "acc": _test_score(row),
                                   "within": bool(row["satisfied"])})  # fmt: skip
    frame = pd.DataFrame(frames)
    lines = [
        "## Anytime: the pick had the search stopped earlier",
        "",
        "Each search replayed on its first quarter and half of trials (no ensembles, no "
        "confirmation: both come at a search's end) and on all of them; paired by search. "
        "The capped rules take a ladder step only if a point within that many standard "
        "errors of the most accurate feasible point reaches it (`capped_rule`).",
        "",
        "| rule | all − first quarter (points) | all − first half | worst drop | within "
        "bound (quarter / half / all) | mean test acc (all) | Δ vs policy (all) |",
        "|---|---|---|---|---|---|---|",
    ]
    wide = frame.pivot_table(index=["rule", "cell", "seed"], columns="share", values="acc")
    within = frame.pivot_table(index=["rule", "cell", "seed"], columns="share", values="within")
    reference = wide.loc["policy (confirmation ignored)"][1.0]
    for rule in ANYTIME_RULES:
        w, v = wide.loc[rule], within.loc[rule]
        gains = [100 * (w[1.0] - w[share]) for share in ANYTIME_SHARES]
        worst = min(float(g.min()) for g in gains)
        counts = " / ".join(f"{int(v[c].sum())}" for c in (*ANYTIME_SHARES, 1.0))
        lines.append(
            f"| {rule} | {_points_se(gains[0])} | {_points_se(gains[1])} | "
            f"{worst:+.1f} | {counts} of {len(v)} | {w[1.0].mean():.4f} | "
            f"{_points_se(100 * (w[1.0] - reference))} |"
        )
    return lines


def _points_se(values: pd.Series) -> str:
    """Mean ± standard error of differences in points (two decimals)."""
    values = values.dropna()
    if len(values) < 2:
        return f"{values.mean():+.2f}" if len(values) else "–"
    return f"{values.mean():+.2f} ± {values.std(ddof=1) / math.sqrt(len(values)):.2f}"


def _mean_se(values: pd.Series) -> str:
    if len(values) < 2:
        return f"{values.mean():+.4f}" if len(values) else "–"
    return f"{values.mean():+.4f} ± {values.std(ddof=1) / math.sqrt(len(values)):.4f}"


def multiclass_report(points: pd.DataFrame, share: float = 0.9) -> list[str]:
    """Issue 42's target (a) per rule: picks within bound on test in the cells whose noise
    floor (mean over the :data:`REFERENCE` picks) is at least ``share``, their mean test
    accuracy and the paired difference against the reference's (same search), ± its
    standard error; then every pick and each cell. Regression points (issue 38's
    :data:`REGRESSION_CELLS`) get the same report, test R² in place of accuracy."""
    frame = _picks(points, MULTICLASS_RULES)
    cells = [c for c in {**MULTICLASS_CELLS, **REGRESSION_CELLS} if c in set(frame["cell"])]
    cells += sorted(set(frame["cell"]) - set(cells))
    reference = frame[frame["rule"] == REFERENCE].set_index(["cell", "seed"])
    floors = reference.groupby("cell")["floor"].mean()
    allowed = [c for c in cells if not floors.get(c, math.nan) < share]
    searches = points.groupby(["cell", "seed"]).ngroups
    seeds = sorted(points["seed"].unique())
    score = "R²" if _task_of(points) == "regression" else "acc"
    lines = [
        f"# Pick rules replayed on the same {_task_of(points)} searches",
        "",
        f"Produced by `benchmarks/scripts/pick_replay.py` (protocol in its docstring): {searches} "
        f"searches (seeds {', '.join(map(str, seeds))}), {len(points)} points scored on "
        f"test. Cells whose noise floor (mean over the `{REFERENCE}` picks) is at least "
        f"{share}: {', '.join(allowed) or 'none'}. Per rule, in those cells: picks within "
        "bound on test (+ 0.01) / picks, mean test accuracy, the paired test-accuracy "
        f"difference against `{REFERENCE}` (the shipped pick policy replayed; same "
        "searches) ± its standard error, in how many of those searches the rule picks "
        "another point than it, and in how many its pick is within bound where the "
        "reference's is not (+) and the reverse (−); then every cell's picks within "
        "bound and mean test accuracy, and the share of picks that are ensembles. "
        "`shipped (chosen)` is the search's own pick; `policy, X%` asks every point to "
        "hold at one-sided X% (its assurance ≥ z(X) standard errors); `policy` holds at "
        "the level the searches recorded, one-sided 90% (the upper end of "
        "`confidence=0.8`'s two-sided interval: the level of yes/no decisions and amounts, "
        "and of several classes before `confidence='auto'`, which asks them 99%); "
        "`safest useful point` takes the point of the largest assurance (what a margin "
        "can keep at most); `no ensembles` leaves the "
        "ensemble points out of the same search; `most accurate feasible` takes the most "
        "accurate useful point that meets the constraints on validation, with no margin.",
        "",
        f"| rule | within bound (floor ≥ {share}) | mean test {score} | Δ {score} vs {REFERENCE} | "
        "other pick | within bound vs it | ensembles | " + " | ".join(cells) + " |",
        "|---|---|---|---|---|---|---|" + "---|" * len(cells),
    ]
    for rule in MULTICLASS_RULES:
        f = frame[frame["rule"] == rule]
        a = f[f["cell"].isin(allowed)]
        paired = a.set_index(["cell", "seed"])["acc"] - reference["acc"]
        mine = a.set_index(["cell", "seed"])
        theirs = reference.reindex(mine.index)
        moved = mine["trial"] != theirs["trial"]
        gained = int((mine["satisfied"] & ~theirs["satisfied"].astype(bool)).sum())
        lost = int((~mine["satisfied"] & theirs["satisfied"].astype(bool)).sum())
        per_cell = [_cell_summary(f, cell) for cell in cells]
        lines.append(
            f"| {rule} | {int(a['satisfied'].sum())}/{len(a)} | {a['acc'].mean():.4f} | "
            f"{_mean_se(paired.dropna())} | {int(moved.sum())} | +{gained} −{lost} | "
            f"{int(f['ensemble'].sum())}/{len(f)} | " + " | ".join(per_cell) + " |"
        )
    lines += ["", f"Noise floor of the `{REFERENCE}` picks per cell: "
              + ", ".join(f"{c} {floors[c]:.2f}" for c in cells if c in floors) + "."]  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["run", "report"])
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(ALL_CELLS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the points and report")
    parser.add_argument(
        "--blind", action="store_true", help="search and score without the group at predict time"
    )
    parser.add_argument("--budget", type=float, default=BUDGET, help="seconds per search")
    args = parser.parse_args()
    if args.action == "run":
        run(args.cells, args.seeds, args.out, args.blind, args.budget)
    else:
        report(args.out)


if __name__ == "__main__":
    sys.exit(main())
