"""Each mitigator applied to a default LightGBM: test accuracy, test violation, fit time.

Adult (sensitive: sex) and COMPAS (race: the four groups the loader gives, and
African-American vs other, since the bias-score rule takes two groups). Constraints:
demographic parity difference <= 0.05 and equalized odds difference <= 0.05. Split
stratified on target x group, 60/20/20 train/validation/test, seed 0. Training mitigators
fit on the training rows; post-processors are fitted on the validation scores (exactly as
a search trial: ``fairautoml.evaluate.evaluate_candidate``). Every number on the test
rows; fairness values from ``fairlearn.metrics`` via ``Constraint.value``. Mitigator
parameters are their spaces' defaults. One thread.

Run: ``python experiments/mitigator_table.py`` -> ``results/mitigators.md``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

import fairautoml
from fairautoml.constraints import parse_constraints
from fairautoml.data import prepare_fit_data
from fairautoml.evaluate import evaluate_candidate
from fairautoml.learners import get_learner
from fairautoml.metrics import get_metric
from fairautoml.mitigators import get_mitigator
from fairautoml.trial import Candidate, SearchContext

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ["demographic_parity_difference <= 0.05", "equalized_odds_difference <= 0.05"]
SEED = 0
# re-runs with other parameters, for cells where the defaults did not lower the test gap
VARIANTS = {
    ("adult / sex", CONSTRAINTS[1]): [("group_thresholds", {"slack": 0.5})],
    ("compas / race (4 groups)", CONSTRAINTS[0]): [
        ("grid_search", {"grid_size": 64}),
        ("reweighing", {"strength": 0.5}),
    ],
    ("compas / race (4 groups)", CONSTRAINTS[1]): [("grid_search", {"grid_size": 64})],
}
VARIANT_COLUMNS = ["setting", "mitigator", "test acc", "test gap", "val gap", "fit s"]


def settings() -> dict[str, tuple[pd.DataFrame, pd.Series, pd.Series]]:
    adult = fairautoml.datasets.load("adult", "sex")
    X, y, race = fairautoml.datasets.load("compas", "race")
    two = pd.Series(np.where(race == "African-American", "African-American", "other"), name="race")
    return {
        "adult / sex": adult,
        "compas / race (4 groups)": (X, y, race),
        "compas / race (African-American vs other)": (X, y, two),
    }


def split(y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx, strata = np.arange(len(y)), groups * 2 + y
    train, rest = train_test_split(idx, test_size=0.4, stratify=strata, random_state=SEED)
    val, test = train_test_split(rest, test_size=0.5, stratify=strata[rest], random_state=SEED)
    return np.sort(train), np.sort(val), np.sort(test)


def run_one(
    ctx: SearchContext, test: np.ndarray, learner: str, mitigator: str, **params: object
) -> dict:
    m = get_mitigator(mitigator)
    lp, mp = get_learner(learner).space.defaults(), {**m.space.defaults(), **params}
    if m.stage == "post":
        candidate = Candidate(learner, lp, "none", {}, mitigator, mp)
    else:
        candidate = Candidate(learner, lp, mitigator, mp)
    start = time.perf_counter()
    evaluation = evaluate_candidate(candidate, ctx)
    seconds = time.perf_counter() - start
    r = evaluation.result
    if r.status != "ok":
        return {"mitigator": mitigator, "error": (r.error or "").split("\n")[0]}
    X, y, g = ctx.data.subset(test)
    pred = (evaluation.model.positive_proba(X, g) >= 0.5).astype(int)
    c = ctx.constraints[0]
    value = c.value(y, pred, g)
    return {
        "mitigator": mitigator + "".join(f" {k}={v}" for k, v in params.items()),
        "stage": m.stage,
        "test acc": float(np.mean(pred == y)),
        "test gap": value,
        "test violation": max(0.0, c.violation(value)),
        "val gap": r.constraint_values[c.metric],
        "fit s": seconds,
        "randomized": m.randomized,
        "group at predict": evaluation.model.needs_group,
    }


def table(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows)
    base = frame.loc[frame["mitigator"] == "none"].iloc[0]
    frame["Δ acc"] = frame["test acc"] - base["test acc"]
    frame["Δ gap"] = frame["test gap"] - base["test gap"]
    frame["gap cut"] = 1 - frame["test gap"] / base["test gap"]
    frame["lowered"] = np.where(frame["mitigator"] == "none", "", frame["Δ gap"] < 0)
    columns = [
        "mitigator", "stage", "test acc", "Δ acc", "test gap", "Δ gap", "gap cut",
        "test violation", "lowered", "val gap", "fit s", "randomized", "group at predict",
    ]  # fmt: skip
    return to_markdown(frame[[c for c in columns if c in frame]])


def to_markdown(frame: pd.DataFrame) -> str:
    def fmt(column: str, v: object) -> str:
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, float):
            if np.isnan(v):
                return ""
            if column == "gap cut":
                return f"{100 * v:.0f}%"
            return f"{v:+.4f}" if column.startswith("Δ") else f"{v:.4f}"
        return str(v)

    head = "| " + " | ".join(frame.columns) + " |"
    sep = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(fmt(c, v) for c, v in zip(frame.columns, row, strict=True)) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, sep, *body])


def main() -> None:
    started = time.perf_counter()
    lines = [
        "# Mitigators on a default LightGBM",
        "",
        "Generated by `experiments/mitigator_table.py` (see its docstring for the protocol):",
        "stratified (target x group) 60/20/20 train/validation/test split, seed 0; training",
        "mitigators fit on train, post-processors on the validation scores; all numbers on test.",
        "Mitigator parameters are their spaces' defaults; LightGBM's defaults; one thread.",
        "",
        "- `test gap`: the constrained metric on test (fairlearn); `test violation` = max(0, gap",
        "  - 0.05). `Δ` columns are against `none` (the same LightGBM unmitigated); `gap cut`",
        "  is the share of the unmitigated gap removed; `lowered`: did the test gap go down.",
        "- `val gap`: on validation (cross-fitted for post-processors, as in a search trial).",
        "- `fit s`: wall time of the trial (train, score validation, fit and cross-fit the rule).",
        "",
    ]
    extra, variants = [], []
    for name, (X, y, s) in settings().items():
        data = prepare_fit_data(X, y, s)
        train, val, test = split(data.y, data.groups)
        sizes = f"train {len(train)}, validation {len(val)}, test {len(test)}"
        lines += [f"## {name}", "", f"{len(data.group_encoder.labels)} groups; {sizes}.", ""]
        for spec in CONSTRAINTS:
            constraints = parse_constraints(spec)
            ctx = SearchContext(data, train, val, constraints, get_metric("accuracy"), SEED)
            names = [
                m
                for m in fairautoml.available_mitigators()
                if m == "none" or get_mitigator(m).supports(constraints)
            ]
            rows = [run_one(ctx, test, "lightgbm", m) for m in names]
            failed = [r for r in rows if "error" in r]
            rows = [r for r in rows if "error" not in r]
            lines += [f"### {spec}", "", table(rows), ""]
            lines += [f"- {r['mitigator']}: failed: {r['error']}" for r in failed]
            lines += [""] if failed else []
            for mitigator, params in VARIANTS.get((name, spec), []):
                row = run_one(ctx, test, "lightgbm", mitigator, **params)
                row["test gap"] = row.get("test gap", np.nan)
                variants.append({"setting": f"{name}, {spec}", **row})
            if "correlation_remover" in names:
                lr = [
                    run_one(ctx, test, "logistic_regression", m)
                    for m in ("none", "correlation_remover")
                ]
                extra += [f"### {name}, {spec}: logistic regression", "", table(lr), ""]
    lines += [
        "## Context: correlation_remover with a linear learner",
        "",
        "CorrelationRemover removes *linear* correlation with the group by shifting every",
        "feature by a group-dependent offset. On discrete features (one-hot columns, integer",
        "ages) the shift makes each value group-specific, so a tree can read the group back:",
        "with LightGBM it tends to raise the gap. With the linear learner it suits:",
        "",
        *extra,
        "## Investigations: other parameters where a default did not lower the gap",
        "",
        "Same splits, LightGBM defaults; only the named parameter differs from the tables.",
        "",
        to_markdown(pd.DataFrame(variants)[VARIANT_COLUMNS]) if variants else "(none run)",
        "",
        f"Total run time {time.perf_counter() - started:.0f} s.",
        "",
    ]
    out = ROOT / "results" / "mitigators.md"
    out.write_text("\n".join(lines))
    print(out.read_text())


if __name__ == "__main__":
    main()
