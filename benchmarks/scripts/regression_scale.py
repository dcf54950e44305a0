"""A 1M-row synthetic regression table: does FairAutoMLRegressor keep its time budget and
fit in memory? Prints one JSON line (results/regression_scale/).

    python -m benchmarks.scripts.regression_scale 120 > results/regression_scale/run.json
"""

import json
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd

from fairautoml import FairAutoMLRegressor

warnings.simplefilter("ignore")
n = 1_000_000
rng = np.random.default_rng(0)
g = rng.integers(0, 2, n)
X = pd.DataFrame({f"x{i}": rng.normal(size=n) + (0.5 * g if i < 3 else 0) for i in range(10)})
X["cat"] = pd.Categorical(rng.choice(list("abcdefgh"), n))
y = X["x0"] * 2 + X["x1"] - X["x2"] + 1.5 * g + rng.normal(size=n)
s = np.where(g, "f", "m")
budget = float(sys.argv[1])
t = time.monotonic()
m = FairAutoMLRegressor(
    constraints="demographic_parity_ks <= 0.05", time_budget=budget, random_state=0
)
m.fit(X, y, sensitive_features=s)
took = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(
    json.dumps(
        {
            "rows": n,
            "budget": budget,
            "fit_seconds": round(took, 1),
            "over_budget": round(took / budget - 1, 3),
            "peak_rss_mb": round(rss),
            "trials": len(m.leaderboard_),
            "pick": m.best_config_["model"],
            "r2": round(m.best_config_["r2"], 4),
            "ks": round(m.best_config_["constraint_values"]["demographic_parity_ks"], 4),
            "tier": m.best_config_["tier"],
        }
    )
)
