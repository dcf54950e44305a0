"""Fixed-trial searches whose leaderboards must not change when code moves.

A search of ``n_trials`` trials with no time budget and a fixed seed is deterministic: the
same candidates, the same numbers, trial by trial. Its leaderboard, less what depends on
the clock or the process (``fit_time``, ``worker``), is written under
``tests/data/leaderboards/`` and compared by ``tests/test_fixed_trial_leaderboards.py``:
the proof that a refactor (issue 57's packages) left behaviour unchanged.

    python -m fairautoml.testing.fixed_trials tests/data/leaderboards   # write them anew
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import pandas as pd

from fairautoml import datasets
from fairautoml.estimators.automl import estimator_for

# one table per task, each with the package's defaults (ensembles, confirmation, the
# task's default rule and confidence); trials enough that post-processing, in-processing
# and an ensemble all run
CASES = {"adult": 20, "cps1988": 20, "bankwages": 20}
CLOCK_COLUMNS = ("fit_time", "worker")  # the machine's, not the search's


def fixed_trial_leaderboard(name: str, n_trials: int | None = None) -> pd.DataFrame:
    """The leaderboard of the fixed-trial search on the bundled table ``name``, as text
    (every value as the CSV writes it, so that a comparison is exact)."""
    X, y, s = datasets.load(name)
    task = next(i.task for i in datasets.available() if i.name == name)
    cls = estimator_for(task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl = cls(n_trials=n_trials or CASES[name], time_budget=None, random_state=0)
        automl.fit(X, y, sensitive_features=s)
    board = automl.leaderboard_.drop(columns=list(CLOCK_COLUMNS))
    return board.astype(str).reset_index(drop=True)


def path_of(folder: Path, name: str) -> Path:
    return Path(folder) / f"{name}.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("names", nargs="*", default=list(CASES))
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        fixed_trial_leaderboard(name).to_csv(path_of(args.folder, name), index=False)
        print(f"wrote {path_of(args.folder, name)}")


if __name__ == "__main__":
    main()
