"""How well does the interval of a largest gap between group rates cover its true value?

Demographic parity and equalized odds differences are the largest gap between groups'
rates: on a sample they read above their true value by every group's noise, and a
bootstrap resample adds its own noise on top, so the bootstrap interval's lower end sits
above the true value on small groups. An audit that reads the lower end then says
"violated" for a model that meets the bound. This script measures it at the audit's
level (0.9), on synthetic decisions whose true gaps are known (every group at the same
rates but the largest, a ``gap`` above them; for equalized odds both TPR and FPR), at
group sizes like the bundled tables' test rows:

* ``bootstrap``: the bootstrap's central percentile interval alone
  (:func:`fairautoml.measures.family.central_interval` of the rates' values);
* ``shipped``: what :func:`fairautoml.measures.constraints.evaluate_intervals` reports and the
  audit reads: the bootstrap's upper end, and as lower end the smaller of the bootstrap's
  and the pairwise bound (:func:`fairautoml.measures.decisions.rates_lower_bound`).

Per true gap: the mean value read, each interval's mean ends, how often its upper end is
at or above the truth (what a claim needs) and its lower end at or below it (what a
"violated" verdict needs), and how often an audit would say "violated" for a bound of
0.05: a false verdict while the true gap is within it, the audit's power above it.

    python -m benchmarks.scripts.rates_interval_coverage 200 > results/rates_interval_coverage.md
"""

from __future__ import annotations

import sys

import numpy as np

from benchmarks.scripts.interval_coverage import (
    interval_cells,
    preamble,
    table_header,
    violated_cells,
)
from fairautoml.measures.constraints import (
    evaluate_constraints,
    evaluate_intervals,
    parse_constraints,
)
from fairautoml.measures.decisions import bootstrap_counts, rates_from_counts
from fairautoml.measures.family import central_interval

LEVEL = 0.9  # the audit's default
BOUND = 0.05
SIZES = {
    "two groups, 300 and 700 rows": (300, 700),
    "COMPAS age bins' test rows (306, 315, 822)": (306, 315, 822),
    "four groups, two small (120, 80, 600, 700)": (120, 80, 600, 700),
}
METRICS = ("demographic_parity_difference", "equalized_odds_difference")
COLUMNS = [
    "true gap", "mean read", "bootstrap [low, high]", "up", "low",
    "shipped [low, high]", "up", "low", "says violated: bootstrap", "shipped",
]  # fmt: skip
TRUE_GAPS = (0.0, 0.03, 0.05, 0.08, 0.15)


def draw(metric: str, sizes: tuple[int, ...], gap: float, rng, seed: int) -> dict:
    groups = np.concatenate([np.full(n, i) for i, n in enumerate(sizes)])
    y = (rng.random(groups.size) < 0.45).astype(int)
    shifted = groups == int(np.argmax(sizes))
    if metric == "demographic_parity_difference":
        rate = 0.4 + gap * shifted
    else:  # TPR 0.6 and FPR 0.2, both a gap higher in the largest group
        rate = np.where(y == 1, 0.6, 0.2) + gap * shifted
    pred = (rng.random(groups.size) < rate).astype(int)
    (c,) = parse_constraints([f"{metric} <= {BOUND}"])
    counts = bootstrap_counts(y, pred, groups, 200, seed)
    return {
        "value": evaluate_constraints([c], y, pred, groups)[c.key],
        "bootstrap": central_interval(c.from_rates(rates_from_counts(*counts)), LEVEL),
        "shipped": evaluate_intervals([c], y, pred, groups, level=LEVEL, random_state=seed)[c.key],
    }


def main(reps: int) -> None:
    rng = np.random.default_rng(0)
    preamble(
        "Coverage of a largest rate gap's interval "
        "(`benchmarks/scripts/rates_interval_coverage.py`)",
        reps,
        LEVEL,
        "*up*: share of draws whose upper end is at or above the true gap (nominal 0.95); "
        "*low*: lower end at or below it (nominal 0.95); *says violated*: the interval's "
        f"lower end above {BOUND} (an audit's verdict: false while the true gap is within "
        "the bound, at most 0.05 is nominal; above it, the audit's power).",
    )
    for metric in METRICS:
        for label, sizes in SIZES.items():
            print(f"## `{metric}`, {label}\n")
            table_header(COLUMNS)
            for gap in TRUE_GAPS:
                rows = [draw(metric, sizes, gap, rng, seed) for seed in range(reps)]
                cells = [f"{gap:.2f}", f"{np.mean([r['value'] for r in rows]):.3f}"]
                cells += interval_cells(rows, ("bootstrap", "shipped"), gap)
                cells += violated_cells(rows, ("bootstrap", "shipped"), BOUND)
                print("| " + " | ".join(cells) + " |")
            print()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
