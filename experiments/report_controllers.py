"""Markdown tables from the JSON lines of ``experiments/controllers.py``."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

COLUMNS = (
    "| variant | runs | mean test acc | mean test violation | share viol <= 0.06 "
    "| acc of satisfying runs | val acc of pick | trained models | in-processing runs "
    "| first feasible (s) | fit (s) |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def _mean(values: list) -> float:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else float("nan")


def _first_feasible(runs: list[dict]) -> str:
    found = [r["first_feasible_s"] for r in runs if r["first_feasible_s"] is not None]
    text = f"{_mean(found):.2f}" if found else "-"
    return text if len(found) == len(runs) else f"{text} ({len(found)}/{len(runs)} found)"


def _row(variant: str, runs: list[dict]) -> str:
    sat = [r for r in runs if r["test_satisfied"]]
    cells = [
        variant,
        str(len(runs)),
        f"{_mean([r['test_accuracy'] for r in runs]):.4f}",
        f"{_mean([r['test_violation'] for r in runs]):.4f}",
        f"{len(sat) / len(runs):.2f}",
        f"{_mean([r['test_accuracy'] for r in sat]):.4f} ({len(sat)})" if sat else "- (0)",
        f"{_mean([r['val_accuracy'] for r in runs]):.4f}",
        f"{_mean([r['trained'] for r in runs]):.1f}",
        f"{_mean([r['in_processing'] for r in runs]):.1f}",
        _first_feasible(runs),
        f"{_mean([r['fit_seconds'] for r in runs]):.1f}",
    ]
    return "| " + " | ".join(cells) + " |\n"


def _table(records: list[dict]) -> str:
    by_variant: dict[str, list[dict]] = defaultdict(list)
    several_budgets = len({r["budget"] for r in records}) > 1
    for r in records:
        label = r["variant"] + (f" @{r['budget']:g}s" if several_budgets else "")
        label += "" if r.get("sensitive_at_predict", True) else " (no group at predict)"
        by_variant[label].append(r)
    return COLUMNS + "".join(_row(v, runs) for v, runs in sorted(by_variant.items()))


def report(records: list[dict]) -> str:
    """Pooled table, then one table per dataset x constraint."""
    if not records:
        return "No records.\n"
    budgets = sorted({r["budget"] for r in records})
    seeds = sorted({r["seed"] for r in records})
    stand_ins = sorted({m for r in records for m in r.get("stand_ins", [])})
    out = [
        "# Controllers and allocator: test-set results\n\n",
        f"Budget {', '.join(f'{b:g}' for b in budgets)} s per fit; seeds {seeds}; split "
        "60/20/20 (stratified on label x group), test rows untouched until the chosen model "
        "is scored. Violation = max(0, test value - bound); a run *satisfies* the "
        "constraint when its test value <= bound + 0.01 (violation <= 0.06 for a 0.05 "
        'bound). "acc of satisfying runs" is the mean test accuracy over those runs (their '
        'number in brackets); "val acc of pick" is the chosen model\'s validation accuracy '
        "(what the search optimised). Trained models count fits (each also scored under every "
        "post-processor setting); first feasible = seconds from the start of fit to the "
        "first validation-feasible trial.\n\n",
    ]
    if stand_ins:
        out.append(
            f"In-processing mitigator(s) {', '.join(stand_ins)}: the stand-in of "
            "`experiments/stand_ins.py` (fairlearn ExponentiatedGradient).\n\n"
        )
    out += ["## All cells pooled\n\n", _table(records), "\n"]
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["dataset"], r["constraint"])].append(r)
    for (dataset, constraint), runs in sorted(groups.items()):
        out += [f"## {dataset}, {constraint}\n\n", _table(runs), "\n"]
    return "".join(out)
