"""How well does the bootstrap interval of a KS distance cover its true value?

The KS distance between two groups' prediction distributions is a supremum: on a sample
it reads above its true value by the sample's noise (two identical distributions read
about 0.87·sqrt(1/n₁ + 1/n₂) on average), and a bootstrap resample adds its own noise on
top. This script measures what that does to an interval at the audit's level (0.9), on
synthetic predictions whose true KS is known (two normal distributions a shift apart;
true KS = 2·Φ(shift/2) − 1), at the group sizes of the regression sweep's test rows:

* ``percentile``: the bootstrap's central percentile interval
  (:func:`fairautoml.measures.amount_bootstrap.bootstrap_ks`);
* ``basic``: the reverse-percentile bootstrap, 2·KS − the percentile interval's ends;
* ``shipped``: what :func:`fairautoml.measures.constraints.evaluate_intervals` reports and the
  audit reads: the bootstrap's upper end, and as lower end the smaller of the bootstrap's
  and the two-sample Kolmogorov bound
  (:func:`fairautoml.measures.amount_bootstrap.ks_lower_bound`).

Per true KS: the mean value read, each interval's mean ends, how often its upper end is
at or above the true value (what a claim needs) and its lower end at or below it (what a
"violated" verdict needs), and how often an audit reading it would say "violated" for a
bound of 0.05 while the true KS is within it.

    python -m benchmarks.scripts.ks_interval_coverage 200 > results/ks_interval_coverage.md
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.stats import norm

from benchmarks.scripts.interval_coverage import (
    interval_cells,
    preamble,
    table_header,
    violated_cells,
)
from fairautoml.measures.amount_bootstrap import bootstrap_ks
from fairautoml.measures.constraints import (
    evaluate_constraints,
    evaluate_intervals,
    parse_constraints,
)

LEVEL = 0.9  # the audit's default
BOUND = 0.05
SIZES = {
    "CPS 1988 test rows (440 against 5,190)": (440, 5190),
    "SLID test rows (400 against 430)": (400, 430),
}
COLUMNS = [
    "true KS", "mean KS read", "percentile [low, high]", "up", "low",
    "basic [low, high]", "up", "low", "shipped [low, high]", "up", "low",
    "false violated: percentile", "shipped",
]  # fmt: skip
TRUE_KS = (0.0, 0.02, 0.04, 0.06, 0.08)


def draw(n1: int, n2: int, true_ks: float, rng: np.random.Generator, seed: int) -> dict:
    shift = 2 * norm.ppf((true_ks + 1) / 2)
    groups = np.r_[np.zeros(n1, int), np.ones(n2, int)]
    pred = rng.normal(0.0, 1.0, groups.size) + shift * (groups == 0)
    (constraint,) = parse_constraints(f"demographic_parity_ks <= {BOUND}")
    value = evaluate_constraints([constraint], pred, pred, groups)[constraint.key]
    tail = (1 - LEVEL) / 2
    low, high = np.nanquantile(bootstrap_ks(pred, groups, 200, seed), [tail, 1 - tail])
    shipped = evaluate_intervals([constraint], pred, pred, groups, level=LEVEL, random_state=seed)
    return {
        "value": value,
        "percentile": (low, high),
        "basic": (2 * value - high, 2 * value - low),
        "shipped": shipped[constraint.key],
    }


def main(reps: int) -> None:
    rng = np.random.default_rng(0)
    preamble(
        "Coverage of the KS distance's interval (`benchmarks/scripts/ks_interval_coverage.py`)",
        reps,
        LEVEL,
        "*up*: share of draws whose upper end is at or above the true KS (nominal 0.95); "
        "*low*: lower end at or below it (nominal 0.95); *false violated*: the interval's "
        f"lower end above {BOUND} while the true KS is within it (an audit's verdict).",
    )
    for label, (n1, n2) in SIZES.items():
        print(f"## {label}\n")
        table_header(COLUMNS)
        for true_ks in TRUE_KS:
            rows = [draw(n1, n2, true_ks, rng, seed) for seed in range(reps)]
            cells = [f"{true_ks:.2f}", f"{np.mean([r['value'] for r in rows]):.3f}"]
            cells += interval_cells(rows, ("percentile", "basic", "shipped"), true_ks)
            verdicts = ("percentile", "shipped")
            within = true_ks <= BOUND  # above the bound, "violated" is no false verdict
            cells += violated_cells(rows, verdicts, BOUND) if within else ["–"] * len(verdicts)
            print("| " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
