"""Does refitting the pick on train + validation keep its fairness on test?

The bench's 60/20/20 splits; FairAutoML fits on the 80% with ``refit=False`` (60 s), then
the same pick is refitted by hand (what ``refit=True`` did before picks with a
post-processing rule were exempted) and both models are scored on the untouched test rows.

    python experiments/refit_check.py compas "demographic_parity_difference<=0.05" 0 1 2
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

import fairautoml
from fairautoml.bench.rows import split_rows
from fairautoml.constraints import parse_constraints
from fairautoml.evaluate import refit
from fairautoml.search_builder import search_context
from fairautoml.trial import Candidate


def main(dataset: str, constraint: str, seeds: list[int]) -> None:
    X, y, s = fairautoml.datasets.load(dataset)
    (c,) = parse_constraints(constraint)
    for seed in seeds:
        split = split_rows(y, s, seed)
        fit_rows = np.concatenate([split.train, split.val])
        Xf, yf, sf = X.iloc[fit_rows], y.iloc[fit_rows], s.iloc[fit_rows]
        Xt, yt, st = X.iloc[split.test], y.iloc[split.test].to_numpy(), s.iloc[split.test]
        est = fairautoml.FairAutoML(
            constraints=constraint, time_budget=60, random_state=seed, refit=False
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(Xf, yf, sensitive_features=sf)
            cfg = est.best_config_
            search_time = est.predict(Xt, sensitive_features=st)
            ctx, _ = search_context(est.get_params(), Xf, yf, sf)
            attrs = est.study_.trials[cfg["trial"]].user_attrs
            est.best_estimator_ = refit(Candidate.from_json(attrs["candidate"]), ctx,
                                        est.best_estimator_)  # fmt: skip
            refitted = est.predict(Xt, sensitive_features=st)
        for name, pred in (("search-time", search_time), ("refitted", refitted)):
            print(
                f"| {dataset} | {seed} | {cfg['model']} | {name} | {(pred == yt).mean():.4f} "
                f"| {c.value(yt, pred, st.to_numpy()):.4f} |",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3:]])
